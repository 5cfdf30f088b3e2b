using System.CommandLine;
using Parley.Core.Configuration;
using Parley.Data;
using Parley.Hosting;

namespace Parley.Cli;

/// <summary>`parley migrate`: applies pending migrations and exits (a Kubernetes pre-install Job runs it).</summary>
internal static class MigrateCommand
{
    public static Command Create()
    {
        var settings = new SettingsOptions();
        var command = new Command("migrate", "Applies pending database migrations (DATABASE_URL, or the embedded SQLite database) and exits.");
        settings.AddTo(command);
        command.SetAction((parse, cancellationToken) => RunAsync(parse, settings, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, SettingsOptions settingsOptions, CancellationToken cancellationToken)
    {
        if (!settingsOptions.TryLoad(parse, [], out var settings))
        {
            return ExitCodes.ConfigurationError;
        }

        var server = settings.Get<ServerOptions>();
        var options = settings.Get<DatabaseOptions>();
        var target = DatabaseUrl.Resolve(options.Url, server.DataDirectory, options.TimeoutSeconds);
        if (target.IsEmbedded && !DataDirectory.TryPrepare(server.DataDirectory, out var problem))
        {
            SettingsLoader.Report([problem], Console.Error);
            return ExitCodes.ConfigurationError;
        }

        var migrator = new DatabaseMigrator(new ParleyDbContextFactory(target));
        try
        {
            var applied = await migrator.MigrateAsync(cancellationToken);
            Console.Out.WriteLine(applied.Count == 0
                ? $"{target.Description} is up to date."
                : $"{target.Description}: applied {applied.Count} migration(s): {string.Join(", ", applied)}");
            return ExitCodes.Success;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The message of a connection or SQL error is what an operator needs; the stack trace is not.
            await Console.Error.WriteLineAsync($"parley migrate: {target.Description}: {ex.GetBaseException().Message}");
            return ExitCodes.Failure;
        }
    }
}
