using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Parley.Testing;

namespace Parley.Api.Tests.ScheduledBots;

/// <summary>A server that hands scheduled bots over at join_at (no lead time) and marks pickup delays after 1 s.</summary>
public abstract class PromptJobsServer(bool postgres) : ApiServer
{
    protected override async Task<Dictionary<string, string?>> EnvironmentAsync()
    {
        var env = new Dictionary<string, string?>
        {
            ["PARLEY_SCHEDULED_BOT_LEAD_SECONDS"] = "0",
            ["BOT_PICKUP_DELAY_SECONDS"] = "1",
        };
        if (postgres)
        {
            env["DATABASE_URL"] = await PostgresDatabase.CreateAsync();
        }

        return env;
    }
}

public sealed class PromptJobsSqliteServer() : PromptJobsServer(postgres: false);

public sealed class PromptJobsPostgresServer() : PromptJobsServer(postgres: true);

/// <summary>API.md "Scheduled bots" and the scheduled-bot and pickup-delayed jobs.</summary>
public abstract class ScheduledBotsTests(PromptJobsServer server)
{
    private HttpClient Http => server.Http;

    private static string At(DateTime time) => time.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_scheduled_bot_becomes_a_bot_with_the_same_id_within_5_seconds_of_join_at()
    {
        var joinAt = DateTime.UtcNow.AddSeconds(3);
        using var response = await Http.PostAsJsonAsync("/v2/bots/scheduled", new
        {
            bot_name = "Punctual",
            meeting_url = $"https://meet.google.com/{Api.MeetCode()}",
            join_at = At(joinAt),
            extra = new { k = "v" },
        });
        var json = await response.ReadJsonAsync();
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = json.GetProperty("data").GetProperty("bot_id").GetString()!;
        Assert.Equal("scheduled", json.GetProperty("data").GetProperty("status").GetString());

        var bot = await Eventually.ReturnsAsync(async () =>
        {
            using var r = await Http.GetAsync($"/v2/bots/{id}");
            return r.StatusCode == HttpStatusCode.OK ? (JsonElement?)(await r.ReadJsonAsync()).GetProperty("data") : null;
        }, TimeSpan.FromSeconds(30), "the scheduled bot to become a bot");

        var createdAt = DateTime.Parse(bot!.Value.GetProperty("created_at").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal);
        Assert.True(createdAt >= joinAt.AddSeconds(-1), $"handed over too early: {createdAt:o} for {joinAt:o}");
        Assert.True(createdAt - joinAt < TimeSpan.FromSeconds(5), $"handed over {(createdAt - joinAt).TotalSeconds:0.0} s after join_at");
        Assert.Equal("v", bot.Value.GetProperty("extra").GetProperty("k").GetString());

        var scheduled = await Http.GetDataAsync($"/v2/bots/scheduled/{id}");
        Assert.Equal("completed", scheduled.GetProperty("status").GetString());
    }

    [Theory]
    [InlineData(-600, "is in the past")]
    [InlineData(91 * 24 * 3600, "is more than 90 days ahead")]
    public async Task Join_at_must_be_within_the_window(int offsetSeconds, string problem)
    {
        using var response = await Http.PostAsJsonAsync("/v2/bots/scheduled", new
        {
            bot_name = "x",
            meeting_url = $"https://meet.google.com/{Api.MeetCode()}",
            join_at = At(DateTime.UtcNow.AddSeconds(offsetSeconds)),
        });
        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_ERROR");
        var json = await response.ReadJsonAsync();
        Assert.Contains(json.GetProperty("details").EnumerateArray(), d => d.GetProperty("field").GetString() == "join_at" && d.GetProperty("problem").GetString() == problem);

        using var missing = await Http.PostAsJsonAsync("/v2/bots/scheduled", new { bot_name = "x", meeting_url = $"https://meet.google.com/{Api.MeetCode()}" });
        await missing.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_ERROR");
    }

