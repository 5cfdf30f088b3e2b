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
        var settings = new SettingsOptions();
        var name = new Option<string>("--name") { Description = "The team's name, 1 to 255 characters.", Required = true };
        var json = TeamAdministration.JsonOption();
        var command = new Command("create", "Creates a team and its first API key, and prints the key once.");
        command.Options.Add(name);
        command.Options.Add(json);
        settings.AddTo(command);
        command.SetAction((parse, cancellationToken) => TeamAdministration.RunAsync(parse, settings, "teams create", async teams =>
        {
            var teamName = parse.GetValue(name)!;
            if (TeamService.CheckName(teamName, required: true) is { } problem)
            {
                return TeamAdministration.Usage("teams create", $"--name {problem}");
            }

            var created = await teams.CreateTeamAsync(teamName, null, cancellationToken);
            if (parse.GetValue(json))
            {
                TeamAdministration.WriteJson(created);
            }
            else
            {
                Console.Out.WriteLine($"Created team {created.TeamId} ({created.Name}).");
                TeamAdministration.PrintNewKey(created.ApiKey);
            }

            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    private static Command ListTeams()
    {
        var settings = new SettingsOptions();
        var includeDeleted = new Option<bool>("--include-deleted") { Description = "Also lists soft-deleted teams." };
        var json = TeamAdministration.JsonOption();
        var command = new Command("list", "Lists teams, newest first.");
        command.Options.Add(includeDeleted);
        command.Options.Add(json);
        settings.AddTo(command);
        command.SetAction((parse, cancellationToken) => TeamAdministration.RunAsync(parse, settings, "teams list", async teams =>
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

            if (parse.GetValue(json))
            {
                TeamAdministration.WriteJson(all);
            }
            else
            {
                TeamAdministration.WriteTable(
                    ["ID", "NAME", "CREATED", "DELETED"],
                    all.Select(t => new[] { t.TeamId, t.Name, TeamAdministration.Time(t.CreatedAt), TeamAdministration.Time(t.DeletedAt) }));
            }

            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    private static Command DeleteTeam()
    {
        var settings = new SettingsOptions();
        var teamId = new Argument<string>("team-id") { Description = "The team to delete." };
        var command = new Command("delete", "Soft-deletes a team: its API keys stop working; its data is removed after TEAM_DELETION_GRACE_DAYS.");
        command.Arguments.Add(teamId);
        settings.AddTo(command);
        command.SetAction((parse, cancellationToken) => TeamAdministration.RunAsync(parse, settings, "teams delete", async teams =>
        {
            var id = parse.GetValue(teamId)!;
            var result = await teams.DeleteTeamAsync(id, cancellationToken);
            if (result.Outcome != TeamOutcome.Ok)
            {
                return TeamAdministration.NotFound("teams delete", result.Outcome, id, null);
            }

            Console.Out.WriteLine($"Deleted team {id} at {TeamAdministration.Time(result.Value!.DeletedAt)}; running servers refuse its keys within a few seconds.");
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }
}

/// <summary>
/// What `parley teams` and `parley keys` share: settings, opening the database without migrating it, and
/// printing. The operations themselves are <see cref="TeamService"/>'s, the same as the admin API's.
/// </summary>
internal static class TeamAdministration
{
    public static Option<bool> JsonOption() => new("--json") { Description = "Prints JSON (the admin API's shapes) instead of text." };

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
