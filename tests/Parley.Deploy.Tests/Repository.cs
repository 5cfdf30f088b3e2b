using System.CommandLine;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Parley.Api.Jobs;
using Parley.Core.Configuration;
using Parley.Testing;

namespace Parley.Deploy.Tests;

/// <summary>The files under test and the facts they must agree with: documented settings, commands, roles and jobs.</summary>
internal static partial class Repository
{
    public static string Root => TestEnvironment.RepositoryRoot;

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>
    /// Every setting docs/configuration.md documents: the first column of the tables of its "Settings" section
    /// (the source of truth for names; the table of test-only variables after it does not count).
    /// </summary>
    public static IReadOnlySet<string> DocumentedSettings { get; } = ReadDocumentedSettings();

    private static HashSet<string> ReadDocumentedSettings()
    {
        var doc = File.ReadAllText(PathOf("docs", "configuration.md"));
        var start = doc.IndexOf("\n## Settings", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/configuration.md has no \"## Settings\" section");
        var end = doc.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var section = end < 0 ? doc[start..] : doc[start..end];
        var names = SettingRow().Matches(section).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);
        Assert.True(names.Count > 50, $"only {names.Count} settings found in docs/configuration.md: has the table format changed?");
        return names;
    }

    [GeneratedRegex(@"^\| `(?<name>[A-Z][A-Z0-9_]*)` \|", RegexOptions.Multiline)]
    private static partial Regex SettingRow();
}

/// <summary>
/// The real `parley` command line: every command a manifest, compose file or Dockerfile runs is parsed by
/// the parser the executable uses, so a renamed option or a mistyped subcommand fails here, not in a pod.
/// </summary>
internal static class ParleyCli
{
    private static readonly Lazy<RootCommand> Root = new(() =>
    {
        var type = typeof(Parley.Hosting.VersionInfo).Assembly.GetType("Parley.Cli.ParleyCommandLine", throwOnError: true)!;
        return (RootCommand)type.GetMethod("Build")!.Invoke(null, null)!;
    });

    /// <summary>The roles `parley serve --roles` accepts (the default of PARLEY_ROLES is all of them).</summary>
    public static IReadOnlySet<string> Roles { get; } = new ServerOptions().Roles.ToHashSet(StringComparer.Ordinal);

    /// <summary>The names `parley job run NAME` knows, read from the job classes themselves.</summary>
    public static IReadOnlySet<string> JobNames { get; } = typeof(IParleyJob).Assembly.GetTypes()
        .Where(t => typeof(IParleyJob).IsAssignableFrom(t) && t is { IsClass: true, IsAbstract: false })
        .Select(t => ((IParleyJob)RuntimeHelpers.GetUninitializedObject(t)).Name)
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// Asserts that `parley ARGS` is a command Parley has, with valid options, roles and job names, and
    /// returns the command path ("serve", "job run", "bot run", ...).
    /// </summary>
    public static string AssertValid(IReadOnlyList<string> args, string where)
    {
        Assert.True(args.Count > 0, $"{where}: no arguments: the image's default command would run, say which one");
        var parse = Root.Value.Parse(args.ToArray());
        Assert.True(parse.Errors.Count == 0, $"{where}: `parley {string.Join(' ', args)}` does not parse: {string.Join("; ", parse.Errors.Select(e => e.Message))}");
        var path = new List<string>();
        for (var result = parse.CommandResult; result.Parent is System.CommandLine.Parsing.CommandResult parent; result = parent)
        {
            path.Insert(0, result.Command.Name);
        }

        var command = string.Join(' ', path);
        Assert.True(command is "serve" or "migrate" or "job run" or "bot run" or "doctor" or "version",
            $"{where}: `parley {string.Join(' ', args)}` runs `{command}`, not a command a deployment runs");
        if (command == "serve")
        {
            var index = args.ToList().IndexOf("--roles");
            Assert.True(index >= 0, $"{where}: `parley serve` without --roles runs every role; name the roles of this deployment");
            foreach (var role in args[index + 1].Split(','))
            {
                Assert.True(Roles.Contains(role), $"{where}: unknown role '{role}'; parley knows {string.Join(", ", Roles)}");
            }
        }

        if (command == "job run")
        {
            var name = args[^1];
            Assert.True(JobNames.Contains(name), $"{where}: unknown job '{name}'; parley knows {string.Join(", ", JobNames.Order())}");
        }

        return command;
    }
}
