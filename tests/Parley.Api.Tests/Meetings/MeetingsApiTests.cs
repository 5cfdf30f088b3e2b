using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;

namespace Parley.Api.Tests.Meetings;

/// <summary>API.md "Meetings (Parley's own)" against a real server: SQLite and PostgreSQL run the same tests.</summary>
public abstract class MeetingsApiTests(ApiServer server)
{
    protected ApiServer Server { get; } = server;

    private HttpClient Http => Server.Http;

    private HttpClient Anonymous() => new() { BaseAddress = Http.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };

    private async Task<JsonElement> CreateAsync(object? body = null)
    {
        using var response = await Http.PostAsJsonAsync("/v2/meetings", body ?? new { });
        var json = await response.ReadJsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, json.ToString());
        Assert.True(json.GetProperty("success").GetBoolean());
        return json.GetProperty("data");
    }

    private static string AdhocId() => "room-" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task Create_returns_201_with_a_readable_id_a_join_url_and_the_defaults()
    {
        var before = DateTime.UtcNow.AddSeconds(-1);
        var meeting = await CreateAsync(new { name = "Weekly sync" });

        var id = meeting.GetProperty("meeting_id").GetString()!;
        Assert.Matches("^[a-z]{3}-[a-z]{4}-[a-z]{3}$", id);
        Assert.Equal($"{Http.BaseAddress!.ToString().TrimEnd('/')}/meet/{id}", meeting.GetProperty("join_url").GetString());
        Assert.Equal("Weekly sync", meeting.GetProperty("name").GetString());
        Assert.Equal(50, meeting.GetProperty("max_participants").GetInt32());
        Assert.Equal(14400, meeting.GetProperty("ttl_seconds").GetInt32());
        Assert.False(meeting.GetProperty("lobby").GetBoolean());
        Assert.True(meeting.GetProperty("allow_guests").GetBoolean());
        Assert.False(meeting.GetProperty("adhoc").GetBoolean());
        Assert.Equal("open", meeting.GetProperty("status").GetString());
        var created = meeting.GetProperty("created_at").GetDateTime().ToUniversalTime();
        var ends = meeting.GetProperty("ends_at").GetDateTime().ToUniversalTime();
        Assert.EndsWith("Z", meeting.GetProperty("created_at").GetString(), StringComparison.Ordinal);
        Assert.InRange(created, before, DateTime.UtcNow.AddSeconds(1));
        Assert.Equal(TimeSpan.FromSeconds(14400), ends - created);
        Assert.Equal(JsonValueKind.Null, meeting.GetProperty("closed_at").ValueKind);

        var details = await Http.GetDataAsync($"/v2/meetings/{id}");
        Assert.Equal(id, details.GetProperty("meeting_id").GetString());
        Assert.Equal(0, details.GetProperty("participant_count").GetInt32());
        Assert.Equal(meeting.GetProperty("created_at").GetString(), details.GetProperty("created_at").GetString());
    }

    [Fact]
    public async Task Create_takes_every_option_and_an_empty_body_or_nulls_mean_the_defaults()
    {
        var meeting = await CreateAsync(new { name = "Board", max_participants = 8, ttl_seconds = 600, lobby = true, allow_guests = false });
        Assert.Equal(8, meeting.GetProperty("max_participants").GetInt32());
        Assert.Equal(600, meeting.GetProperty("ttl_seconds").GetInt32());
        Assert.True(meeting.GetProperty("lobby").GetBoolean());
        Assert.False(meeting.GetProperty("allow_guests").GetBoolean());

        var defaults = await CreateAsync(new { name = (string?)null, max_participants = (int?)null, ttl_seconds = (int?)null, lobby = (bool?)null, allow_guests = (bool?)null, unknown_field = 1 });
        Assert.Equal(JsonValueKind.Null, defaults.GetProperty("name").ValueKind);
        Assert.Equal(50, defaults.GetProperty("max_participants").GetInt32());
        Assert.True(defaults.GetProperty("allow_guests").GetBoolean());

        // What was stored is what was asked: allow_guests=false must not come back as the column's usual value.
        await using var db = Server.Database.CreateDbContext();
        var stored = await db.Meetings.AsNoTracking().SingleAsync(m => m.Id == meeting.GetProperty("meeting_id").GetString());
        Assert.False(stored.AllowGuests);
        Assert.Equal(8, stored.MaxParticipants);
        Assert.Null((await db.Meetings.AsNoTracking().SingleAsync(m => m.Id == defaults.GetProperty("meeting_id").GetString())).MaxParticipants);
    }

    [Theory]
    [InlineData("""{"max_participants":0}""", "max_participants")]
    [InlineData("""{"max_participants":1001}""", "max_participants")]
    [InlineData("""{"ttl_seconds":59}""", "ttl_seconds")]
    [InlineData("""{"ttl_seconds":604801}""", "ttl_seconds")]
    [InlineData("""{"lobby":"yes"}""", "lobby")]
    [InlineData("""{"max_participants":"ten"}""", "max_participants")]
    public async Task Create_refuses_bad_fields_with_details(string body, string field)
    {
        using var response = await Http.PostAsync("/v2/meetings", new StringContent(body, Encoding.UTF8, "application/json"));
        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_ERROR");
        var details = (await response.ReadJsonAsync()).GetProperty("details");
        Assert.Contains(details.EnumerateArray(), d => d.GetProperty("field").GetString() == field && d.GetProperty("problem").GetString()!.Length > 0);
    }

    [Fact]
    public async Task Create_reports_every_problem_at_once_and_refuses_bad_json()
    {
        using var response = await Http.PostAsJsonAsync("/v2/meetings", new { name = new string('n', 256), max_participants = 5000, ttl_seconds = 1 });
        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_ERROR");
        var fields = (await response.ReadJsonAsync()).GetProperty("details").EnumerateArray().Select(d => d.GetProperty("field").GetString()).ToList();
        Assert.Equal(["name", "max_participants", "ttl_seconds"], fields);

        using var broken = await Http.PostAsync("/v2/meetings", new StringContent("{", Encoding.UTF8, "application/json"));
        await broken.AssertErrorAsync(HttpStatusCode.BadRequest, "INVALID_JSON");
    }

    [Fact]
    public async Task The_meetings_api_needs_the_key()
    {
        using var anonymous = Anonymous();
        using (var list = await anonymous.GetAsync("/v2/meetings"))
        {
            await list.AssertErrorAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        }

        using var create = await anonymous.PostAsJsonAsync("/v2/meetings", new { });
        await create.AssertErrorAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }

    [Fact]
    public async Task List_is_newest_first_with_cursors_both_ways_and_a_status_filter()
    {
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await CreateAsync(new { name = $"page-{i}" })).GetProperty("meeting_id").GetString()!);
        }

        // Walk every page of two; the three just made come first, newest first, and nothing repeats.
        var seen = new List<string>();
        var pages = new List<(List<string> Ids, string? Prev)>();
        string? cursor = null;
        do
        {
            using var response = await Http.GetAsync("/v2/meetings?limit=2" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            var json = await response.ReadJsonAsync();
            Assert.True(response.IsSuccessStatusCode, json.ToString());
            var page = json.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("meeting_id").GetString()!).ToList();
            Assert.InRange(page.Count, 1, 2);
            pages.Add((page, json.GetProperty("prev_cursor").GetString()));
            seen.AddRange(page);
            cursor = json.GetProperty("cursor").GetString();
        }
        while (cursor is not null);

        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Equal([ids[2], ids[1], ids[0]], seen.Take(3));
        Assert.Null(pages[0].Prev);

        using (var back = await Http.GetAsync("/v2/meetings?limit=2&cursor=" + Uri.EscapeDataString(pages[1].Prev!)))
        {
            var json = await back.ReadJsonAsync();
            Assert.Equal(pages[0].Ids, json.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("meeting_id").GetString()!));
            Assert.Equal(JsonValueKind.Null, json.GetProperty("prev_cursor").ValueKind);
        }

        // A deleted meeting is still listed, as closed; the filter splits the two.
        (await Http.DeleteAsync($"/v2/meetings/{ids[1]}")).EnsureSuccessStatusCode();
        var closed = await Http.GetDataAsync("/v2/meetings?status=closed&limit=100");
        var entry = closed.EnumerateArray().Single(m => m.GetProperty("meeting_id").GetString() == ids[1]);
        Assert.Equal("closed", entry.GetProperty("status").GetString());
        Assert.Equal("deleted", entry.GetProperty("close_reason").GetString());
        Assert.All(closed.EnumerateArray(), m => Assert.Equal("closed", m.GetProperty("status").GetString()));
        var open = await Http.GetDataAsync("/v2/meetings?status=open&limit=100");
        Assert.DoesNotContain(open.EnumerateArray(), m => m.GetProperty("meeting_id").GetString() == ids[1]);
        Assert.Contains(open.EnumerateArray(), m => m.GetProperty("meeting_id").GetString() == ids[2]);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=101", "limit")]
    [InlineData("cursor=not-a-cursor", "cursor")]
    [InlineData("status=ended", "status")]
    public async Task List_refuses_bad_queries_with_details(string query, string field)
    {
        using var response = await Http.GetAsync("/v2/meetings?" + query);
        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_ERROR");
        Assert.Equal(field, (await response.ReadJsonAsync()).GetProperty("details")[0].GetProperty("field").GetString());
    }

    [Fact]
    public async Task Unknown_meetings_are_404()
    {
        using (var get = await Http.GetAsync("/v2/meetings/zzz-zzzz-zzz"))
        {
            await get.AssertErrorAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        }

        using (var delete = await Http.DeleteAsync("/v2/meetings/zzz-zzzz-zzz"))
        {
            await delete.AssertErrorAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        }

        using var token = await Http.PostAsJsonAsync("/v2/meetings/zzz-zzzz-zzz/tokens", new { identity = "a", name = "A" });
        await token.AssertErrorAsync(HttpStatusCode.NotFound, "NOT_FOUND");
    }

    [Fact]
    public async Task Delete_closes_the_meeting_and_a_second_delete_is_200_again()
    {
        var id = (await CreateAsync()).GetProperty("meeting_id").GetString()!;

        using var first = await Http.DeleteAsync($"/v2/meetings/{id}");
        var deleted = (await first.ReadJsonAsync()).GetProperty("data");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("closed", deleted.GetProperty("status").GetString());
        Assert.Equal("deleted", deleted.GetProperty("close_reason").GetString());
        var closedAt = deleted.GetProperty("closed_at").GetString();
        Assert.NotNull(closedAt);

        using var second = await Http.DeleteAsync($"/v2/meetings/{id}");
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(closedAt, (await second.ReadJsonAsync()).GetProperty("data").GetProperty("closed_at").GetString());

        var details = await Http.GetDataAsync($"/v2/meetings/{id}");
        Assert.Equal("closed", details.GetProperty("status").GetString());

        using var token = await Http.PostAsJsonAsync($"/v2/meetings/{id}/tokens", new { identity = "alice", name = "Alice" });
        await token.AssertErrorAsync(HttpStatusCode.Conflict, "MEETING_CLOSED");

        using var anonymous = Anonymous();
        using var guest = await anonymous.PostAsJsonAsync($"/meet/{id}/guest-token", new { name = "Guest" });
        await guest.AssertErrorAsync(HttpStatusCode.Conflict, "MEETING_CLOSED");
    }

    [Fact]
    public async Task A_token_is_a_jwt_with_the_claims_asked_for_and_a_join_url_that_carries_it()
    {
        var meeting = await CreateAsync(new { ttl_seconds = 3600 });
        var id = meeting.GetProperty("meeting_id").GetString()!;

        using var response = await Http.PostAsJsonAsync($"/v2/meetings/{id}/tokens", new { identity = "recorder-1", name = "Recorder", can_publish = false, host = true, bot = true, ttl_seconds = 600 });
        var json = await response.ReadJsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, json.ToString());
        var data = json.GetProperty("data");
        var token = data.GetProperty("token").GetString()!;
        Assert.Equal(id, data.GetProperty("meeting_id").GetString());
        Assert.Equal($"{meeting.GetProperty("join_url").GetString()}?token={token}", data.GetProperty("join_url").GetString());

        var payload = Jwt.Payload(token);
        Assert.Equal("HS256", Jwt.Header(token).GetProperty("alg").GetString());
        Assert.Equal("recorder-1", payload.GetProperty("sub").GetString());
        Assert.Equal(id, payload.GetProperty("meeting").GetString());
        Assert.Equal("Recorder", payload.GetProperty("name").GetString());
        Assert.False(payload.GetProperty("can_publish").GetBoolean());
        Assert.True(payload.GetProperty("can_subscribe").GetBoolean());
        Assert.True(payload.GetProperty("host").GetBoolean());
        Assert.True(payload.GetProperty("bot").GetBoolean());
        Assert.Equal("parley", payload.GetProperty("iss").GetString());
        Assert.Equal("parley-meeting", payload.GetProperty("aud").GetString());
        Assert.False(string.IsNullOrEmpty(payload.GetProperty("jti").GetString()));
        var exp = payload.GetProperty("exp").GetInt64();
        Assert.Equal(600, exp - payload.GetProperty("iat").GetInt64());
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(exp).UtcDateTime, data.GetProperty("expires_at").GetDateTime().ToUniversalTime());

        // The defaults, and a token never outlives its meeting (3600 s here, less than PARLEY_MEETING_TOKEN_TTL).
        using var plain = await Http.PostAsJsonAsync($"/v2/meetings/{id}/tokens", new { identity = "bob", name = "Bob" });
        var plainData = (await plain.ReadJsonAsync()).GetProperty("data");
        var plainPayload = Jwt.Payload(plainData.GetProperty("token").GetString()!);
        Assert.True(plainPayload.GetProperty("can_publish").GetBoolean());
        Assert.True(plainPayload.GetProperty("can_subscribe").GetBoolean());
        Assert.False(plainPayload.GetProperty("host").GetBoolean());
        Assert.False(plainPayload.GetProperty("bot").GetBoolean());
        var endsAt = new DateTimeOffset(meeting.GetProperty("ends_at").GetDateTime().ToUniversalTime());
        Assert.Equal(endsAt.ToUnixTimeSeconds(), plainPayload.GetProperty("exp").GetInt64());
    }

    [Theory]
    [InlineData("""{"name":"A"}""", "identity")]
    [InlineData("""{"identity":"","name":"A"}""", "identity")]
    [InlineData("""{"identity":"a"}""", "name")]
    [InlineData("""{"identity":"a","name":"   "}""", "name")]
    [InlineData("""{"identity":"a","name":"bell\u0007"}""", "name")]
    [InlineData("""{"identity":"a","name":"A","ttl_seconds":10}""", "ttl_seconds")]
    [InlineData("""{"identity":"a","name":"A","host":"yes"}""", "host")]
    public async Task Token_requests_are_validated_with_details(string body, string field)
    {
        var id = (await CreateAsync()).GetProperty("meeting_id").GetString()!;
        using var response = await Http.PostAsync($"/v2/meetings/{id}/tokens", new StringContent(body, Encoding.UTF8, "application/json"));
        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_ERROR");
        Assert.Contains((await response.ReadJsonAsync()).GetProperty("details").EnumerateArray(), d => d.GetProperty("field").GetString() == field);
    }

    [Fact]
    public async Task Token_requests_check_the_lengths()
    {
        var id = (await CreateAsync()).GetProperty("meeting_id").GetString()!;
        using var response = await Http.PostAsJsonAsync($"/v2/meetings/{id}/tokens", new { identity = new string('i', 129), name = new string('n', 101) });
        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_ERROR");
        var fields = (await response.ReadJsonAsync()).GetProperty("details").EnumerateArray().Select(d => d.GetProperty("field").GetString()).ToList();
        Assert.Equal(["identity", "name"], fields);

        using var longest = await Http.PostAsJsonAsync($"/v2/meetings/{id}/tokens", new { identity = new string('i', 128), name = new string('n', 100) });
        Assert.Equal(HttpStatusCode.OK, longest.StatusCode);
    }

    [Fact]
    public async Task A_guest_of_a_meeting_that_admits_guests_gets_a_guest_token_without_a_key()
    {
        var id = (await CreateAsync(new { lobby = true })).GetProperty("meeting_id").GetString()!;
        using var anonymous = Anonymous();
        using var response = await anonymous.PostAsJsonAsync($"/meet/{id}/guest-token", new { name = "  Visitor  " });
        var json = await response.ReadJsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, json.ToString());
        var data = json.GetProperty("data");
        Assert.Equal(id, data.GetProperty("meeting_id").GetString());
        Assert.Equal(["token", "meeting_id", "expires_at"], data.EnumerateObject().Select(p => p.Name));

        var payload = Jwt.Payload(data.GetProperty("token").GetString()!);
        Assert.Matches("^guest-[0-9a-f]{16}$", payload.GetProperty("sub").GetString());
        Assert.Equal("Visitor", payload.GetProperty("name").GetString());
        Assert.Equal(id, payload.GetProperty("meeting").GetString());
        Assert.False(payload.GetProperty("host").GetBoolean());
        Assert.False(payload.GetProperty("bot").GetBoolean());
        Assert.True(payload.GetProperty("can_publish").GetBoolean());

        // Each guest is someone else.
        using var second = await anonymous.PostAsJsonAsync($"/meet/{id}/guest-token", new { name = "Visitor" });
        var secondPayload = Jwt.Payload((await second.ReadJsonAsync()).GetProperty("data").GetProperty("token").GetString()!);
        Assert.NotEqual(payload.GetProperty("sub").GetString(), secondPayload.GetProperty("sub").GetString());
    }

    [Fact]
    public async Task A_meeting_without_guests_refuses_guest_tokens_with_403()
    {
        var id = (await CreateAsync(new { allow_guests = false })).GetProperty("meeting_id").GetString()!;
        using var anonymous = Anonymous();
        using var response = await anonymous.PostAsJsonAsync($"/meet/{id}/guest-token", new { name = "Visitor" });
        await response.AssertErrorAsync(HttpStatusCode.Forbidden, "GUESTS_NOT_ALLOWED");
    }

    [Fact]
    public async Task An_unknown_id_starts_an_ad_hoc_meeting_where_the_first_guest_is_not_host()
    {
        var id = AdhocId();
        using var anonymous = Anonymous();
        using var response = await anonymous.PostAsJsonAsync($"/meet/{id}/guest-token", new { name = "First" });
        var json = await response.ReadJsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, json.ToString());
        var payload = Jwt.Payload(json.GetProperty("data").GetProperty("token").GetString()!);
        Assert.False(payload.GetProperty("host").GetBoolean());
        Assert.Equal(id, payload.GetProperty("meeting").GetString());

        // It belongs to the single team, so the API sees it.
        var meeting = await Http.GetDataAsync($"/v2/meetings/{id}");
        Assert.True(meeting.GetProperty("adhoc").GetBoolean());
        Assert.False(meeting.GetProperty("lobby").GetBoolean());
        Assert.True(meeting.GetProperty("allow_guests").GetBoolean());
        Assert.Equal("open", meeting.GetProperty("status").GetString());
        Assert.Equal(50, meeting.GetProperty("max_participants").GetInt32());

        // The second guest joins the same meeting; mixed case is another id.
        using var again = await anonymous.PostAsJsonAsync($"/meet/{id}/guest-token", new { name = "Second" });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        await using var db = Server.Database.CreateDbContext();
        Assert.Equal(1, await db.Meetings.CountAsync(m => m.Id == id));
    }

    [Fact]
    public async Task An_ended_ad_hoc_meeting_starts_afresh_at_its_link_unless_it_was_deleted()
    {
        var id = AdhocId();
        using var anonymous = Anonymous();
        (await anonymous.PostAsJsonAsync($"/meet/{id}/guest-token", new { name = "Monday" })).EnsureSuccessStatusCode();
        var first = await Http.GetDataAsync($"/v2/meetings/{id}");

        // Its TTL ran out without any room reporting it (nobody joined, or the SFU restarted).
        await using (var db = Server.Database.CreateDbContext())
        {
            var past = DateTime.UtcNow.AddMinutes(-1);
            await db.Meetings.Where(m => m.Id == id).ExecuteUpdateAsync(s => s.SetProperty(m => m.EndsAt, past));
        }

        Assert.Equal("closed", (await Http.GetDataAsync($"/v2/meetings/{id}")).GetProperty("status").GetString());
        using (var renewed = await anonymous.PostAsJsonAsync($"/meet/{id}/guest-token", new { name = "Tuesday" }))
        {
            Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
        }

        var second = await Http.GetDataAsync($"/v2/meetings/{id}");
        Assert.Equal("open", second.GetProperty("status").GetString());
        Assert.NotEqual(first.GetProperty("created_at").GetString(), second.GetProperty("created_at").GetString());

        // Deleted through the API: the link stays closed.
        (await Http.DeleteAsync($"/v2/meetings/{id}")).EnsureSuccessStatusCode();
        using var blocked = await anonymous.PostAsJsonAsync($"/meet/{id}/guest-token", new { name = "Wednesday" });
        await blocked.AssertErrorAsync(HttpStatusCode.Conflict, "MEETING_CLOSED");
    }

    [Fact]
    public async Task Concurrent_first_guests_of_an_ad_hoc_meeting_share_one_meeting()
    {
        var id = AdhocId();
        using var anonymous = Anonymous();
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => anonymous.PostAsJsonAsync($"/meet/{id}/guest-token", new { name = $"Guest {i}" })));
        foreach (var response in responses)
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            response.Dispose();
        }

        await using var db = Server.Database.CreateDbContext();
        Assert.Equal(1, await db.Meetings.CountAsync(m => m.Id == id));
    }

    [Theory]
    [InlineData("has.dot")]
    [InlineData("has%20space")]
    [InlineData("this-id-is-far-too-long-for-a-meeting-this-id-is-far-too-long-for-a-meeting")]
    public async Task Invalid_ids_are_MEETING_NOT_FOUND_and_create_nothing(string id)
    {
        using var anonymous = Anonymous();
        using var response = await anonymous.PostAsJsonAsync($"/meet/{id}/guest-token", new { name = "Guest" });
        await response.AssertErrorAsync(HttpStatusCode.NotFound, "MEETING_NOT_FOUND");
        var message = (await response.ReadJsonAsync()).GetProperty("message").GetString()!;
        Assert.DoesNotContain(Uri.UnescapeDataString(id), message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{}""", "name")]
    [InlineData("""{"name":""}""", "name")]
    [InlineData("""{"name":null}""", "name")]
    [InlineData("""{"name":5}""", "name")]
    public async Task Guest_names_are_validated_before_anything_is_created(string body, string field)
    {
        var id = AdhocId();
        using var anonymous = Anonymous();
        using var response = await anonymous.PostAsync($"/meet/{id}/guest-token", new StringContent(body, Encoding.UTF8, "application/json"));
        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_ERROR");
        Assert.Equal(field, (await response.ReadJsonAsync()).GetProperty("details")[0].GetProperty("field").GetString());
        await using var db = Server.Database.CreateDbContext();
        Assert.False(await db.Meetings.AnyAsync(m => m.Id == id));
    }
}

public sealed class MeetingsApiSqliteTests(SqliteApiServer server) : MeetingsApiTests(server), IClassFixture<SqliteApiServer>;

public sealed class MeetingsApiPostgresTests(PostgresApiServer server) : MeetingsApiTests(server), IClassFixture<PostgresApiServer>;
