using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Parley.Data;

/// <summary>
/// Creates contexts for the configured provider. Registered as a singleton so that health checks, jobs and
/// startup code can open a short-lived context without a request scope.
/// </summary>
public sealed class ParleyDbContextFactory(DatabaseTarget target)
{
    private readonly DbContextOptions _options = BuildOptions(target);

    public DatabaseTarget Target { get; } = target;

    public ParleyDbContext CreateDbContext() => Target.Provider switch
    {
        DatabaseProvider.Postgres => new PostgresParleyDbContext((DbContextOptions<PostgresParleyDbContext>)_options),
        _ => new SqliteParleyDbContext((DbContextOptions<SqliteParleyDbContext>)_options),
    };

    private static DbContextOptions BuildOptions(DatabaseTarget target) => target.Provider switch
    {
        DatabaseProvider.Postgres => new DbContextOptionsBuilder<PostgresParleyDbContext>()
            .UseNpgsql(target.ConnectionString, o => o.MigrationsHistoryTable("__ef_migrations_history"))
            .Options,
        _ => new DbContextOptionsBuilder<SqliteParleyDbContext>()
            .UseSqlite(target.ConnectionString, o => o.MigrationsHistoryTable("__ef_migrations_history"))
            .AddInterceptors(new SqlitePragmas(busyTimeoutMs: 30_000))
            .Options,
    };
}

// Design-time factories: `dotnet ef migrations add NAME --context SqliteParleyDbContext|PostgresParleyDbContext`
// builds the model without a running host. The connection strings are never opened when adding migrations.
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteParleyDbContext>
{
    public SqliteParleyDbContext CreateDbContext(string[] args) =>
        (SqliteParleyDbContext)new ParleyDbContextFactory(DatabaseUrl.Resolve("sqlite:design-time.db", ".", 30)).CreateDbContext();
}

internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresParleyDbContext>
{
    public PostgresParleyDbContext CreateDbContext(string[] args) =>
        (PostgresParleyDbContext)new ParleyDbContextFactory(DatabaseUrl.Resolve("postgres://parley@localhost/parley", ".", 30)).CreateDbContext();
}
