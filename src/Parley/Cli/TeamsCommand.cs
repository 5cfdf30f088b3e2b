using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Parley.Api.Http;
using Parley.Api.Teams;
using Parley.Core.Configuration;
using Parley.Data;
using Parley.Hosting;

namespace Parley.Cli;

/// <summary>`parley teams create|list|delete`: the admin API's team operations, straight on the database.</summary>
internal static class TeamsCommand
{
    public static Command Create()
    {
        var command = new Command("teams", "Manages the teams of multi-tenant mode on the configured database, without the HTTP API.");
        command.Subcommands.Add(CreateTeam());
        command.Subcommands.Add(ListTeams());
        command.Subcommands.Add(DeleteTeam());
        return command;
    }

    private static Command CreateTeam()
    {
        var name = new Option<string>("--name") { Description = "The team's name, 1 to 255 characters.", Required = true };
        var json = TeamAdministration.JsonOption();
        return TeamAdministration.Leaf("teams create", "Creates a team and its first API key, and prints the key once.", [name, json], async (parse, teams, cancellationToken) =>
        {
            var teamName = parse.GetValue(name)!;
            if (TeamService.CheckName(teamName, required: true) is { } problem)
            {
                return TeamAdministration.Usage("teams create", $"--name {problem}");
            }

            var created = await teams.CreateTeamAsync(teamName, null, cancellationToken);
            return TeamAdministration.Output(parse.GetValue(json), created, c =>
            {
                Console.Out.WriteLine($"Created team {c.TeamId} ({c.Name}).");
                TeamAdministration.PrintNewKey(c.ApiKey);
            });
        });
    }

    private static Command ListTeams()
    {
        var includeDeleted = new Option<bool>("--include-deleted") { Description = "Also lists soft-deleted teams." };
        var json = TeamAdministration.JsonOption();
        return TeamAdministration.Leaf("teams list", "Lists teams, newest first.", [includeDeleted, json], async (parse, teams, cancellationToken) =>
        {
            var all = new List<TeamView>();
            Cursor? cursor = null;
            do
            {
                var (items, next, _) = await teams.ListTeamsAsync(parse.GetValue(includeDeleted), cursor, 100, cancellationToken);
                all.AddRange(items);
                cursor = next is not null && Cursor.TryDecode(next, out var decoded) ? decoded : null;
            }
            while (cursor is not null);

            return TeamAdministration.Output(parse.GetValue(json), all, list => TeamAdministration.WriteTable(
                ["ID", "NAME", "CREATED", "DELETED"],
                list.Select(t => new[] { t.TeamId, t.Name, TeamAdministration.Time(t.CreatedAt), TeamAdministration.Time(t.DeletedAt) })));
        });
    }

    private static Command DeleteTeam()
    {
        var teamId = new Argument<string>("team-id") { Description = "The team to delete." };
        return TeamAdministration.Leaf("teams delete", "Soft-deletes a team: its API keys stop working; its data is removed after TEAM_DELETION_GRACE_DAYS.", [teamId], async (parse, teams, cancellationToken) =>
        {
            var id = parse.GetValue(teamId)!;
            var result = await teams.DeleteTeamAsync(id, cancellationToken);
            if (result.Outcome != TeamOutcome.Ok)
            {
                return TeamAdministration.NotFound("teams delete", result.Outcome, id, null);
            }

            Console.Out.WriteLine($"Deleted team {id} at {TeamAdministration.Time(result.Value!.DeletedAt)}; running servers refuse its keys within a few seconds.");
            return ExitCodes.Success;
        });
    }
}

/// <summary>
/// What `parley teams` and `parley keys` share: settings, opening the database without migrating it, and
/// printing. The operations themselves are <see cref="TeamService"/>'s, the same as the admin API's.
/// </summary>
internal static class TeamAdministration
{
    public static Option<bool> JsonOption() => new("--json") { Description = "Prints JSON (the admin API's shapes) instead of text." };

    /// <summary>A leaf command: its own options and arguments, the settings options, and an action on the service.</summary>
    public static Command Leaf(string label, string description, IEnumerable<Symbol> symbols, Func<ParseResult, TeamService, CancellationToken, Task<int>> action)
    {
        var settings = new SettingsOptions();
        var command = new Command(label[(label.IndexOf(' ', StringComparison.Ordinal) + 1)..], description);
        foreach (var symbol in symbols)
        {
            if (symbol is Option option)
            {
                command.Options.Add(option);
            }
            else
            {
                command.Arguments.Add((Argument)symbol);
            }
        }

        settings.AddTo(command);
        command.SetAction((parse, cancellationToken) => RunAsync(parse, settings, label, teams => action(parse, teams, cancellationToken), cancellationToken));
        return command;
    }

