using System.CommandLine;
using Parley.Api.Teams;
using Parley.Hosting;

namespace Parley.Cli;

/// <summary>`parley keys create|list|revoke --team ID`: a team's API keys, straight on the database.</summary>
internal static class KeysCommand
{
    public static Command Create()
    {
        var command = new Command("keys", "Manages the API keys of a team (multi-tenant mode) on the configured database, without the HTTP API.");
        command.Subcommands.Add(CreateKey());
        command.Subcommands.Add(ListKeys());
        command.Subcommands.Add(RevokeKey());
        return command;
    }

    private static Option<string> TeamOption() => new("--team") { Description = "The team's id.", Required = true };

    private static Command CreateKey()
    {
        var team = TeamOption();
        var name = new Option<string?>("--name") { Description = $"A name to tell the key apart (default: {TeamService.DefaultKeyName})." };
        var json = TeamAdministration.JsonOption();
        return TeamAdministration.Leaf("keys create", "Creates an API key for a team and prints it once.", [team, name, json], async (parse, teams, cancellationToken) =>
        {
            var teamId = parse.GetValue(team)!;
            var keyName = parse.GetValue(name);
            if (TeamService.CheckName(keyName, required: false) is { } problem)
            {
                return TeamAdministration.Usage("keys create", $"--name {problem}");
            }

            var result = await teams.CreateKeyAsync(teamId, keyName, cancellationToken);
            return result.Outcome != TeamOutcome.Ok
                ? TeamAdministration.NotFound("keys create", result.Outcome, teamId, null)
                : TeamAdministration.Output(parse.GetValue(json), result.Value!, TeamAdministration.PrintNewKey);
        });
    }

    private static Command ListKeys()
    {
        var team = TeamOption();
        var json = TeamAdministration.JsonOption();
        return TeamAdministration.Leaf("keys list", "Lists a team's API keys, revoked ones included: prefix, name and times, never the key.", [team, json], async (parse, teams, cancellationToken) =>
        {
            var teamId = parse.GetValue(team)!;
            var result = await teams.ListKeysAsync(teamId, cancellationToken);
            return result.Outcome != TeamOutcome.Ok
                ? TeamAdministration.NotFound("keys list", result.Outcome, teamId, null)
                : TeamAdministration.Output(parse.GetValue(json), result.Value!, keys => TeamAdministration.WriteTable(
                    ["ID", "NAME", "PREFIX", "CREATED", "LAST USED", "REVOKED"],
                    keys.Select(k => new[] { k.Id, k.Name, k.Prefix, TeamAdministration.Time(k.CreatedAt), TeamAdministration.Time(k.LastUsedAt), TeamAdministration.Time(k.RevokedAt) })));
        });
    }

    private static Command RevokeKey()
    {
        var team = TeamOption();
        var keyId = new Argument<string>("key-id") { Description = "The key to revoke (its id, from `parley keys list`)." };
        return TeamAdministration.Leaf("keys revoke", "Revokes an API key; running servers refuse it within a few seconds.", [team, keyId], async (parse, teams, cancellationToken) =>
        {
            var teamId = parse.GetValue(team)!;
            var id = parse.GetValue(keyId)!;
            var result = await teams.RevokeKeyAsync(teamId, id, cancellationToken);
            if (result.Outcome != TeamOutcome.Ok)
            {
                return TeamAdministration.NotFound("keys revoke", result.Outcome, teamId, id);
            }

            Console.Out.WriteLine($"Revoked API key {id} ({result.Value!.Prefix}…) of team {teamId} at {TeamAdministration.Time(result.Value.RevokedAt)}.");
            return ExitCodes.Success;
        });
    }
}
