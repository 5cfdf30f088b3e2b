using System.Globalization;
using System.Text.RegularExpressions;
using Parley.Core.Configuration;
using Parley.Hosting;
using Parley.Testing;

namespace Parley.Tests;

/// <summary>docs/configuration.md and README.md stay true to the code.</summary>
public sealed partial class DocumentationTests
{
    private static readonly string ConfigurationDoc = File.ReadAllText(Path.Combine(TestEnvironment.RepositoryRoot, "docs", "configuration.md"));

    public static TheoryData<string> SettingNames()
    {
        var data = new TheoryData<string>();
        foreach (var descriptor in SettingsBinder.Describe(SettingsLoader.OptionTypes))
        {
            data.Add(descriptor.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SettingNames))]
    public void Every_setting_has_a_row_with_its_true_default(string name)
    {
        var descriptor = SettingsBinder.Describe(SettingsLoader.OptionTypes).Single(d => d.Name == name);
        var row = RowPattern().Matches(ConfigurationDoc).FirstOrDefault(m => m.Groups["name"].Value == name);

        Assert.True(row is not null, $"docs/configuration.md has no table row for {name}");
        Assert.Equal(FormatDefault(descriptor.Default), row.Groups["default"].Value.Trim());
    }

    [Fact]
    public void The_readme_gives_the_two_quick_start_commands()
    {
        var readme = File.ReadAllText(Path.Combine(TestEnvironment.RepositoryRoot, "README.md"));

        Assert.Contains("dotnet run --project src/Parley -- serve", readme, StringComparison.Ordinal);
        Assert.Contains("./test.sh", readme, StringComparison.Ordinal);
        Assert.Contains("docs/configuration.md", readme, StringComparison.Ordinal);
    }

    private static string FormatDefault(object? value) => value switch
    {
        null => "—",
        string[] { Length: 0 } => "—",
        string[] items => $"`{string.Join(",", items)}`",
        bool flag => flag ? "`true`" : "`false`",
        IFormattable formattable => $"`{formattable.ToString(null, CultureInfo.InvariantCulture)}`",
        _ => $"`{value}`",
    };

    [GeneratedRegex(@"^\| `(?<name>[A-Z0-9_]+)` \|(?<default>[^|]*)\|", RegexOptions.Multiline)]
    private static partial Regex RowPattern();
}