    [Fact]
    public async Task A_scheduled_bot_can_be_changed_listed_and_cancelled_until_it_is_handed_over()
    {
        using var created = await Http.PostAsJsonAsync("/v2/bots/scheduled", new
        {
            bot_name = "Later",
            meeting_url = $"https://meet.google.com/{Api.MeetCode()}",
            join_at = At(DateTime.UtcNow.AddDays(2)),
        });
        var id = (await created.ReadJsonAsync()).GetProperty("data").GetProperty("bot_id").GetString()!;

        var newJoin = DateTime.UtcNow.AddDays(3);
        using (var patch = await Http.PatchAsJsonAsync($"/v2/bots/scheduled/{id}", new { bot_name = "Renamed", join_at = At(newJoin) }))
        {
            var data = (await patch.ReadJsonAsync()).GetProperty("data");
            Assert.Equal("Renamed", data.GetProperty("bot_name").GetString());
            Assert.Equal(At(newJoin), data.GetProperty("join_at").GetString());
        }

        using (var badPatch = await Http.PatchAsJsonAsync($"/v2/bots/scheduled/{id}", new { meeting_url = "https://example.com/nope" }))
        {
            await badPatch.AssertErrorAsync(HttpStatusCode.BadRequest, "INVALID_MEETING_URL");
        }

        var list = await Http.GetDataAsync("/v2/bots/scheduled?status=scheduled&limit=100");
        Assert.Contains(list.EnumerateArray(), b => b.GetProperty("bot_id").GetString() == id);

        (await Http.DeleteAsync($"/v2/bots/scheduled/{id}")).EnsureSuccessStatusCode();
        Assert.Equal("cancelled", (await Http.GetDataAsync($"/v2/bots/scheduled/{id}")).GetProperty("status").GetString());
        using var afterCancel = await Http.PatchAsJsonAsync($"/v2/bots/scheduled/{id}", new { bot_name = "Too late" });
        await afterCancel.AssertErrorAsync(HttpStatusCode.Conflict, "BOT_STATUS");
        using var cancelAgain = await Http.DeleteAsync($"/v2/bots/scheduled/{id}");
        await cancelAgain.AssertErrorAsync(HttpStatusCode.Conflict, "BOT_STATUS");
        using var missing = await Http.GetAsync($"/v2/bots/scheduled/{Guid.NewGuid()}");
        await missing.AssertErrorAsync(HttpStatusCode.NotFound, "NOT_FOUND");
    }

    [Fact]
    public async Task Scheduled_batch_reports_each_item()
    {
        using var response = await Http.PostAsJsonAsync("/v2/bots/scheduled/batch", new object[]
        {
            new { bot_name = "a", meeting_url = $"https://meet.google.com/{Api.MeetCode()}", join_at = At(DateTime.UtcNow.AddHours(1)) },
            new { bot_name = "b", meeting_url = $"https://meet.google.com/{Api.MeetCode()}" },
        });
        var json = await response.ReadJsonAsync();
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(0, Assert.Single(json.GetProperty("data").EnumerateArray()).GetProperty("index").GetInt32());
        Assert.Equal(1, Assert.Single(json.GetProperty("errors").EnumerateArray()).GetProperty("index").GetInt32());
    }

    [Fact]
    public async Task A_bot_nobody_picks_up_is_marked_pickup_delayed()
    {
        var id = await server.CreateBotAsync();

        await Eventually.ReturnsAsync(async () =>
        {
            var status = (await Http.GetDataAsync($"/v2/bots/{id}/status")).GetProperty("status").GetProperty("code").GetString();
            return status == "pickup_delayed" ? (object?)true : null;
        }, TimeSpan.FromSeconds(30), "pickup_delayed");
    }
}

public sealed class ScheduledBotsSqliteTests(PromptJobsSqliteServer server) : ScheduledBotsTests(server), IClassFixture<PromptJobsSqliteServer>;

public sealed class ScheduledBotsPostgresTests(PromptJobsPostgresServer server) : ScheduledBotsTests(server), IClassFixture<PromptJobsPostgresServer>;