    /// <summary>Prints a result as JSON or as text, and succeeds.</summary>
    public static int Output<T>(bool json, T value, Action<T> text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (json)
        {
            WriteJson(value!);
        }
        else
        {
            text(value);
        }

        return ExitCodes.Success;
    }

    public static async Task<int> RunAsync(ParseResult parse, SettingsOptions settingsOptions, string name, Func<TeamService, Task<int>> action, CancellationToken cancellationToken)
    {
        if (!settingsOptions.TryLoad(parse, [], out var settings))
        {
            return ExitCodes.ConfigurationError;
        }

        var server = settings.Get<ServerOptions>();
        var options = settings.Get<DatabaseOptions>();
        var target = DatabaseUrl.Resolve(options.Url, server.DataDirectory, options.TimeoutSeconds);
        var where = target.Description;
        try
        {
            if (await CheckMigratedAsync(target, cancellationToken) is { } notMigrated)
            {
                await Console.Error.WriteLineAsync($"parley {name}: the database is not migrated ({where}: {notMigrated}); run `parley migrate` first.");
                return ExitCodes.ConfigurationError;
            }

            if (!settings.Get<FeatureOptions>().MultiTenant)
            {
                // Allowed, so that teams can be prepared before the switch; said, so that nobody wonders why keys fail.
                await Console.Error.WriteLineAsync($"parley {name}: note: ENABLE_MULTI_TENANT is not true; team API keys are accepted only in multi-tenant mode.");
            }

            return await action(new TeamService(new ParleyDbContextFactory(target), TimeProvider.System));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A connection or SQL error's message is what an operator needs; the stack trace is not.
            await Console.Error.WriteLineAsync($"parley {name}: {where}: {ex.GetBaseException().Message}");
            return ExitCodes.Failure;
        }
    }

    /// <summary>Null when the schema is current; otherwise why not. Never creates or alters anything.</summary>
    private static async Task<string?> CheckMigratedAsync(DatabaseTarget target, CancellationToken cancellationToken)
    {
        if (target.Provider == DatabaseProvider.Sqlite)
        {
            // Opening a missing SQLite file would create an empty database in the data directory.
            var path = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(target.ConnectionString).DataSource;
            if (!File.Exists(path))
            {
                return $"{path} does not exist";
            }
        }

        var migrator = new DatabaseMigrator(new ParleyDbContextFactory(target));
        if (!await migrator.CanConnectAsync(cancellationToken))
        {
            throw new InvalidOperationException("cannot connect to the database");
        }

        var pending = await migrator.GetPendingMigrationsAsync(cancellationToken);
        return pending.Count == 0 ? null : $"{pending.Count} migration(s) pending";
    }

    public static int Usage(string name, string problem)
    {
        Console.Error.WriteLine($"parley {name}: {problem}");
        return ExitCodes.ConfigurationError;
    }

    public static int NotFound(string name, TeamOutcome outcome, string teamId, string? keyId)
    {
        Console.Error.WriteLine(outcome switch
        {
            TeamOutcome.KeyNotFound => $"parley {name}: no API key {keyId} in team {teamId}",
            TeamOutcome.TeamDeleted => $"parley {name}: team {teamId} is deleted",
            _ => $"parley {name}: no team {teamId}",
        });
        return ExitCodes.Failure;
    }

    public static void PrintNewKey(CreatedApiKey key)
    {
        Console.Out.WriteLine($"API key {key.Id} ({key.Name}, prefix {key.Prefix}); shown once, store it now:");
        Console.Out.WriteLine(key.Key);
    }

    public static void WriteJson(object value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, ApiJson.Options));

    public static string Time(DateTime? value) =>
        value?.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "-";

    public static void WriteTable(string[] headers, IEnumerable<string[]> rows)
    {
        var all = rows.Prepend(headers).ToList();
        var widths = headers.Select((_, i) => all.Max(r => r[i].Length)).ToArray();
        foreach (var row in all)
        {
            Console.Out.WriteLine(string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))));
        }
    }
}
