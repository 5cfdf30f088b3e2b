using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Parley.Core.SfuNodes;
using Parley.Testing;

namespace Parley.Api.Tests.Sfu.Placement;

/// <summary>A real `parley serve --roles api`: /rtc/ws is the relay to SFU nodes, and no SFU node runs.</summary>
public sealed class ApiOnlyServer : ApiServer
{
    protected override Task<Dictionary<string, string?>> EnvironmentAsync() => Task.FromResult(new Dictionary<string, string?>
    {
        ["PARLEY_ROLES"] = "api",
    });
}

/// <summary>
/// The api's /rtc/ws relay up to the point where it would reach a node: what it answers before a join, for a
/// refused token, and when no node can take the meeting (the relay itself is exercised end to end in
/// Parley.Sfu.Client.Tests.MultiNodeTests).
/// </summary>
public sealed class SignalingProxyTests(ApiOnlyServer server) : IClassFixture<ApiOnlyServer>
{
    [Fact]
    public async Task A_plain_http_request_gets_a_problem_not_a_500()
    {
        using var response = await server.Http.GetAsync("/rtc/ws");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("WEBSOCKET_REQUIRED", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Before_a_join_the_relay_answers_like_the_sfu_and_keeps_the_connection()
    {
        await using var socket = await SignalingSocket.ConnectAsync(server.Http.BaseAddress!);
        await socket.SendAsync(new { type = "ping", id = 1 });
        Assert.Equal(1, (await socket.ReceiveAsync("pong")).GetProperty("id").GetInt32());
        await socket.SendTextAsync("not json");
        Assert.Equal("INVALID_MESSAGE", (await socket.ReceiveAsync("error")).GetProperty("code").GetString());
        await socket.SendAsync(new { type = "chat", id = 2, text = "hi" });
        var notJoined = await socket.ReceiveAsync("error");
        Assert.Equal("NOT_JOINED", notJoined.GetProperty("code").GetString());
        Assert.Equal(2, notJoined.GetProperty("id").GetInt32());
        await socket.SendAsync(new { type = "join", v = 1, token = "not-a-jwt" });
        Assert.Equal("INVALID_TOKEN", (await socket.ReceiveAsync("error")).GetProperty("code").GetString());
        await socket.SendAsync(new { type = "ping", id = 3 });
        Assert.Equal(3, (await socket.ReceiveAsync("pong")).GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task Without_a_reachable_node_a_join_ends_in_SFU_UNAVAILABLE_and_a_close()
    {
        var meeting = "proxy-none-" + Guid.NewGuid().ToString("N")[..8];
        await using (var socket = await SignalingSocket.ConnectAsync(server.Http.BaseAddress!))
        {
            await socket.SendAsync(new { type = "join", v = 1, token = await GuestTokenAsync(meeting, "Ada") });
            Assert.Equal("SFU_UNAVAILABLE", (await socket.ReceiveAsync("error")).GetProperty("code").GetString());
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, await socket.ReceiveCloseAsync());
        }

        // A node that is registered and alive but does not answer: the meeting is placed on it, the client is
        // told to come back later (once the node's heartbeat is stale, the meeting goes elsewhere).
        var port = ParleyProcess.FreePort();
        await using (var db = server.Database.CreateDbContext())
        {
            db.SfuNodes.Add(new SfuNode
            {
                Id = "unreachable-node", InternalUrl = $"http://127.0.0.1:{port}", StartedAt = DateTime.UtcNow, HeartbeatAt = DateTime.UtcNow.AddSeconds(60),
            });
            await db.SaveChangesAsync();
        }

        await using (var socket = await SignalingSocket.ConnectAsync(server.Http.BaseAddress!))
        {
            await socket.SendAsync(new { type = "join", v = 1, token = await GuestTokenAsync(meeting, "Bea") });
            Assert.Equal("SFU_UNAVAILABLE", (await socket.ReceiveAsync("error", TimeSpan.FromSeconds(20))).GetProperty("code").GetString());
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, await socket.ReceiveCloseAsync());
        }

        await using (var db = server.Database.CreateDbContext())
        {
            var placement = await db.MeetingPlacements.AsNoTracking().SingleAsync(p => p.MeetingId == meeting);
            Assert.Equal("unreachable-node", placement.NodeId);
            await db.SfuNodes.Where(n => n.Id == "unreachable-node").ExecuteDeleteAsync();
        }
    }

    [Fact]
    public async Task A_socket_that_never_joins_is_closed_as_a_policy_violation()
    {
        await using var socket = await SignalingSocket.ConnectAsync(server.Http.BaseAddress!);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await socket.ReceiveCloseAsync(TimeSpan.FromSeconds(30)));
    }

    private async Task<string> GuestTokenAsync(string meeting, string name)
    {
        using var response = await server.Http.PostAsJsonAsync($"/meet/{meeting}/guest-token", new { name });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("data").GetProperty("token").GetString()!;
    }
}
