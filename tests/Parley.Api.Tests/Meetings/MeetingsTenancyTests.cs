using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Parley.Api.Tests.Teams;

namespace Parley.Api.Tests.Meetings;

/// <summary>Meetings are the team's own: another team's meeting answers 404, never 403 (multi-tenant server).</summary>
public abstract class MeetingsTenancyTests(ApiServer server)
{
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

    private async Task<HttpClient> NewTeamAsync(string name)
    {
        using var admin = Client("x-admin-api-key", TeamsApiTests.AdminKey);
        using var response = await admin.PostAsJsonAsync("/v2/teams", new { name });
        var json = await response.ReadJsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, json.ToString());
        return Client("x-meeting-baas-api-key", json.GetProperty("data").GetProperty("api_key").GetProperty("key").GetString());
    }

    [Fact]
    public async Task Another_teams_meeting_is_404_everywhere_and_missing_from_its_list()
    {
        using var acme = await NewTeamAsync("Acme");
        using var globex = await NewTeamAsync("Globex");
        using var created = await acme.PostAsJsonAsync("/v2/meetings", new { name = "Acme only" });
        var id = (await created.ReadJsonAsync()).GetProperty("data").GetProperty("meeting_id").GetString()!;

        using (var get = await globex.GetAsync($"/v2/meetings/{id}"))
        {
            await get.AssertErrorAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        }

        using (var token = await globex.PostAsJsonAsync($"/v2/meetings/{id}/tokens", new { identity = "eve", name = "Eve" }))
        {
            await token.AssertErrorAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        }

        using (var delete = await globex.DeleteAsync($"/v2/meetings/{id}"))
        {
            await delete.AssertErrorAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        }

        var globexList = await globex.GetDataAsync("/v2/meetings");
        Assert.Equal(0, globexList.GetArrayLength());
        var acmeList = await acme.GetDataAsync("/v2/meetings");
        Assert.Equal(id, Assert.Single(acmeList.EnumerateArray()).GetProperty("meeting_id").GetString());

        // Globex's failed delete left it open.
        Assert.Equal("open", (await acme.GetDataAsync($"/v2/meetings/{id}")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Without_a_single_team_an_unknown_id_does_not_start_an_ad_hoc_meeting()
    {
        using var anonymous = Client();
        using var response = await anonymous.PostAsJsonAsync($"/meet/nobody-{Guid.NewGuid():N}/guest-token", new { name = "Guest" });
        await response.AssertErrorAsync(HttpStatusCode.NotFound, "MEETING_NOT_FOUND");

        // A team's meeting that admits guests still gives guest tokens.
        using var acme = await NewTeamAsync("Acme");
        using var created = await acme.PostAsJsonAsync("/v2/meetings", new { });
        var id = (await created.ReadJsonAsync()).GetProperty("data").GetProperty("meeting_id").GetString()!;
        using var guest = await anonymous.PostAsJsonAsync($"/meet/{id}/guest-token", new { name = "Guest" });
        Assert.Equal(HttpStatusCode.OK, guest.StatusCode);
        Assert.Equal(JsonValueKind.String, (await guest.ReadJsonAsync()).GetProperty("data").GetProperty("token").ValueKind);
    }
}

public sealed class MeetingsTenancySqliteTests(SqliteMultiTenantServer server) : MeetingsTenancyTests(server), IClassFixture<SqliteMultiTenantServer>;

public sealed class MeetingsTenancyPostgresTests(PostgresMultiTenantServer server) : MeetingsTenancyTests(server), IClassFixture<PostgresMultiTenantServer>;
