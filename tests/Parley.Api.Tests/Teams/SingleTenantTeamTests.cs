using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Parley.Api.Teams;
using Parley.Data;
using Parley.Testing;

namespace Parley.Api.Tests.Teams;

/// <summary>Single-tenant mode: the team STATIC_TEAM_ID is created at start; the admin API is off.</summary>
public abstract class SingleTenantTeamTests(ApiServer server)
{
    [Fact]
    public async Task The_start_creates_the_self_hosted_team()
    {
        var team = await Eventually.ReturnsAsync(async () =>
        {
            await using var db = server.Database.CreateDbContext();
            return await db.Teams.AsNoTracking().FirstOrDefaultAsync(t => t.Id == "self-hosted");
        }, TimeSpan.FromSeconds(20), "the self-hosted team row");

        Assert.Equal(SelfHostedTeamBootstrap.TeamName, team.Name);
        Assert.Null(team.DeletedAt);
    }

    [Fact]
    public async Task The_admin_api_answers_feature_disabled_even_with_a_key()
    {
        using var client = new HttpClient { BaseAddress = server.Http.BaseAddress };
        client.DefaultRequestHeaders.Add("x-admin-api-key", TeamsApiTests.AdminKey);
        using (var list = await client.GetAsync("/v2/teams"))
        {
            await list.AssertErrorAsync(HttpStatusCode.BadRequest, "FEATURE_DISABLED");
        }

        using var create = await client.PostAsJsonAsync("/v2/teams", new { name = "x" });
        await create.AssertErrorAsync(HttpStatusCode.BadRequest, "FEATURE_DISABLED");
    }

    [Fact]
    public async Task Ensuring_the_team_concurrently_creates_it_once()
    {
        var teams = new TeamService(server.Database, TimeProvider.System);
        var id = "boot-" + Guid.NewGuid().ToString("N")[..8];

        var created = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => teams.EnsureTeamAsync(id, "Self-hosted", CancellationToken.None))));

        Assert.Single(created, c => c);
        await using var db = server.Database.CreateDbContext();
        Assert.Equal(1, await db.Teams.CountAsync(t => t.Id == id));
        Assert.False(await teams.EnsureTeamAsync(id, "Self-hosted", CancellationToken.None));
    }
}

public sealed class SingleTenantTeamSqliteTests(SqliteApiServer server) : SingleTenantTeamTests(server), IClassFixture<SqliteApiServer>;

public sealed class SingleTenantTeamPostgresTests(PostgresApiServer server) : SingleTenantTeamTests(server), IClassFixture<PostgresApiServer>;

/// <summary>Replicas starting together on one PostgreSQL database create the self-hosted team once, and both start.</summary>
public sealed class SelfHostedTeamReplicaTests
{
    [Fact]
    public async Task Two_replicas_starting_together_create_the_team_once()
    {
        using var directory = new TempDirectory();
        var url = await PostgresDatabase.CreateAsync();
        var env = new Dictionary<string, string?> { ["DATABASE_URL"] = url, ["STATIC_API_KEY"] = ApiServer.Key, ["STATIC_TEAM_ID"] = "shared-team" };
        var (migrated, _, migrateError) = await ParleyProcess.RunAsync(["migrate"], env, directory.Path);
        Assert.True(migrated == 0, migrateError);

        await using var first = RunningServer.Start(env);
        await using var second = RunningServer.Start(env);
        await Task.WhenAll(first.WaitForStatusAsync("/ready", HttpStatusCode.OK), second.WaitForStatusAsync("/ready", HttpStatusCode.OK));

        var database = new ParleyDbContextFactory(DatabaseUrl.Resolve(url, directory.Path, 30));
        await Eventually.ReturnsAsync(async () =>
        {
            await using var db = database.CreateDbContext();
            return await db.Teams.AnyAsync(t => t.Id == "shared-team") ? (object?)true : null;
        }, TimeSpan.FromSeconds(20), "the shared team row");
        await using (var db = database.CreateDbContext())
        {
            Assert.Equal(1, await db.Teams.CountAsync());
        }

        Assert.DoesNotContain("Cannot ensure", first.Process.Stdout + first.Process.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Cannot ensure", second.Process.Stdout + second.Process.Stderr, StringComparison.Ordinal);
    }
}
