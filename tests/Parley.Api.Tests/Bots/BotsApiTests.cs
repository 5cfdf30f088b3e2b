using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;

namespace Parley.Api.Tests.Bots;

/// <summary>API.md "Bots", against a real server: SQLite and PostgreSQL run the same tests.</summary>
public abstract class BotsApiTests(ApiServer server)
{
    protected ApiServer Server { get; } = server;

    private HttpClient Http => Server.Http;

    [Fact]
    public async Task Create_returns_201_and_the_details_show_every_field()
    {
        var meeting = $"https://meet.google.com/{Api.MeetCode()}";
        using var response = await Http.PostAsJsonAsync("/v2/bots", new
        {
            bot_name = "Note taker",
            meeting_url = meeting,
            recording_mode = "audio_only",
            extra = new { customer = "acme", n = 3 },
            entry_message = (string?)null,
            timeout_config = new { silence_timeout = 120 },
        });
        var created = await response.ReadJsonAsync();
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.True(created.GetProperty("success").GetBoolean());
        var id = created.GetProperty("data").GetProperty("bot_id").GetString()!;
        Assert.True(Guid.TryParse(id, out _));

        var bot = await Http.GetDataAsync($"/v2/bots/{id}");
        Assert.Equal(id, bot.GetProperty("bot_id").GetString());
        Assert.Equal("Note taker", bot.GetProperty("bot_name").GetString());
        Assert.Equal(meeting, bot.GetProperty("meeting_url").GetString());
        Assert.Equal("meet", bot.GetProperty("meeting_platform").GetString());
        Assert.Equal("audio_only", bot.GetProperty("recording_mode").GetString());
        Assert.Equal("queued", bot.GetProperty("status").GetString());
        Assert.Equal("acme", bot.GetProperty("extra").GetProperty("customer").GetString());
        Assert.Equal(JsonValueKind.Array, bot.GetProperty("participants").ValueKind);
        Assert.Equal(JsonValueKind.Null, bot.GetProperty("video").ValueKind);
        Assert.Equal(JsonValueKind.Null, bot.GetProperty("joined_at").ValueKind);
        Assert.False(bot.GetProperty("artifacts_deleted").GetBoolean());
        foreach (var field in new[] { "exited_at", "duration_seconds", "speakers", "audio", "diarization", "transcription", "raw_transcription", "chat_messages", "transcription_ids", "transcription_provider", "error_code", "error_message", "zoom_config" })
        {
            Assert.True(bot.TryGetProperty(field, out _), $"details lack {field}");
        }

        var history = bot.GetProperty("status_history");
        Assert.Equal("queued", Assert.Single(history.EnumerateArray()).GetProperty("code").GetString());
        Assert.Equal("DEPLOYING", bot.GetProperty("deployment").GetProperty("state").GetString());
        Assert.EndsWith("Z", bot.GetProperty("created_at").GetString(), StringComparison.Ordinal);

        var status = await Http.GetDataAsync($"/v2/bots/{id}/status");
        Assert.Equal("queued", status.GetProperty("status").GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_missing_or_wrong_key_is_401_with_the_error_envelope()
    {
        using var anonymous = new HttpClient { BaseAddress = Http.BaseAddress };
        using (var response = await anonymous.GetAsync("/v2/bots"))
        {
            await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        }

        anonymous.DefaultRequestHeaders.Add("x-meeting-baas-api-key", "wrong-key-wrong-key-wrong");
        using var wrong = await anonymous.PostAsJsonAsync("/v2/bots", new { bot_name = "x", meeting_url = "https://meet.google.com/abc-defg-hij" });
        await wrong.AssertErrorAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }

    [Theory]
    [InlineData("""{"meeting_url":"https://meet.google.com/abc-defg-hij"}""", "VALIDATION_ERROR", "bot_name")]
    [InlineData("""{"bot_name":"","meeting_url":"https://meet.google.com/abc-defg-hij"}""", "VALIDATION_ERROR", "bot_name")]
    [InlineData("""{"bot_name":"x","meeting_url":"https://example.com/not-a-meeting"}""", "INVALID_MEETING_URL", "meeting_url")]
    [InlineData("""{"bot_name":"x"}""", "INVALID_MEETING_URL", "meeting_url")]
    [InlineData("""{"bot_name":"x","meeting_url":"https://meet.google.com/abc-defg-hij","recording_mode":"4k"}""", "VALIDATION_ERROR", "recording_mode")]
    [InlineData("""{"bot_name":"x","meeting_url":"https://meet.google.com/abc-defg-hij","timeout_config":{"waiting_room_timeout":5}}""", "VALIDATION_ERROR", "timeout_config.waiting_room_timeout")]
    [InlineData("""{"bot_name":"x","meeting_url":"https://meet.google.com/abc-defg-hij","bot_image":["https://a/1.png","https://a/2.png","https://a/3.png","https://a/4.png","https://a/5.png","https://a/6.png"]}""", "VALIDATION_ERROR", "bot_image")]
    [InlineData("""{"bot_name":"x","meeting_url":"https://meet.google.com/abc-defg-hij","bot_image_config":{"loop_mode":"auto","image_duration":5}}""", "VALIDATION_ERROR", "bot_image_config.image_duration")]
    [InlineData("""{"bot_name":"x","meeting_url":"https://meet.google.com/abc-defg-hij","callback_config":{"url":"ftp://x","method":"GET"}}""", "VALIDATION_ERROR", "callback_config.method")]
    [InlineData("""{"bot_name":"x","meeting_url":"https://meet.google.com/abc-defg-hij","streaming_config":{"audio_frequency":44100}}""", "VALIDATION_ERROR", "streaming_config.audio_frequency")]
    [InlineData("""{"bot_name":"x","meeting_url":"https://meet.google.com/abc-defg-hij","extra":[1,2]}""", "VALIDATION_ERROR", "extra")]
    [InlineData("""{"bot_name":12,"meeting_url":"https://meet.google.com/abc-defg-hij"}""", "VALIDATION_ERROR", "bot_name")]
    [InlineData("""{"bot_name":"x","meeting_url":"https://meet.google.com/abc-defg-hij","allow_multiple_bots":"no"}""", "VALIDATION_ERROR", "allow_multiple_bots")]
    [InlineData("""{"bot_name":"x","meeting_url":"https://meet.google.com/abc-defg-hij","extra":{"priority":"high"}}""", "VALIDATION_ERROR", "extra.priority")]
    [InlineData("""{"bot_name":"x","meeting_url":"https://meet.google.com/abc-defg-hij","extra":{"priority":"10"}}""", "VALIDATION_ERROR", "extra.priority")]
    [InlineData("""{"bot_name":"x","meeting_url":"https://meet.google.com/abc-defg-hij","extra":{"priority":2.5}}""", "VALIDATION_ERROR", "extra.priority")]
    [InlineData("""{"bot_name":"x","meeting_url":"https://meet.google.com/abc-defg-hij","extra":{"priority":10.0}}""", "VALIDATION_ERROR", "extra.priority")]
    [InlineData("""{"bot_name":"x","meeting_url":"https://meet.google.com/abc-defg-hij","extra":{"priority":1e2}}""", "VALIDATION_ERROR", "extra.priority")]
    [InlineData("""{"bot_name":"x","meeting_url":"https://meet.google.com/abc-defg-hij","extra":{"priority":1001}}""", "VALIDATION_ERROR", "extra.priority")]
    [InlineData("""{"bot_name":"x","meeting_url":"https://meet.google.com/abc-defg-hij","extra":{"priority":-1001}}""", "VALIDATION_ERROR", "extra.priority")]
    [InlineData("""{"bot_name":"x","meeting_url":"https://meet.google.com/abc-defg-hij","extra":{"priority":2147483648}}""", "VALIDATION_ERROR", "extra.priority")]
    [InlineData("""{"bot_name":"x","meeting_url":"https://meet.google.com/abc-defg-hij","extra":{"priority":true}}""", "VALIDATION_ERROR", "extra.priority")]
    [InlineData("""{"bot_name":"x","meeting_url":"https://meet.google.com/abc-defg-hij","extra":{"priority":[1]}}""", "VALIDATION_ERROR", "extra.priority")]
    [InlineData("""{"bot_name":"x","meeting_url":"https://meet.google.com/abc-defg-hij","extra":{"priority":{"n":1}}}""", "VALIDATION_ERROR", "extra.priority")]
    public async Task Invalid_bodies_get_a_400_naming_the_field(string body, string code, string field)
    {
        using var response = await Http.PostAsync("/v2/bots", new StringContent(body, Encoding.UTF8, "application/json"));
        await response.AssertErrorAsync(HttpStatusCode.BadRequest, code);
        var json = await response.ReadJsonAsync();
        Assert.Contains(json.GetProperty("details").EnumerateArray(), d => d.GetProperty("field").GetString() == field);
    }

    [Fact]
    public async Task Extra_priority_is_an_integer_within_bounds_on_create_batch_and_update_config()
    {
        // Accepted: the bounds, a negative value, and null (the default 0).
        foreach (var priority in new int?[] { 1000, -1000, -3, 0, null })
        {
            var id = await Server.CreateBotAsync(new { bot_name = "p", meeting_url = $"https://meet.google.com/{Api.MeetCode()}", extra = new { priority } });
            var extra = (await Http.GetDataAsync($"/v2/bots/{id}")).GetProperty("extra");
            Assert.Equal(priority is { } p ? JsonValueKind.Number : JsonValueKind.Null, extra.GetProperty("priority").ValueKind);
        }

        // The whole error envelope of API.md, naming the field and the expected range.
        using (var refused = await Http.PostAsync("/v2/bots", new StringContent(
            $$$"""{"bot_name":"x","meeting_url":"https://meet.google.com/{{{Api.MeetCode()}}}","extra":{"priority":"urgent"}}""", Encoding.UTF8, "application/json")))
        {
            await refused.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_ERROR");
            var json = await refused.ReadJsonAsync();
            Assert.False(json.GetProperty("success").GetBoolean());
            Assert.Equal(400, json.GetProperty("statusCode").GetInt32());
            var detail = Assert.Single(json.GetProperty("details").EnumerateArray());
            Assert.Equal("extra.priority", detail.GetProperty("field").GetString());
            Assert.StartsWith("must be an integer between -1000 and 1000", detail.GetProperty("problem").GetString(), StringComparison.Ordinal);
        }

        // Batch: the bad item is reported by index, the good one is created.
        using (var batch = await Http.PostAsJsonAsync("/v2/bots/batch", new object[]
        {
            new { bot_name = "ok", meeting_url = $"https://meet.google.com/{Api.MeetCode()}", extra = new { priority = 5 } },
            new { bot_name = "bad", meeting_url = $"https://meet.google.com/{Api.MeetCode()}", extra = new { priority = 5.5 } },
        }))
        {
            var json = await batch.ReadJsonAsync();
            Assert.Equal(0, Assert.Single(json.GetProperty("data").EnumerateArray()).GetProperty("index").GetInt32());
            var error = Assert.Single(json.GetProperty("errors").EnumerateArray());
            Assert.Equal(1, error.GetProperty("index").GetInt32());
            Assert.Equal("VALIDATION_ERROR", error.GetProperty("code").GetString());
            Assert.Contains(error.GetProperty("details").EnumerateArray(), d => d.GetProperty("field").GetString() == "extra.priority");
        }

        // update-config: a bad priority changes nothing; a good one moves the bot; null removes it.
        var bot = await Server.CreateBotAsync(new { bot_name = "u", meeting_url = $"https://meet.google.com/{Api.MeetCode()}", extra = new { priority = 2, keep = "x" } });
        using (var bad = await Http.PatchAsJsonAsync($"/v2/bots/{bot}/update-config", new { extra = new { priority = "top", other = 1 } }))
        {
            await bad.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_ERROR");
            var json = await bad.ReadJsonAsync();
            Assert.Equal("extra.priority", Assert.Single(json.GetProperty("details").EnumerateArray()).GetProperty("field").GetString());
        }

        using (var tooHigh = await Http.PatchAsJsonAsync($"/v2/bots/{bot}/update-config", new { extra = new { priority = 5000 } }))
        {
            await tooHigh.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_ERROR");
        }

        var unchanged = (await Http.GetDataAsync($"/v2/bots/{bot}")).GetProperty("extra");
        Assert.Equal(2, unchanged.GetProperty("priority").GetInt32());
        Assert.False(unchanged.TryGetProperty("other", out _));

        using (var good = await Http.PatchAsJsonAsync($"/v2/bots/{bot}/update-config", new { extra = new { priority = 900 } }))
        {
            Assert.Equal(HttpStatusCode.OK, good.StatusCode);
            Assert.Equal(900, (await good.ReadJsonAsync()).GetProperty("data").GetProperty("extra").GetProperty("priority").GetInt32());
        }

        using (var removed = await Http.PatchAsJsonAsync($"/v2/bots/{bot}/update-config", new { extra = new { priority = (int?)null } }))
        {
            var extra = (await removed.ReadJsonAsync()).GetProperty("data").GetProperty("extra");
            Assert.False(extra.TryGetProperty("priority", out _));
            Assert.Equal("x", extra.GetProperty("keep").GetString());
        }
    }

    [Theory]
    [InlineData("{\"bot_name\": \"x\",")]
    [InlineData("not json")]
    [InlineData("")]
    [InlineData("[1,2,3]")]
    public async Task Malformed_json_is_invalid_json(string body)
    {
        using var response = await Http.PostAsync("/v2/bots", new StringContent(body, Encoding.UTF8, "application/json"));
        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "INVALID_JSON");
    }

    [Fact]
    public async Task A_body_over_1_mb_is_413()
    {
        var big = "{\"bot_name\":\"" + new string('x', 1_100_000) + "\"}";
        using var response = await Http.PostAsync("/v2/bots", new StringContent(big, Encoding.UTF8, "application/json"));
        await response.AssertErrorAsync(HttpStatusCode.RequestEntityTooLarge, "PAYLOAD_TOO_LARGE");
    }

    [Fact]
    public async Task Extra_over_16_kb_and_transcription_without_its_flag_are_refused()
    {
        using var extra = await Http.PostAsJsonAsync("/v2/bots", new { bot_name = "x", meeting_url = "https://meet.google.com/abc-defg-hij", extra = new { blob = new string('y', 17_000) } });
        await extra.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_ERROR");

        using var transcription = await Http.PostAsJsonAsync("/v2/bots", new { bot_name = "x", meeting_url = "https://meet.google.com/abc-defg-hij", transcription_enabled = true });
        await transcription.AssertErrorAsync(HttpStatusCode.BadRequest, "FEATURE_DISABLED");
    }

    [Theory]
    [InlineData("https://us02web.zoom.us/j/81234567890?pwd=abc", "zoom")]
    [InlineData("https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0?context=%7b%7d", "teams")]
    [InlineData("http://127.0.0.1:3001/meet/standup-42", "parley")]
    public async Task Every_platform_is_recognised(string url, string platform)
    {
        var id = await Server.CreateBotAsync(new { bot_name = "p", meeting_url = url });

        var bot = await Http.GetDataAsync($"/v2/bots/{id}");
        Assert.Equal(platform, bot.GetProperty("meeting_platform").GetString());
    }

    [Fact]
    public async Task Another_bot_id_is_404()
    {
        using var response = await Http.GetAsync($"/v2/bots/{Guid.NewGuid()}");
        await response.AssertErrorAsync(HttpStatusCode.NotFound, "NOT_FOUND");
    }

    [Fact]
    public async Task Fifty_simultaneous_creates_for_one_meeting_give_exactly_one_201()
    {
        var meeting = $"https://meet.google.com/{Api.MeetCode()}";
        var requests = Enumerable.Range(0, 50).Select(async i =>
        {
            // Different spellings of the same meeting URL still count as one meeting.
            var url = i % 2 == 0 ? meeting : meeting.ToUpperInvariant().Replace("HTTPS://MEET.GOOGLE.COM", "https://meet.google.com", StringComparison.Ordinal) + "/";
            using var response = await Http.PostAsJsonAsync("/v2/bots", new { bot_name = $"dup {i}", meeting_url = url, allow_multiple_bots = false });
            var json = await response.ReadJsonAsync();
            return (response.StatusCode, json);
        });

        var results = await Task.WhenAll(requests);

        Assert.Single(results, r => r.StatusCode == HttpStatusCode.Created);
        Assert.All(results.Where(r => r.StatusCode != HttpStatusCode.Created), r =>
        {
            Assert.Equal(HttpStatusCode.Conflict, r.StatusCode);
            Assert.Equal("BOT_ALREADY_EXISTS", r.json.GetProperty("code").GetString());
        });
    }

    [Fact]
    public async Task A_deduplication_key_holds_until_the_first_bot_ends()
    {
        var key = "dedup-" + Guid.NewGuid();
        var first = await Server.CreateBotAsync(new { bot_name = "a", meeting_url = $"https://meet.google.com/{Api.MeetCode()}", deduplication_key = key });
        using (var second = await Http.PostAsJsonAsync("/v2/bots", new { bot_name = "b", meeting_url = $"https://meet.google.com/{Api.MeetCode()}", deduplication_key = key }))
        {
            await second.AssertErrorAsync(HttpStatusCode.Conflict, "BOT_ALREADY_EXISTS");
        }

        using (var leave = await Http.PostAsync($"/v2/bots/{first}/leave", null))
        {
            Assert.Equal(HttpStatusCode.OK, leave.StatusCode);
        }

        await Server.CreateBotAsync(new { bot_name = "c", meeting_url = $"https://meet.google.com/{Api.MeetCode()}", deduplication_key = key });
    }

    [Fact]
    public async Task Batch_creates_each_body_and_reports_each_failure_by_index()
    {
        var body = new object[]
        {
            new { bot_name = "one", meeting_url = $"https://meet.google.com/{Api.MeetCode()}", extra = new { row = 1 } },
            new { bot_name = "two", meeting_url = "https://example.com/x", extra = new { row = 2 } },
            new { meeting_url = $"https://meet.google.com/{Api.MeetCode()}" },
        };
        using var response = await Http.PostAsJsonAsync("/v2/bots/batch", body);
        var json = await response.ReadJsonAsync();

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = Assert.Single(json.GetProperty("data").EnumerateArray());
        Assert.Equal(0, created.GetProperty("index").GetInt32());
        Assert.Equal(1, created.GetProperty("extra").GetProperty("row").GetInt32());
        var errors = json.GetProperty("errors").EnumerateArray().ToList();
        Assert.Equal([1, 2], errors.Select(e => e.GetProperty("index").GetInt32()));
        Assert.Equal("INVALID_MEETING_URL", errors[0].GetProperty("code").GetString());
        Assert.Equal(2, errors[0].GetProperty("extra").GetProperty("row").GetInt32());
        Assert.Equal("VALIDATION_ERROR", errors[1].GetProperty("code").GetString());

        using var tooMany = await Http.PostAsJsonAsync("/v2/bots/batch", Enumerable.Range(0, 101).Select(_ => new { bot_name = "x" }));
        await tooMany.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_ERROR");
    }

    [Fact]
    public async Task A_created_bot_is_in_the_embedded_queue_when_the_201_is_sent()
    {
        var id = await Server.CreateBotAsync();

        // Same database, same transaction: no outbox hop for the embedded queue.
        await using var db = Server.Database.CreateDbContext();
        Assert.True(await db.QueueMessages.AnyAsync(m => m.Body.Contains(id)));
        Assert.False(await db.Outbox.AnyAsync(m => m.Payload.Contains(id)));
    }
}

public sealed class BotsApiSqliteTests(SqliteApiServer server) : BotsApiTests(server), IClassFixture<SqliteApiServer>;

public sealed class BotsApiPostgresTests(PostgresApiServer server) : BotsApiTests(server), IClassFixture<PostgresApiServer>;
