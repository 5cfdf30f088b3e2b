using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Parley.Testing;

namespace Parley.Api.Tests.Teams;

/// <summary>The admin API and tenancy isolation, against a real multi-tenant server on SQLite and PostgreSQL.</summary>
public abstract class TeamsApiTests(ApiServer server)
{
    public const string AdminKey = "admin-key-0123456789abcdef0123456789";

    private readonly Uri _baseAddress = server.Http.BaseAddress!;

    private HttpClient Client(string? header = null, string? value = null)
    {
        var client = new HttpClient { BaseAddress = _baseAddress, Timeout = TimeSpan.FromSeconds(10) };
        if (header is not null)
        {
            client.DefaultRequestHeaders.Add(header, value);
        }

        return client;
    }

    private HttpClient Admin() => Client("x-admin-api-key", AdminKey);

    private HttpClient Team(string key) => Client("x-meeting-baas-api-key", key);

    private async Task<(string TeamId, string KeyId, string Key)> CreateTeamAsync(string name = "Acme")
    {
        using var admin = Admin();
        using var response = await admin.PostAsJsonAsync("/v2/teams", new { name });
        var json = await response.ReadJsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, json.ToString());
        var data = json.GetProperty("data");
        var key = data.GetProperty("api_key");
        return (data.GetProperty("team_id").GetString()!, key.GetProperty("id").GetString()!, key.GetProperty("key").GetString()!);
    }

    private static Task WaitForStatusAsync(HttpClient client, string path, HttpStatusCode status, string what) =>
        Eventually.ReturnsAsync(async () =>
        {
            using var response = await client.GetAsync(path);
            return response.StatusCode == status ? (object?)true : null;
        }, TimeSpan.FromSeconds(20), what);

    [Fact]
    public async Task Admin_calls_without_the_admin_key_are_401_and_a_team_key_is_not_an_admin_key()
    {
        var (_, _, teamKey) = await CreateTeamAsync();
        using var anonymous = Client();
        using var wrong = Client("x-admin-api-key", "not-the-admin-key-not-the-admin-key");
        using var team = Team(teamKey);
        using var teamAsAdmin = Client("x-admin-api-key", teamKey);
        foreach (var client in new[] { anonymous, wrong, team, teamAsAdmin })
        {
            using (var list = await client.GetAsync("/v2/teams"))
            {
                await list.AssertErrorAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
            }

            using var create = await client.PostAsJsonAsync("/v2/teams", new { name = "x" });
            await create.AssertErrorAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        }

        // And the other way round: the admin key is no team key.
        using var admin = Admin();
        using var bots = await admin.GetAsync("/v2/bots");
        await bots.AssertErrorAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }

    [Fact]
    public async Task The_openapi_document_describes_the_admin_api()
    {
        using var anonymous = Client();
        using var document = JsonDocument.Parse(await anonymous.GetStringAsync("/openapi/v1.json"));
        var paths = document.RootElement.GetProperty("paths");
        foreach (var (method, path) in new[]
        {
            ("post", "/v2/teams"), ("get", "/v2/teams"), ("get", "/v2/teams/{teamId}"), ("delete", "/v2/teams/{teamId}"),
            ("post", "/v2/teams/{teamId}/keys"), ("get", "/v2/teams/{teamId}/keys"), ("delete", "/v2/teams/{teamId}/keys/{keyId}"),
        })
        {
            Assert.True(paths.TryGetProperty(path, out var item) && item.TryGetProperty(method, out _), $"{method.ToUpperInvariant()} {path} is missing");
        }
    }

    [Fact]
    public async Task A_created_team_gets_a_key_shown_once_that_works_on_the_bots_api()
    {
        var (teamId, keyId, key) = await CreateTeamAsync("Acme Corp");
        Assert.Matches("^pk_[0-9a-f]{64}$", key);

        using var team = Team(key);
        using (var create = await team.PostAsJsonAsync("/v2/bots", new { bot_name = "Recorder", meeting_url = $"https://meet.google.com/{Api.MeetCode()}" }))
        {
            Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        }

        using var admin = Admin();
        var details = await admin.GetDataAsync($"/v2/teams/{teamId}");
        Assert.Equal("Acme Corp", details.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, details.GetProperty("deleted_at").ValueKind);

        var keys = (await admin.GetDataAsync($"/v2/teams/{teamId}/keys")).EnumerateArray().ToList();
        var listed = Assert.Single(keys);
        Assert.Equal(keyId, listed.GetProperty("id").GetString());
        Assert.Equal(key[..11], listed.GetProperty("prefix").GetString());
        Assert.Equal("default", listed.GetProperty("name").GetString());
        Assert.NotEqual(JsonValueKind.Null, listed.GetProperty("last_used_at").ValueKind);
        Assert.False(listed.TryGetProperty("key", out _));
        Assert.False(listed.TryGetProperty("hash", out _));
        Assert.DoesNotContain(key[11..], listed.ToString(), StringComparison.Ordinal);

        using var created = await admin.PostAsJsonAsync($"/v2/teams/{teamId}/keys", new { name = "ci" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var second = (await created.ReadJsonAsync()).GetProperty("data");
        Assert.Equal("ci", second.GetProperty("name").GetString());
        using var secondTeam = Team(second.GetProperty("key").GetString()!);
        using var list = await secondTeam.GetAsync("/v2/bots");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);

        using var unnamed = await admin.PostAsync($"/v2/teams/{teamId}/keys", null);
        Assert.Equal(HttpStatusCode.Created, unnamed.StatusCode);
    }

    [Theory]
    [InlineData("""{}""", "VALIDATION_ERROR")]
    [InlineData("""{"name":""}""", "VALIDATION_ERROR")]
    [InlineData("""{"name":"   "}""", "VALIDATION_ERROR")]
    [InlineData("""{"name":12}""", "VALIDATION_ERROR")]
    [InlineData("""{"name":"x""", "INVALID_JSON")]
    [InlineData("", "INVALID_JSON")]
    public async Task Invalid_team_bodies_are_400(string body, string code)
    {
        using var admin = Admin();
        using var response = await admin.PostAsync("/v2/teams", new StringContent(body, Encoding.UTF8, "application/json"));
        await response.AssertErrorAsync(HttpStatusCode.BadRequest, code);
        if (code == "VALIDATION_ERROR")
        {
            var json = await response.ReadJsonAsync();
            Assert.Contains(json.GetProperty("details").EnumerateArray(), d => d.GetProperty("field").GetString() == "name");
        }
    }

    [Fact]
    public async Task Names_over_255_characters_unknown_ids_and_bad_queries_are_refused()
    {
        using var admin = Admin();
        using (var longName = await admin.PostAsJsonAsync("/v2/teams", new { name = new string('n', 256) }))
        {
            await longName.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_ERROR");
        }

        var (teamId, _, _) = await CreateTeamAsync();
        using (var longKey = await admin.PostAsJsonAsync($"/v2/teams/{teamId}/keys", new { name = new string('k', 256) }))
        {
            await longKey.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_ERROR");
        }

        var unknown = Guid.NewGuid().ToString();
        foreach (var path in new[] { $"/v2/teams/{unknown}", $"/v2/teams/{unknown}/keys" })
        {
            using var response = await admin.GetAsync(path);
            await response.AssertErrorAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        }

        using (var key = await admin.PostAsJsonAsync($"/v2/teams/{unknown}/keys", new { name = "x" }))
        {
            await key.AssertErrorAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        }

        using (var delete = await admin.DeleteAsync($"/v2/teams/{unknown}"))
        {
            await delete.AssertErrorAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        }

        using (var revoke = await admin.DeleteAsync($"/v2/teams/{teamId}/keys/{unknown}"))
        {
            await revoke.AssertErrorAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        }

        foreach (var query in new[] { "?limit=0", "?limit=abc", "?cursor=%%%", "?include_deleted=maybe" })
        {
            using var response = await admin.GetAsync("/v2/teams" + query);
            await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_ERROR");
        }
    }

    [Fact]
    public async Task The_team_list_pages_with_cursors_newest_first()
    {
        var created = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            created.Add((await CreateTeamAsync($"Paged {i}")).TeamId);
        }

        using var admin = Admin();
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            using var response = await admin.GetAsync("/v2/teams?limit=2" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            var json = await response.ReadJsonAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = json.GetProperty("data").EnumerateArray().Select(t => t.GetProperty("team_id").GetString()!).ToList();
            Assert.InRange(page.Count, 1, 2);
            seen.AddRange(page);
            cursor = json.GetProperty("cursor").GetString();
        }
        while (cursor is not null);

        Assert.Equal(seen.Count, seen.Distinct().Count());
        var ours = seen.Where(created.Contains).ToList();
        Assert.Equal(Enumerable.Reverse(created), ours);
    }

    [Fact]
    public async Task Team_b_cannot_see_or_touch_team_a_bots()
    {
        var (_, _, keyA) = await CreateTeamAsync("A");
        var (_, _, keyB) = await CreateTeamAsync("B");
        using var a = Team(keyA);
        using var b = Team(keyB);
        using var create = await a.PostAsJsonAsync("/v2/bots", new { bot_name = "A's bot", meeting_url = $"https://meet.google.com/{Api.MeetCode()}" });
        var bot = (await create.ReadJsonAsync()).GetProperty("data").GetProperty("bot_id").GetString()!;

        var attempts = new (HttpMethod Method, string Path, object? Body)[]
        {
            (HttpMethod.Get, $"/v2/bots/{bot}", null),
            (HttpMethod.Get, $"/v2/bots/{bot}/status", null),
            (HttpMethod.Get, $"/v2/bots/{bot}/webhook-deliveries", null),
            (HttpMethod.Post, $"/v2/bots/{bot}/leave", null),
            (HttpMethod.Post, $"/v2/bots/{bot}/send-chat-message", new { message = "hello" }),
            (HttpMethod.Patch, $"/v2/bots/{bot}/update-config", new { extra = new { stolen = true } }),
            (HttpMethod.Delete, $"/v2/bots/{bot}/delete-data", null),
        };
        foreach (var (method, path, body) in attempts)
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
            using var response = await b.SendAsync(request);
            await response.AssertErrorAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        }

        var listB = await b.GetDataAsync("/v2/bots");
        Assert.DoesNotContain(listB.EnumerateArray(), x => x.GetProperty("bot_id").GetString() == bot);

        // Nothing B tried reached A's bot.
        var details = await a.GetDataAsync($"/v2/bots/{bot}");
        Assert.Equal("queued", details.GetProperty("status").GetString());
        Assert.False(details.GetProperty("extra").ValueKind == JsonValueKind.Object && details.GetProperty("extra").TryGetProperty("stolen", out _));
        Assert.False(details.GetProperty("artifacts_deleted").GetBoolean());
        var listA = await a.GetDataAsync("/v2/bots");
        Assert.Contains(listA.EnumerateArray(), x => x.GetProperty("bot_id").GetString() == bot);
    }

    [Fact]
    public async Task A_revoked_key_is_refused_and_the_team_other_keys_keep_working()
    {
        var (teamId, keyId, key) = await CreateTeamAsync();
        using var admin = Admin();
        using var second = await admin.PostAsJsonAsync($"/v2/teams/{teamId}/keys", new { name = "spare" });
        var spare = (await second.ReadJsonAsync()).GetProperty("data").GetProperty("key").GetString()!;
        using var team = Team(key);
        using (var before = await team.GetAsync("/v2/bots"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        using var revoke = await admin.DeleteAsync($"/v2/teams/{teamId}/keys/{keyId}");
        var revoked = await revoke.ReadJsonAsync();
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        Assert.NotEqual(JsonValueKind.Null, revoked.GetProperty("data").GetProperty("revoked_at").ValueKind);

        await WaitForStatusAsync(team, "/v2/bots", HttpStatusCode.Unauthorized, "the revoked key to be refused");
        using var spareTeam = Team(spare);
        using var still = await spareTeam.GetAsync("/v2/bots");
        Assert.Equal(HttpStatusCode.OK, still.StatusCode);

        using var again = await admin.DeleteAsync($"/v2/teams/{teamId}/keys/{keyId}");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(
            revoked.GetProperty("data").GetProperty("revoked_at").GetString(),
            (await again.ReadJsonAsync()).GetProperty("data").GetProperty("revoked_at").GetString());
    }

    [Fact]
    public async Task A_deleted_team_loses_its_keys_and_leaves_the_default_list()
    {
        var (teamId, _, key) = await CreateTeamAsync("Leaving");
        using var team = Team(key);
        using (var before = await team.GetAsync("/v2/bots"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        using var admin = Admin();
        using (var delete = await admin.DeleteAsync($"/v2/teams/{teamId}"))
        {
            Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        }

        await WaitForStatusAsync(team, "/v2/bots", HttpStatusCode.Unauthorized, "the deleted team's key to be refused");
        var details = await admin.GetDataAsync($"/v2/teams/{teamId}");
        Assert.NotEqual(JsonValueKind.Null, details.GetProperty("deleted_at").ValueKind);

        var visible = await admin.GetDataAsync("/v2/teams?limit=100");
        Assert.DoesNotContain(visible.EnumerateArray(), t => t.GetProperty("team_id").GetString() == teamId);
        var all = await admin.GetDataAsync("/v2/teams?limit=100&include_deleted=true");
        Assert.Contains(all.EnumerateArray(), t => t.GetProperty("team_id").GetString() == teamId);

        using var key2 = await admin.PostAsJsonAsync($"/v2/teams/{teamId}/keys", new { name = "late" });
        await key2.AssertErrorAsync(HttpStatusCode.Conflict, "TEAM_DELETED");
    }
}

public sealed class SqliteMultiTenantServer : ApiServer
{
    protected override Task<Dictionary<string, string?>> EnvironmentAsync() => Task.FromResult(new Dictionary<string, string?>
    {
        ["ENABLE_MULTI_TENANT"] = "true",
        ["PARLEY_ADMIN_API_KEY"] = TeamsApiTests.AdminKey,
    });
}

public sealed class PostgresMultiTenantServer : ApiServer
{
    protected override async Task<Dictionary<string, string?>> EnvironmentAsync() => new()
    {
        ["ENABLE_MULTI_TENANT"] = "true",
        ["PARLEY_ADMIN_API_KEY"] = TeamsApiTests.AdminKey,
        ["DATABASE_URL"] = await PostgresDatabase.CreateAsync(),
    };
}

public sealed class TeamsApiSqliteTests(SqliteMultiTenantServer server) : TeamsApiTests(server), IClassFixture<SqliteMultiTenantServer>;

public sealed class TeamsApiPostgresTests(PostgresMultiTenantServer server) : TeamsApiTests(server), IClassFixture<PostgresMultiTenantServer>;
