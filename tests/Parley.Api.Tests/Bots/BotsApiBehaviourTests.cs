using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Parley.Api.Bots;
using Parley.Core.Bots;
using Parley.Core.Queues;
using Parley.Testing;

namespace Parley.Api.Tests.Bots;

/// <summary>A server with a small write rate limit.</summary>
public sealed class RateLimitedServer : ApiServer
{
    protected override Task<Dictionary<string, string?>> EnvironmentAsync() =>
        Task.FromResult(new Dictionary<string, string?> { ["PARLEY_RATE_LIMIT_PER_SECOND"] = "3" });
}

public sealed class RateLimitTests(RateLimitedServer server) : IClassFixture<RateLimitedServer>
{
    [Fact]
    public async Task Writes_over_the_limit_get_429_with_the_rate_limit_headers_and_reads_are_not_limited()
    {
        // Twenty at once: whatever second boundaries they straddle, at most 3 per second can pass.
        var started = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var responses = (await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            server.Http.PostAsJsonAsync("/v2/bots", new { bot_name = "r", meeting_url = $"https://meet.google.com/{Api.MeetCode()}" })))).ToList();

        Assert.All(responses, r => Assert.Equal("3", r.Headers.GetValues("x-ratelimit-limit").Single()));
        var limited = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(limited);
        await limited[0].AssertErrorAsync(HttpStatusCode.TooManyRequests, "TOO_MANY_REQUESTS");
        Assert.Equal("1", limited[0].Headers.GetValues("retry-after").Single());
        Assert.Equal("0", limited[0].Headers.GetValues("x-ratelimit-remaining").Single());
        // The window's end lies after the requests were sent (compared with the start, not with the clock
        // at assertion time, which a loaded machine can put seconds later).
        Assert.True(long.Parse(limited[0].Headers.GetValues("x-ratelimit-reset").Single(), System.Globalization.CultureInfo.InvariantCulture) > started);
        Assert.Equal(1, (await limited[1].ReadJsonAsync()).GetProperty("retryAfter").GetInt32());
        responses.ForEach(r => r.Dispose());

        for (var i = 0; i < 10; i++)
        {
            using var read = await server.Http.GetAsync("/v2/bots?limit=1");
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }
    }
}

public abstract class PaginationTests(ApiServer server)
{
    [Fact]
    public async Task Cursor_pages_are_stable_while_bots_are_created_and_filters_apply()
    {
        var name = "page-" + Guid.NewGuid().ToString("N")[..8];
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await server.CreateBotAsync(new { bot_name = name, meeting_url = $"https://meet.google.com/{Api.MeetCode()}" }));
        }

        ids.Reverse();
        var first = await GetPageAsync($"/v2/bots?bot_name={name}&limit=2");
        Assert.Equal(ids[..2], first.Ids);
        Assert.Null(first.Prev);

        // New bots arrive between pages: the next pages neither repeat nor skip anything.
        await server.CreateBotAsync(new { bot_name = name, meeting_url = $"https://meet.google.com/{Api.MeetCode()}" });
        var second = await GetPageAsync($"/v2/bots?bot_name={name}&limit=2&cursor={first.Next}");
        Assert.Equal(ids[2..4], second.Ids);
        var third = await GetPageAsync($"/v2/bots?bot_name={name}&limit=2&cursor={second.Next}");
        Assert.Equal(ids[4..], third.Ids);
        Assert.Null(third.Next);

        var back = await GetPageAsync($"/v2/bots?bot_name={name}&limit=2&cursor={second.Prev}");
        Assert.Equal(ids[..2], back.Ids);

        var filtered = await GetPageAsync($"/v2/bots?bot_name={name}&status=queued&meeting_platform=meet&created_after={Uri.EscapeDataString(DateTime.UtcNow.AddMinutes(-5).ToString("o"))}&limit=100");
        Assert.Equal(6, filtered.Ids.Count);
        var none = await GetPageAsync($"/v2/bots?bot_name={name}&status=completed");
        Assert.Empty(none.Ids);

        foreach (var bad in new[] { "limit=0", "limit=101", "status=sleeping", "cursor=%21%21", "created_after=yesterday", "meeting_platform=webex" })
        {
            using var response = await server.Http.GetAsync($"/v2/bots?{bad}");
            await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_ERROR");
        }
    }

    private async Task<(List<string> Ids, string? Next, string? Prev)> GetPageAsync(string path)
    {
        using var response = await server.Http.GetAsync(path);
        var json = await response.ReadJsonAsync();
        Assert.True(response.IsSuccessStatusCode, json.ToString());
        var ids = json.GetProperty("data").EnumerateArray().Select(b => b.GetProperty("bot_id").GetString()!).ToList();
        return (ids, json.GetProperty("cursor").GetString(), json.GetProperty("prev_cursor").GetString());
    }
}

public sealed class PaginationSqliteTests(SqliteApiServer server) : PaginationTests(server), IClassFixture<SqliteApiServer>;

public sealed class PaginationPostgresTests(PostgresApiServer server) : PaginationTests(server), IClassFixture<PostgresApiServer>;
