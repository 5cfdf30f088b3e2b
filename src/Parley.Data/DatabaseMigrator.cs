using Microsoft.EntityFrameworkCore;

namespace Parley.Data;

/// <summary>Applies and inspects migrations of the configured database.</summary>
public sealed class DatabaseMigrator(ParleyDbContextFactory factory)
{
    public DatabaseTarget Target => factory.Target;

    public async Task<bool> CanConnectAsync(CancellationToken cancellationToken)
    {
        await using var db = factory.CreateDbContext();
        return await db.Database.CanConnectAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<string>> GetPendingMigrationsAsync(CancellationToken cancellationToken)
    {
        await using var db = factory.CreateDbContext();
        return [.. await db.Database.GetPendingMigrationsAsync(cancellationToken)];
    }

    /// <summary>Applies every pending migration; returns the names applied.</summary>
    public async Task<IReadOnlyList<string>> MigrateAsync(CancellationToken cancellationToken)
    {
        if (Target.Provider == DatabaseProvider.Sqlite)
        {
            var path = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(Target.ConnectionString).DataSource;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        }

        var pending = await GetPendingMigrationsAsync(cancellationToken);
        await using var db = factory.CreateDbContext();
        // EF Core takes a migration lock on both providers, so replicas started with
        // PARLEY_MIGRATE_ON_START=true do not race each other.
        await db.Database.MigrateAsync(cancellationToken);
        if (Target.Provider == DatabaseProvider.Sqlite)
        {
            // WAL lets the API read while a job writes; the setting is stored in the file, once is enough.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }

        return pending;
    }
}
