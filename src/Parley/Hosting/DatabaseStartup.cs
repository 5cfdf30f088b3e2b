using Microsoft.Extensions.Logging;
using Parley.Core.Configuration;
using Parley.Data;

namespace Parley.Hosting;

/// <summary>
/// The database gate of `serve`: embedded SQLite is migrated on the spot; PostgreSQL is only checked,
/// because in a scaled-out deployment migrations are a separate step (`parley migrate`, a pre-install Job)
/// and several replicas must not each alter the schema as they roll out.
/// </summary>
public sealed partial class DatabaseStartup(DatabaseMigrator migrator, DatabaseOptions options, ILogger<DatabaseStartup> logger)
{
    /// <summary>Returns null to go on serving, or the exit code to stop with.</summary>
    public async Task<int?> PrepareAsync(TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(error);
        var target = migrator.Target;
        if (target.IsEmbedded)
        {
            var applied = await migrator.MigrateAsync(cancellationToken);
            LogMigrated(logger, target.Description, applied.Count);
            return null;
        }

        bool reachable;
        try
        {
            reachable = await migrator.CanConnectAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogUnreachable(logger, target.Description, ex.Message);
            return null;
        }

        if (!reachable)
        {
            // Serve anyway: /ready stays 503 until the database answers, which is what a probe should see
            // while PostgreSQL is still starting next to us.
            LogUnreachable(logger, target.Description, "cannot connect");
            return null;
        }

        var pending = await migrator.GetPendingMigrationsAsync(cancellationToken);
        if (pending.Count == 0)
        {
            return null;
        }

        if (options.MigrateOnStart)
        {
            var applied = await migrator.MigrateAsync(cancellationToken);
            LogMigrated(logger, target.Description, applied.Count);
            return null;
        }

        var url = ConfigProblem.Mask(options.Url ?? "", secret: true);
        error.WriteLine($"parley: the database is not migrated; nothing was started:");
        error.WriteLine($"  DATABASE_URL='{url}': {pending.Count} migration(s) pending ({string.Join(", ", pending)}); run `parley migrate` first, or set PARLEY_MIGRATE_ON_START=true");
        return ExitCodes.ConfigurationError;
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Database {Database}: {Count} migration(s) applied")]
    private static partial void LogMigrated(ILogger logger, string database, int count);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "Database {Database} is unreachable at start ({Reason}); /ready answers 503 until it is reachable and migrated")]
    private static partial void LogUnreachable(ILogger logger, string database, string reason);
}
