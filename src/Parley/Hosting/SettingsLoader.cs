using Microsoft.Extensions.Configuration;
using Parley.Core.Configuration;
using Parley.Data;

namespace Parley.Hosting;

/// <summary>Where a command's settings come from, beyond the environment.</summary>
public sealed record SettingsSources(string? ConfigFile, IReadOnlyDictionary<string, string?> Overrides);

/// <summary>
/// Reads settings from, later wins: built-in defaults (the options classes' initializers), appsettings.json
/// (top-level keys are the variable names), the environment, and the command line. Every options class
/// of the process is listed in <see cref="OptionTypes"/>, which is also what docs/configuration.md is checked against.
/// </summary>
public static class SettingsLoader
{
    public static readonly IReadOnlyList<Type> OptionTypes =
    [
        typeof(ServerOptions),
        typeof(DatabaseOptions),
        typeof(Parley.Api.ApiOptions),
        typeof(AuthOptions),
        typeof(RedisOptions),
        typeof(FeatureOptions),
        typeof(OAuthOptions),
        typeof(DashboardOptions),
        typeof(CalendarOptions),
        typeof(TranscriptionOptions),
        typeof(EmailOptions),
        typeof(SvixOptions),
        typeof(StripeOptions),
        typeof(Parley.Infrastructure.Aws.AwsOptions),
        typeof(Parley.Infrastructure.Storage.StorageOptions),
        typeof(Parley.Core.Storage.FallbackStorageOptions),
        typeof(Parley.Infrastructure.Queues.QueueOptions),
        typeof(Parley.Infrastructure.Locks.LockOptions),
        typeof(Parley.Orchestration.OrchestratorOptions),
        typeof(Parley.Orchestration.Platforms.Ecs.EcsOptions),
        typeof(Parley.Orchestration.Platforms.Kubernetes.KubernetesOptions),
        typeof(Parley.Orchestration.Platforms.Coolify.CoolifyOptions),
        typeof(Parley.Bots.BotOptions),
        typeof(Parley.Core.Meetings.MeetingOptions),
        typeof(RtcOptions),
        typeof(SfuNodeOptions),
    ];

    public static SettingsBindResult Load(SettingsSources sources, TextWriter warnings)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(warnings);
        var builder = new ConfigurationBuilder();
        var file = sources.ConfigFile ?? Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json");
        var fileProblems = new List<ConfigProblem>();
        if (sources.ConfigFile is not null && !File.Exists(file))
        {
            fileProblems.Add(new ConfigProblem("--config", sources.ConfigFile, "expected an existing JSON settings file"));
        }
        else if (File.Exists(file))
        {
            builder.AddJsonFile(Path.GetFullPath(file), optional: true, reloadOnChange: false);
        }

        builder.AddEnvironmentVariables();
        builder.AddInMemoryCollection(sources.Overrides);

        IConfiguration configuration;
        try
        {
            configuration = builder.Build();
        }
        catch (Exception ex) when (ex is FormatException or InvalidDataException or System.Text.Json.JsonException)
        {
            fileProblems.Add(new ConfigProblem(file, null, $"the file is not valid JSON: {ex.InnerException?.Message ?? ex.Message}"));
            configuration = new ConfigurationBuilder().AddEnvironmentVariables().AddInMemoryCollection(sources.Overrides).Build();
        }

        var result = SettingsBinder.Bind(OptionTypes, name => configuration[name]);
        WarnAboutUnknownVariables(warnings);
        return result.WithProblemsFirst(fileProblems);
    }

    /// <summary>A misspelt PARLEY_ variable would otherwise be ignored without a word.</summary>
    private static void WarnAboutUnknownVariables(TextWriter warnings)
    {
        var known = SettingsBinder.Describe(OptionTypes).Select(d => d.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var key in Environment.GetEnvironmentVariables().Keys.Cast<string>().Order(StringComparer.Ordinal))
        {
            if (key.StartsWith("PARLEY_", StringComparison.OrdinalIgnoreCase)
                && !key.StartsWith("PARLEY_TEST_", StringComparison.OrdinalIgnoreCase)
                && !known.Contains(key))
            {
                warnings.WriteLine($"warning: {key} is not a Parley setting and is ignored (see docs/configuration.md)");
            }
        }
    }

    /// <summary>Prints one line per problem, the format operators grep for.</summary>
    public static void Report(IReadOnlyList<ConfigProblem> problems, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(problems);
        ArgumentNullException.ThrowIfNull(error);
        error.WriteLine($"parley: {problems.Count} configuration problem(s); nothing was started:");
        foreach (var problem in problems)
        {
            error.WriteLine($"  {problem}");
        }
    }
}
