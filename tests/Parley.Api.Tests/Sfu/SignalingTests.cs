using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Parley.Api.Tests.Sfu;

/// <summary>A real `parley serve` running the api and sfu roles.</summary>
public sealed class SfuApiServer : ApiServer
{
    protected override Task<Dictionary<string, string?>> EnvironmentAsync() => Task.FromResult(new Dictionary<string, string?>
    {
        ["PARLEY_ROLES"] = "api,sfu",
        ["RTC_WORKERS"] = "2",
        ["RTC_MIN_PORT"] = "24000",
        ["RTC_MAX_PORT"] = "24400",
        ["STUN_SERVER_1"] = "stun:stun.example.test:3478",
        ["TURN_SERVER_URL"] = "turn:turn.example.test:3478",
        ["TURN_SECRET"] = "0123456789abcdef0123456789abcdef",
    });
}

/// <summary>
/// The signaling WebSocket of docs/signaling.md over a real socket: joins, the error replies for bad
/// input (the connection stays open), size and rate limits, and the media statistics endpoints.
/// </summary>
public sealed class SignalingTests(SfuApiServer server) : IClassFixture<SfuApiServer>
{
    [Fact]
    public async Task A_guest_joins_and_gets_the_room_the_ice_servers_and_turn_rest_credentials()
    {
        await using var socket = await SignalingSocket.ConnectAsync(server.Http.BaseAddress!);
        await socket.SendAsync(new { type = "join", v = 1, token = await GuestTokenAsync("sig-join", "Ada") });
        var joined = await socket.ReceiveAsync("joined");
        Assert.StartsWith("p_", joined.GetProperty("participant_id").GetString(), StringComparison.Ordinal);
        Assert.Equal("sig-join", joined.GetProperty("meeting").GetProperty("meeting_id").GetString());
        Assert.Equal("Ada", joined.GetProperty("you").GetProperty("name").GetString());
        var servers = joined.GetProperty("ice_servers").EnumerateArray().ToList();
        Assert.Contains(servers, s => s.GetProperty("urls")[0].GetString() == "stun:stun.example.test:3478");
        var turn = Assert.Single(servers, s => s.GetProperty("urls")[0].GetString() == "turn:turn.example.test:3478");
        var username = turn.GetProperty("username").GetString()!;
        Assert.Matches("^[0-9]+:guest-", username);
        var expected = Convert.ToBase64String(System.Security.Cryptography.HMACSHA1.HashData(
            Encoding.UTF8.GetBytes("0123456789abcdef0123456789abcdef"), Encoding.UTF8.GetBytes(username)));
        Assert.Equal(expected, turn.GetProperty("credential").GetString());

        var stats = await server.Http.GetFromJsonAsync<JsonElement>("/api/stats");
        Assert.True(stats.GetProperty("participants").GetInt32() >= 1);
        Assert.Equal(2, stats.GetProperty("workers").GetArrayLength());
    }

