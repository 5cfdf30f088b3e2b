using System.CommandLine;
using Parley.Core.Configuration;
using Parley.Hosting;

namespace Parley.Cli;

/// <summary>
/// The command-line layer of configuration, shared by every command that reads settings: a settings file,
/// `--set KEY=VALUE` for any variable, and a data directory shortcut. The command line wins over everything.
/// </summary>
internal sealed class SettingsOptions
{
    public Option<string?> Config { get; } = new("--config")
    {
        Description = "JSON settings file whose top-level keys are variable names (default: ./appsettings.json when present).",
    };

    public Option<string[]> Set { get; } = new("--set")
    {
        Description = "Sets a variable for this run, as KEY=VALUE; repeatable; wins over the environment and the settings file.",
        Arity = ArgumentArity.ZeroOrMore,
    };

    public Option<string?> DataDirectory { get; } = new("--data-dir")
    {
        Description = "Data directory (PARLEY_DATA_DIR).",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Config);
        command.Options.Add(Set);
        command.Options.Add(DataDirectory);
    }

    /// <summary>Reads the sources; `--set` items that are not KEY=VALUE are problems like any other.</summary>
    public (SettingsSources Sources, List<ConfigProblem> Problems) Read(ParseResult parse, IEnumerable<KeyValuePair<string, string?>> shortcuts)
    {
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var problems = new List<ConfigProblem>();
        foreach (var item in parse.GetValue(Set) ?? [])
        {
            var eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                problems.Add(new ConfigProblem("--set", item, "expected KEY=VALUE"));
                continue;
            }

            overrides[item[..eq].Trim()] = item[(eq + 1)..];
        }

        if (parse.GetValue(DataDirectory) is { } dataDirectory)
        {
            overrides["PARLEY_DATA_DIR"] = dataDirectory;
        }

        foreach (var (key, value) in shortcuts)
        {
            if (value is not null)
            {
                overrides[key] = value;
            }
        }

        return (new SettingsSources(parse.GetValue(Config), overrides), problems);
    }

    /// <summary>Loads and validates; prints the problems and returns false when there are any.</summary>
    public bool TryLoad(ParseResult parse, IEnumerable<KeyValuePair<string, string?>> shortcuts, out SettingsBindResult settings)
    {
        var (sources, problems) = Read(parse, shortcuts);
        settings = SettingsLoader.Load(sources, Console.Error).WithProblemsFirst(problems);
        if (settings.IsValid)
        {
            return true;
        }

        SettingsLoader.Report(settings.Problems, Console.Error);
        return false;
    }
}
