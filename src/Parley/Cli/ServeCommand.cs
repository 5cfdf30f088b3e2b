using System.CommandLine;
using Parley.Api.Auth;
using Parley.Core.Configuration;
using Parley.Data;
using Parley.Hosting;

namespace Parley.Cli;

/// <summary>`parley serve`: the server, with all roles or those given.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var settings = new SettingsOptions();
        var roles = new Option<string?>("--roles")
        {
            Description = "Comma list of roles to run: api, jobs, orchestrator, sfu (default: all, or PARLEY_ROLES).",
        };
        var host = new Option<string?>("--host") { Description = "Listen address (HOST)." };
        var port = new Option<string?>("--port") { Description = "Listen port (PORT)." };

        var command = new Command("serve", "Runs the Parley server until SIGTERM or Ctrl-C.");
        command.Options.Add(roles);
        command.Options.Add(host);
        command.Options.Add(port);
        settings.AddTo(command);
        command.SetAction((parse, _) => RunAsync(parse, settings, roles, host, port));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, SettingsOptions settingsOptions, Option<string?> rolesOption, Option<string?> hostOption, Option<string?> portOption)
    {
        // Shortcuts go through the same binder as the environment, so `--port abc` gets the same line as PORT=abc.
        KeyValuePair<string, string?>[] shortcuts =
        [
            new("PARLEY_ROLES", parse.GetValue(rolesOption)),
            new("HOST", parse.GetValue(hostOption)),
            new("PORT", parse.GetValue(portOption)),
        ];
        if (!settingsOptions.TryLoad(parse, shortcuts, out var settings))
        {
            return ExitCodes.ConfigurationError;
        }

        var server = settings.Get<ServerOptions>();
        var databaseOptions = settings.Get<DatabaseOptions>();
        var features = settings.Get<FeatureOptions>();
        var auth = settings.Get<AuthOptions>();
        var database = DatabaseUrl.Resolve(databaseOptions.Url, server.DataDirectory, databaseOptions.TimeoutSeconds);

        if (!DataDirectory.TryPrepare(server.DataDirectory, out var problem))
        {
            SettingsLoader.Report([problem], Console.Error);
            return ExitCodes.ConfigurationError;
        }

        StaticApiKey? apiKey = null;
        if (!features.MultiTenant)
        {
            try
            {
                apiKey = StaticApiKeyStore.Resolve(auth.StaticApiKey, server.DataDirectory);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                SettingsLoader.Report([new ConfigProblem("PARLEY_DATA_DIR", server.DataDirectory, $"cannot store the generated API key: {ex.Message}")], Console.Error);
                return ExitCodes.ConfigurationError;
            }
        }

        var roles = new ServerRoles([.. server.Roles.Distinct(StringComparer.Ordinal)]);
        return await ServerHost.RunAsync(settings, roles, database, apiKey);
    }
}