    [Fact]
    public async Task Bad_messages_get_error_replies_and_the_connection_stays_open()
    {
        await using var socket = await SignalingSocket.ConnectAsync(server.Http.BaseAddress!);
        await socket.SendTextAsync("this is not json");
        Assert.Equal("INVALID_MESSAGE", (await socket.ReceiveAsync("error")).GetProperty("code").GetString());
        await socket.SendTextAsync("[1,2,3]");
        Assert.Equal("INVALID_MESSAGE", (await socket.ReceiveAsync("error")).GetProperty("code").GetString());
        await socket.SendAsync(new { type = "chat", text = "hello" });
        Assert.Equal("NOT_JOINED", (await socket.ReceiveAsync("error")).GetProperty("code").GetString());
        await socket.SendAsync(new { type = "join", v = 1, token = "not-a-jwt" });
        Assert.Equal("INVALID_TOKEN", (await socket.ReceiveAsync("error")).GetProperty("code").GetString());
        await socket.SendAsync(new { type = "join", v = 2, token = "x" });
        Assert.Equal("UNSUPPORTED_VERSION", (await socket.ReceiveAsync("error")).GetProperty("code").GetString());

        await socket.SendAsync(new { type = "join", v = 1, token = await GuestTokenAsync("sig-bad", "Bea") });
        await socket.ReceiveAsync("joined");
        await socket.SendAsync(new { type = "teleport", id = 7 });
        var unknown = await socket.ReceiveAsync("error");
        Assert.Equal("UNKNOWN_TYPE", unknown.GetProperty("code").GetString());
        Assert.Equal(7, unknown.GetProperty("id").GetInt32());
        await socket.SendAsync(new { type = "mute", id = 8, track_id = 5, muted = "yes" });
        Assert.Equal("INVALID_MESSAGE", (await socket.ReceiveAsync("error")).GetProperty("code").GetString());
        await socket.SendAsync(new { type = "mute", id = 9, track_id = "t_nope", muted = true });
        Assert.Equal("UNKNOWN_TRACK", (await socket.ReceiveAsync("error")).GetProperty("code").GetString());
        await socket.SendAsync(new { type = "publish", id = 10, sdp = "v=0 garbage", tracks = new[] { new { mid = "0", kind = "audio" } } });
        Assert.Equal("INVALID_SDP", (await socket.ReceiveAsync("error")).GetProperty("code").GetString());
        await socket.SendAsync(new { type = "lobby_admit", participant_id = "p_x" });
        Assert.Equal("FORBIDDEN", (await socket.ReceiveAsync("error")).GetProperty("code").GetString());
        await socket.SendTextAsync("{\"type\":\"chat\",\"text\":\"" + new string('x', 70_000) + "\"}");
        Assert.Equal("MESSAGE_TOO_LARGE", (await socket.ReceiveAsync("error")).GetProperty("code").GetString());

        // Still open and joined: a chat message comes back to its sender.
        await socket.SendAsync(new { type = "chat", text = "still here" });
        var chat = await socket.ReceiveAsync("chat");
        Assert.Equal("still here", chat.GetProperty("message").GetProperty("text").GetString());
        await socket.SendAsync(new { type = "ping", id = 11 });
        Assert.Equal(11, (await socket.ReceiveAsync("pong")).GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task A_flood_of_messages_is_rate_limited_and_the_connection_survives()
    {
        await using var socket = await SignalingSocket.ConnectAsync(server.Http.BaseAddress!);
        await socket.SendAsync(new { type = "join", v = 1, token = await GuestTokenAsync("sig-flood", "Cy") });
        await socket.ReceiveAsync("joined");
        for (var i = 0; i < 300; i++)
        {
            await socket.SendAsync(new { type = "ping", id = i });
        }

        var limited = await socket.ReceiveAsync("error", TimeSpan.FromSeconds(15));
        Assert.Equal("RATE_LIMITED", limited.GetProperty("code").GetString());
        await Task.Delay(TimeSpan.FromSeconds(2.5)); // the bucket refills at 50 per second
        await socket.SendAsync(new { type = "ping", id = 1000 });
        await socket.ReceiveAsync("pong", predicate: p => p.GetProperty("id").GetInt32() == 1000);
    }

    [Fact]
    public async Task Two_participants_see_each_other_join_chat_and_leave()
    {
        await using var ada = await SignalingSocket.ConnectAsync(server.Http.BaseAddress!);
        await using var bob = await SignalingSocket.ConnectAsync(server.Http.BaseAddress!);
        await ada.SendAsync(new { type = "join", v = 1, token = await GuestTokenAsync("sig-two", "Ada") });
        var adaId = (await ada.ReceiveAsync("joined")).GetProperty("participant_id").GetString();
        await bob.SendAsync(new { type = "join", v = 1, token = await GuestTokenAsync("sig-two", "Bob") });
        var bobJoined = await bob.ReceiveAsync("joined");
        Assert.Equal(adaId, bobJoined.GetProperty("participants")[0].GetProperty("participant_id").GetString());
        var seen = await ada.ReceiveAsync("participant_joined");
        var bobId = seen.GetProperty("participant").GetProperty("participant_id").GetString();

        await bob.SendAsync(new { type = "raise_hand", raised = true });
        var raised = await ada.ReceiveAsync("participant_updated");
        Assert.True(raised.GetProperty("participant").GetProperty("hand_raised").GetBoolean());
        await ada.SendAsync(new { type = "chat", text = "hi bob" });
        Assert.Equal("hi bob", (await bob.ReceiveAsync("chat")).GetProperty("message").GetProperty("text").GetString());

        await bob.SendAsync(new { type = "leave" });
        var left = await ada.ReceiveAsync("participant_left");
        Assert.Equal(bobId, left.GetProperty("participant_id").GetString());
        Assert.Equal("left", left.GetProperty("reason").GetString());

        // A later joiner gets the chat history.
        await using var cy = await SignalingSocket.ConnectAsync(server.Http.BaseAddress!);
        await cy.SendAsync(new { type = "join", v = 1, token = await GuestTokenAsync("sig-two", "Cy") });
        var history = (await cy.ReceiveAsync("joined")).GetProperty("chat");
        Assert.Equal("hi bob", history[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task A_datagram_too_large_for_a_worker_is_dropped_and_counted_as_oversized()
    {
        var stats = await server.Http.GetFromJsonAsync<JsonElement>("/api/stats");
        var port = stats.GetProperty("workers")[0].GetProperty("port").GetInt32();
        var before = await OversizedAsync();

        using var udp = new System.Net.Sockets.UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        await udp.SendAsync(new byte[3000], new IPEndPoint(IPAddress.Loopback, port));

        var deadline = DateTime.UtcNow.AddSeconds(10);
        var after = before;
        while (after == before && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            after = await OversizedAsync();
        }

        Assert.Equal(before + 1, after);
        // The server is still there for everything else.
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/api/stats")).StatusCode);
    }

    private async Task<double> OversizedAsync()
    {
        var text = await server.Http.GetStringAsync("/metrics");
        var line = text.Split('\n').Single(l => l.StartsWith("parley_sfu_dropped_packets_total{reason=\"oversized\"}", StringComparison.Ordinal));
        return double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Metrics_carry_the_mediasoup_names_of_the_meeshy_dashboards()
    {
        var text = await server.Http.GetStringAsync("/metrics");
        foreach (var name in new[]
        {
            "mediasoup_workers_total 2", "mediasoup_routers_total", "mediasoup_transports_total", "mediasoup_producers_total",
            "mediasoup_consumers_total", "calls_active_total", "webrtc_transport_connection_duration_seconds",
            "producer_creation_duration_seconds", "consumer_creation_duration_seconds", "parley_sfu_dropped_packets_total{reason=\"unrouted\"}",
            "parley_sfu_packets_received_total", "parley_sfu_nacks_received_total", "parley_sfu_plis_sent_total",
        })
        {
            Assert.Contains(name, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_lobby_holds_a_joiner_until_a_host_decides_and_a_denied_joiner_is_told_before_the_close()
    {
        var meeting = await CreateMeetingAsync(new { name = "Door", lobby = true });
        await using var host = await SignalingSocket.ConnectAsync(server.Http.BaseAddress!);
        await host.SendAsync(new { type = "join", v = 1, token = await TokenAsync(meeting, "hannah", host: true) });
        await host.ReceiveAsync("joined");

        await using var gary = await SignalingSocket.ConnectAsync(server.Http.BaseAddress!);
        await gary.SendAsync(new { type = "join", v = 1, token = await TokenAsync(meeting, "gary") });
        await gary.ReceiveAsync("lobby_waiting");
        await gary.SendAsync(new { type = "chat", text = "let me in" });
        Assert.Equal("NOT_JOINED", (await gary.ReceiveAsync("error")).GetProperty("code").GetString());
        var request = await host.ReceiveAsync("lobby_request");
        await host.SendAsync(new { type = "lobby_admit", participant_id = request.GetProperty("participant").GetProperty("participant_id").GetString() });
        await gary.ReceiveAsync("joined");
        await host.ReceiveAsync("participant_joined");

        await using var dana = await SignalingSocket.ConnectAsync(server.Http.BaseAddress!);
        await dana.SendAsync(new { type = "join", v = 1, token = await TokenAsync(meeting, "dana") });
        await dana.ReceiveAsync("lobby_waiting");
        request = await host.ReceiveAsync("lobby_request");
        await host.SendAsync(new { type = "lobby_deny", participant_id = request.GetProperty("participant").GetProperty("participant_id").GetString() });
        Assert.Equal("LOBBY_DENIED", (await dana.ReceiveAsync("error")).GetProperty("code").GetString());
        Assert.Equal(WebSocketCloseStatus.NormalClosure, await dana.ReceiveCloseAsync());
    }

    [Fact]
    public async Task A_full_meeting_refuses_the_next_join_and_a_recording_bot_is_announced()
    {
        var meeting = await CreateMeetingAsync(new { name = "Small", max_participants = 2 });
        await using var ada = await SignalingSocket.ConnectAsync(server.Http.BaseAddress!);
        await ada.SendAsync(new { type = "join", v = 1, token = await TokenAsync(meeting, "ada") });
        Assert.False((await ada.ReceiveAsync("joined")).GetProperty("recording").GetBoolean());
        await using var bot = await SignalingSocket.ConnectAsync(server.Http.BaseAddress!);
        await bot.SendAsync(new { type = "join", v = 1, token = await TokenAsync(meeting, "recorder", bot: true) });
        Assert.True((await bot.ReceiveAsync("joined")).GetProperty("you").GetProperty("is_bot").GetBoolean());
        Assert.True((await ada.ReceiveAsync("recording")).GetProperty("active").GetBoolean());

        await using var late = await SignalingSocket.ConnectAsync(server.Http.BaseAddress!);
        await late.SendAsync(new { type = "join", v = 1, token = await TokenAsync(meeting, "late") });
        var full = await late.ReceiveAsync("error");
        Assert.Equal("ROOM_FULL", full.GetProperty("code").GetString());

        await bot.SendAsync(new { type = "leave" });
        Assert.False((await ada.ReceiveAsync("recording")).GetProperty("active").GetBoolean());
        await late.SendAsync(new { type = "join", v = 1, token = await TokenAsync(meeting, "late") });
        await late.ReceiveAsync("joined");
    }

    [Fact]
    public async Task A_socket_that_never_joins_is_closed_with_a_policy_violation()
    {
        await using var idle = await SignalingSocket.ConnectAsync(server.Http.BaseAddress!);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await idle.ReceiveCloseAsync(TimeSpan.FromSeconds(20)));
    }

    private async Task<string> CreateMeetingAsync(object body)
    {
        using var response = await server.Http.PostAsJsonAsync("/v2/meetings", body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data").GetProperty("meeting_id").GetString()!;
    }

    private async Task<string> TokenAsync(string meeting, string identity, bool host = false, bool bot = false)
    {
        using var response = await server.Http.PostAsJsonAsync($"/v2/meetings/{meeting}/tokens", new { identity, name = identity, host, bot });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data").GetProperty("token").GetString()!;
    }

    private async Task<string> GuestTokenAsync(string meeting, string name)
    {
        using var response = await server.Http.PostAsJsonAsync($"/meet/{meeting}/guest-token", new { name });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("data").GetProperty("token").GetString()!;
    }
}

/// <summary>A signaling client for tests: JSON in, JSON out, waiting for a message of a given type.</summary>
internal sealed class SignalingSocket : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly List<JsonElement> _received = [];

    public static async Task<SignalingSocket> ConnectAsync(Uri http)
    {
        var socket = new SignalingSocket();
        var uri = new UriBuilder(http) { Scheme = "ws", Path = "/rtc/ws" }.Uri;
        await socket._socket.ConnectAsync(uri, CancellationToken.None);
        return socket;
    }

    public Task SendAsync(object message) => SendTextAsync(JsonSerializer.Serialize(message));

    public Task SendTextAsync(string text) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>The next message of <paramref name="type"/> (others received meanwhile are kept, not matched twice).</summary>
    public async Task<JsonElement> ReceiveAsync(string type, TimeSpan? timeout = null, Func<JsonElement, bool>? predicate = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var index = _received.FindIndex(m => m.GetProperty("type").GetString() == type && (predicate?.Invoke(m) ?? true));
            if (index >= 0)
            {
                var match = _received[index];
                _received.RemoveRange(0, index + 1);
                return match;
            }

            var buffer = new byte[256 * 1024];
            var length = 0;
            WebSocketReceiveResult result;
            do
            {
                result = await _socket.ReceiveAsync(buffer.AsMemory(length), cts.Token) is var r
                    ? new WebSocketReceiveResult(r.Count, r.MessageType, r.EndOfMessage)
                    : throw new InvalidOperationException();
                length += result.Count;
            }
            while (!result.EndOfMessage);
            Assert.NotEqual(WebSocketMessageType.Close, result.MessageType);
            _received.Add(JsonDocument.Parse(buffer.AsMemory(0, length)).RootElement.Clone());
        }
    }

    /// <summary>Reads until the server's close frame, answers it, and returns its status.</summary>
    public async Task<WebSocketCloseStatus?> ReceiveCloseAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var buffer = new byte[256 * 1024];
        while (true)
        {
            var result = await _socket.ReceiveAsync(buffer, cts.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return result.CloseStatus;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
            }
        }

        _socket.Dispose();
    }
}
