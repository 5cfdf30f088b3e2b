using Microsoft.EntityFrameworkCore;
using Parley.Core.Teams;
using Parley.Testing;

namespace Parley.Data.Tests;

public sealed class MigrationTests
{
    [Fact]
    public void The_sqlite_migrations_match_the_model()
    {
        using var db = new ParleyDbContextFactory(DatabaseUrl.Resolve("sqlite:/nonexistent/model-check.db", "/", 30)).CreateDbContext();

        Assert.False(db.Database.HasPendingModelChanges(), "The model changed without a SQLite migration: run dotnet ef migrations add for SqliteParleyDbContext.");
    }

    [Fact]
    public void The_postgres_migrations_match_the_model()
    {
        using var db = new ParleyDbContextFactory(DatabaseUrl.Resolve("postgres://u@127.0.0.1:1/model_check", "/", 30)).CreateDbContext();

        Assert.False(db.Database.HasPendingModelChanges(), "The model changed without a PostgreSQL migration: run dotnet ef migrations add for PostgresParleyDbContext.");
    }

    [Fact]
    public async Task Sqlite_is_migrated_from_nothing_and_keeps_times_in_utc()
    {
        using var dir = new TempDirectory();
        var target = DatabaseUrl.Resolve(null, Path.Combine(dir.Path, "nested", "data"), 30);
        var migrator = new DatabaseMigrator(new ParleyDbContextFactory(target));

        var applied = await migrator.MigrateAsync(CancellationToken.None);

        Assert.NotEmpty(applied);
        Assert.Empty(await migrator.GetPendingMigrationsAsync(CancellationToken.None));
        Assert.Empty(await migrator.MigrateAsync(CancellationToken.None));
        await RoundTripTeamAsync(new ParleyDbContextFactory(target));
    }

    [Fact]
    public async Task Postgres_is_migrated_from_nothing_and_keeps_times_in_utc()
    {
        var target = DatabaseUrl.Resolve(await PostgresDatabase.CreateAsync(), "/", 30);
        var migrator = new DatabaseMigrator(new ParleyDbContextFactory(target));
        Assert.NotEmpty(await migrator.GetPendingMigrationsAsync(CancellationToken.None));

        var applied = await migrator.MigrateAsync(CancellationToken.None);

        Assert.NotEmpty(applied);
        Assert.Empty(await migrator.GetPendingMigrationsAsync(CancellationToken.None));
        await RoundTripTeamAsync(new ParleyDbContextFactory(target));
    }

    private static async Task RoundTripTeamAsync(ParleyDbContextFactory factory)
    {
        var created = new DateTime(2026, 11, 22, 10, 30, 0, DateTimeKind.Utc);
        await using (var db = factory.CreateDbContext())
        {
            db.Teams.Add(new Team { Id = "team-1", Name = "Team one", CreatedAt = created });
            await db.SaveChangesAsync();
        }

        await using (var db = factory.CreateDbContext())
        {
            var team = await db.Teams.SingleAsync(t => t.Id == "team-1");
            Assert.Equal(created, team.CreatedAt);
            Assert.Equal(DateTimeKind.Utc, team.CreatedAt.Kind);
            Assert.Null(team.DeletedAt);
        }
    }
}
