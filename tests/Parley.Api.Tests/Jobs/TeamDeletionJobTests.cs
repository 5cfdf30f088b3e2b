using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Parley.Testing;

namespace Parley.Api.Tests.Jobs;

/// <summary>A multi-tenant server whose admin API creates the teams.</summary>
public sealed class MultiTenantServer : ApiServer
{
    public const string AdminKey = "admin-key-0123456789abcdef0123";

    protected override Task<Dictionary<string, string?>> EnvironmentAsync() => Task.FromResult(new Dictionary<string, string?>
    {
        ["ENABLE_MULTI_TENANT"] = "true",
        ["PARLEY_ADMIN_API_KEY"] = AdminKey,
        ["PARLEY_SCHEDULED_BOT_LEAD_SECONDS"] = "0",
    });
}

public sealed class TeamDeletionJobTests(MultiTenantServer server) : IClassFixture<MultiTenantServer>
{
    [Fact]
    public async Task Teams_soft_deleted_past_the_grace_period_are_removed_with_their_bots_and_artifacts()
    {
        using var admin = new HttpClient { BaseAddress = server.Http.BaseAddress };
        admin.DefaultRequestHeaders.Add("x-admin-api-key", MultiTenantServer.AdminKey);
        async Task<(string Team, string Key)> CreateTeamAsync(string name)
        {
            using var created = await admin.PostAsJsonAsync("/v2/teams", new { name });
            var data = (await created.ReadJsonAsync()).GetProperty("data");
            return (data.GetProperty("team_id").GetString()!, data.GetProperty("api_key").GetProperty("key").GetString()!);
        }

        var (gone, goneKey) = await CreateTeamAsync("Leaving");
        var (kept, keptKey) = await CreateTeamAsync("Staying");
        async Task<string> CreateBotAsync(string key)
        {
            using var client = new HttpClient { BaseAddress = server.Http.BaseAddress };
            client.DefaultRequestHeaders.Add("x-meeting-baas-api-key", key);
            using var response = await client.PostAsJsonAsync("/v2/bots", new { bot_name = "b", meeting_url = $"https://meet.google.com/{Api.MeetCode()}" });
            return (await response.ReadJsonAsync()).GetProperty("data").GetProperty("bot_id").GetString()!;
        }

        var goneBot = await CreateBotAsync(goneKey);
        var keptBot = await CreateBotAsync(keptKey);
        using var bot = server.BotClient(await server.MintTokenAsync(goneBot));
        (await bot.PostAsync($"/internal/bots/{goneBot}/artifacts?kind=audio&name=a.flac", new ByteArrayContent("x"u8.ToArray()))).EnsureSuccessStatusCode();
        (await admin.DeleteAsync($"/v2/teams/{gone}")).EnsureSuccessStatusCode();
        await using (var db = server.Database.CreateDbContext())
        {
            var longAgo = DateTime.UtcNow.AddDays(-40);
            await db.Teams.Where(t => t.Id == gone).ExecuteUpdateAsync(s => s.SetProperty(t => t.DeletedAt, longAgo));
        }

        var (code, stdout, stderr) = await ParleyProcess.RunAsync(["job", "run", "team-permanent-deletion-job"], new Dictionary<string, string?>
        {
            ["PARLEY_DATA_DIR"] = server.Server.DataDirectory,
            ["ENABLE_MULTI_TENANT"] = "true",
            ["TEAM_DELETION_GRACE_DAYS"] = "30",
        }, Path.GetTempPath());

        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("1 item(s)", stdout, StringComparison.Ordinal);
        await using var check = server.Database.CreateDbContext();
        Assert.False(await check.Teams.AnyAsync(t => t.Id == gone));
        Assert.False(await check.Bots.AnyAsync(b => b.Id == goneBot));
        Assert.False(await check.ApiKeys.AnyAsync(k => k.TeamId == gone));
        Assert.False(File.Exists(Path.Combine(server.Server.DataDirectory, "artifacts", "bots", goneBot, "a.flac")));
        Assert.True(await check.Bots.AnyAsync(b => b.Id == keptBot));
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/v2/teams/{kept}")).StatusCode);
    }

    [Fact]
    public async Task A_scheduled_bot_of_a_team_deleted_before_join_at_is_cancelled()
    {
        using var admin = new HttpClient { BaseAddress = server.Http.BaseAddress };
        admin.DefaultRequestHeaders.Add("x-admin-api-key", MultiTenantServer.AdminKey);
        using var created = await admin.PostAsJsonAsync("/v2/teams", new { name = "Short-lived" });
        var data = (await created.ReadJsonAsync()).GetProperty("data");
        var team = data.GetProperty("team_id").GetString()!;
        using var client = new HttpClient { BaseAddress = server.Http.BaseAddress };
        client.DefaultRequestHeaders.Add("x-meeting-baas-api-key", data.GetProperty("api_key").GetProperty("key").GetString());
        using var scheduled = await client.PostAsJsonAsync("/v2/bots/scheduled", new
        {
            bot_name = "never",
            meeting_url = $"https://meet.google.com/{Api.MeetCode()}",
            join_at = DateTime.UtcNow.AddSeconds(4).ToString("o"),
        });
        var id = (await scheduled.ReadJsonAsync()).GetProperty("data").GetProperty("bot_id").GetString()!;

        (await admin.DeleteAsync($"/v2/teams/{team}")).EnsureSuccessStatusCode();

        await Eventually.ReturnsAsync(async () =>
        {
            await using var db = server.Database.CreateDbContext();
            var status = await db.ScheduledBots.Where(b => b.Id == id).Select(b => b.Status).FirstAsync();
            return status == "cancelled" ? (object?)true : null;
        }, TimeSpan.FromSeconds(30), "the scheduled bot to be cancelled");
        await using var check = server.Database.CreateDbContext();
        Assert.False(await check.Bots.AnyAsync(b => b.Id == id));
    }
}
