using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Parley.Data;
using Parley.Testing;
using Parley.WebRtc.Rtp;

namespace Parley.Sfu.Client.Tests;

/// <summary>
/// The split deployment of docs/deployment.md on one machine: one `parley serve --roles api` and two
/// `parley serve --roles sfu` processes sharing one database (an SQLite file, or PostgreSQL). Native clients connect to the api's /rtc/ws
/// only; the api places each meeting on a node and relays signaling there, media goes straight to that node.
/// SFU UDP ports 32600–32620 and 32700–32720, apart from the other test classes'.
/// </summary>
public abstract class MultiNodeTests : IAsyncLifetime
{
    private const string ApiKey = "multi-node-static-api-key-0123456789";
    private const string JwtSecret = "multi-node-jwt-secret-0123456789abcdef0123456789";

    private readonly TempDirectory _directory = new();
    private RunningServer? _api;
    private RunningServer? _node1;
    private RunningServer? _node2;
    private ParleyDbContextFactory _database = null!;

    private RunningServer Api => _api!;

    private protected TempDirectory Directory => _directory;

    protected abstract Task<string> DatabaseUrlAsync();

    public async Task InitializeAsync()
    {
        var databaseUrl = await DatabaseUrlAsync();
        _database = new ParleyDbContextFactory(DatabaseUrl.Resolve(databaseUrl, _directory.Path, 30));
        // The api first: it creates and migrates the shared file, so the nodes never race on migrations.
        _api = RunningServer.Start(Environment(databaseUrl, "api"));
        await _api.WaitForStatusAsync("/ready", HttpStatusCode.OK);
        _node1 = RunningServer.Start(Environment(databaseUrl, "sfu", "node-1", 32600));
        _node2 = RunningServer.Start(Environment(databaseUrl, "sfu", "node-2", 32700));
        await Task.WhenAll(_node1.WaitForStatusAsync("/ready", HttpStatusCode.OK), _node2.WaitForStatusAsync("/ready", HttpStatusCode.OK));
        await Eventually.ReturnsAsync(async () => (await LiveNodesAsync()).Count == 2 ? (object?)true : null, TimeSpan.FromSeconds(30), "both SFU nodes in the registry");
    }

    public async Task DisposeAsync()
    {
        foreach (var server in new[] { _node1, _node2, _api })
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    [Fact]
    public async Task Participants_of_a_meeting_meet_on_one_node_through_the_api_and_another_meeting_uses_the_other_node()
    {
        var meetingA = "multi-a-" + Guid.NewGuid().ToString("N")[..8];
        var meetingB = "multi-b-" + Guid.NewGuid().ToString("N")[..8];
        var apiUrl = new Uri($"http://127.0.0.1:{Api.Port}/");

        await using var alice = await JoinAsync(apiUrl, meetingA, "Alice");
        await using var bob = await JoinAsync(apiUrl, meetingA, "Bob");
        Assert.Contains(bob.JoinInfo!.Participants, p => p.ParticipantId == alice.ParticipantId);
        await MediaFlowsAsync(alice, bob);

        var placedA = await PlacementAsync(meetingA);
        var (nodeA, otherNode) = placedA == "node-1" ? (_node1!, _node2!) : (_node2!, _node1!);
        Assert.Equal(2, await ParticipantsAsync(nodeA, meetingA));
        Assert.Equal(0, await ParticipantsAsync(otherNode, meetingA));

        // Meeting B: node A already holds a meeting (and, once it heartbeats, two participants).
        await using var carol = await JoinAsync(apiUrl, meetingB, "Carol");
        await using var dan = await JoinAsync(apiUrl, meetingB, "Dan");
        await MediaFlowsAsync(carol, dan);
        Assert.NotEqual(placedA, await PlacementAsync(meetingB));
        Assert.Equal(2, await ParticipantsAsync(otherNode, meetingB));
        Assert.Equal(0, await ParticipantsAsync(nodeA, meetingB));

        // A client that goes straight to the wrong node is refused, and the meeting is not split.
        using var http = new HttpClient { BaseAddress = apiUrl };
        var token = await MeetingTokens.GuestAsync(http, meetingA, "Eve");
        await using var eve = new MeetingClient(new MeetingClientOptions { ServerUrl = new Uri($"http://127.0.0.1:{otherNode.Port}/"), Token = token });
        var refused = await Assert.ThrowsAsync<MeetingClientException>(() => eve.JoinAsync());
        Assert.Equal("WRONG_NODE", refused.Code);
        Assert.Equal(placedA, await PlacementAsync(meetingA));
        Assert.Equal(0, await ParticipantsAsync(otherNode, meetingA));

        // Chat relayed both ways through the api reaches the other participant on the same node.
        var got = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        alice.ChatReceived += m => got.TrySetResult(m.Text);
        await bob.SendChatAsync("over the relay");
        Assert.Equal("over the relay", await got.Task.WaitAsync(TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public async Task A_stopping_node_drains_and_leaves_the_registry_and_its_meetings_go_to_the_other_node()
    {
        var apiUrl = new Uri($"http://127.0.0.1:{Api.Port}/");
        var meeting = "multi-stop-" + Guid.NewGuid().ToString("N")[..8];
        await using (var first = await JoinAsync(apiUrl, meeting, "Fay"))
        {
            var placed = await PlacementAsync(meeting);
            var (stopping, staying) = placed == "node-1" ? (_node1!, "node-2") : (_node2!, "node-1");

            stopping.Process.Terminate(); // SIGTERM
            // Draining while open connections finish (Fay's, through the api): no new meetings go there.
            await Eventually.ReturnsAsync(async () =>
            {
                await using var db = _database.CreateDbContext();
                var row = await db.SfuNodes.AsNoTracking().SingleOrDefaultAsync(n => n.Id == placed);
                return row is null || row.Draining ? (object?)true : null;
            }, TimeSpan.FromSeconds(30), $"{placed} to drain or leave");
            await stopping.Process.WaitForExitAsync(TimeSpan.FromSeconds(60));
            var live = (await LiveNodesAsync()).Select(n => n.Id).ToList();
            Assert.True(live.SequenceEqual([staying]), $"live: {string.Join(", ", live)}\n{stopping.Process.Stdout}\n{stopping.Process.Stderr}");
        }

        // The meeting's next join is placed on the node that is left.
        await using var again = await JoinAsync(apiUrl, meeting, "Gus");
        Assert.NotNull(again.ParticipantId);
        Assert.Equal((await LiveNodesAsync()).Single().Id, await PlacementAsync(meeting));
    }

    [Fact]
    public async Task A_node_whose_meeting_was_placed_elsewhere_meanwhile_closes_its_room_instead_of_splitting_it()
    {
        var apiUrl = new Uri($"http://127.0.0.1:{Api.Port}/");
        var meeting = "multi-moved-" + Guid.NewGuid().ToString("N")[..8];
        await using var jo = await JoinAsync(apiUrl, meeting, "Jo");
        var closed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        jo.MeetingClosed += reason => closed.TrySetResult(reason);
        var placed = await PlacementAsync(meeting);
        var other = placed == "node-1" ? "node-2" : "node-1";

        // What another api replica does when this node missed its heartbeats for a while: place it elsewhere.
        await using (var db = _database.CreateDbContext())
        {
            Assert.Equal(1, await db.MeetingPlacements.Where(p => p.MeetingId == meeting).ExecuteUpdateAsync(u => u.SetProperty(p => p.NodeId, other)));
        }

        Assert.Equal("moved", await closed.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(other, await PlacementAsync(meeting));
        // Joining again goes to the node that holds the meeting now.
        await using var again = await JoinAsync(apiUrl, meeting, "Jo");
        Assert.Equal(1, await ParticipantsAsync(placed == "node-1" ? _node2! : _node1!, meeting));
    }

    [Fact]
    public async Task The_relay_passes_the_nodes_close_code_to_the_client_and_bounds_message_sizes()
    {
        var apiUrl = new Uri($"http://127.0.0.1:{Api.Port}/");
        var socketUrl = new Uri($"ws://127.0.0.1:{Api.Port}/rtc/ws");
        using var http = new HttpClient { BaseAddress = apiUrl };

        // The node closes a client that sends 500 rejected messages in a row with 1008: the client sees 1008.
        using (var flood = new ClientWebSocket())
        {
            await flood.ConnectAsync(socketUrl, CancellationToken.None);
            await SendTextAsync(flood, JsonSerializer.Serialize(new { type = "join", v = 1, token = await MeetingTokens.GuestAsync(http, "multi-close-" + Guid.NewGuid().ToString("N")[..8], "Hal") }));
            Assert.Equal("joined", await ReceiveTypeAsync(flood, "joined"));
            for (var i = 0; i < 600 && flood.State == WebSocketState.Open; i++)
            {
                await SendTextAsync(flood, "not json");
            }

            Assert.Equal(WebSocketCloseStatus.PolicyViolation, await ReceiveCloseAsync(flood));
        }

        // A message over the relay's 1 MiB bound ends the connection with 1009, without buffering it.
        using var large = new ClientWebSocket();
        await large.ConnectAsync(socketUrl, CancellationToken.None);
        await SendTextAsync(large, JsonSerializer.Serialize(new { type = "join", v = 1, token = await MeetingTokens.GuestAsync(http, "multi-large-" + Guid.NewGuid().ToString("N")[..8], "Ivy") }));
        Assert.Equal("joined", await ReceiveTypeAsync(large, "joined"));
        var chunk = new byte[64 * 1024];
        Array.Fill(chunk, (byte)'x');
        try
        {
            for (var i = 0; i < 20 && large.State == WebSocketState.Open; i++)
            {
                await large.SendAsync(chunk, WebSocketMessageType.Text, endOfMessage: false, CancellationToken.None);
            }
        }
        catch (WebSocketException)
        {
            // the relay may close while we are still sending
        }

        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await ReceiveCloseAsync(large));
    }

    private static Task SendTextAsync(ClientWebSocket socket, string text) =>
        socket.SendAsync(System.Text.Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

    /// <summary>Reads messages until one of <paramref name="type"/>; returns its type.</summary>
    private static async Task<string> ReceiveTypeAsync(ClientWebSocket socket, string type)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[256 * 1024];
        while (true)
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(length), timeout.Token);
                length += result.Count;
            }
            while (!result.EndOfMessage);
            Assert.NotEqual(WebSocketMessageType.Close, result.MessageType);
            using var message = JsonDocument.Parse(buffer.AsMemory(0, length));
            var got = message.RootElement.GetProperty("type").GetString()!;
            if (got == type || got == "error")
            {
                return got == "error" ? message.RootElement.GetProperty("code").GetString()! : got;
            }
        }
    }

    /// <summary>Reads until the close frame and returns its status (whatever the node or relay sent before it is skipped).</summary>
    private static async Task<WebSocketCloseStatus?> ReceiveCloseAsync(ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return result.CloseStatus;
            }
        }
    }

    private static Dictionary<string, string?> Environment(string databaseUrl, string roles, string? nodeId = null, int rtcMin = 0)
    {
        var env = new Dictionary<string, string?>
        {
            ["PARLEY_ROLES"] = roles,
            ["DATABASE_URL"] = databaseUrl,
            ["STATIC_API_KEY"] = ApiKey,
            ["JWT_SECRET"] = JwtSecret,
            ["PARLEY_RATE_LIMIT_PER_SECOND"] = "0",
            ["PARLEY_MIGRATE_ON_START"] = roles == "api" ? "true" : "false",
            ["PARLEY_SFU_HEARTBEAT_SECONDS"] = "1",
            ["PARLEY_SFU_NODE_TIMEOUT_SECONDS"] = "5",
            ["LOG_LEVEL"] = "warn",
        };
        if (nodeId is not null)
        {
            env["PARLEY_SFU_NODE_ID"] = nodeId;
            env["RTC_MIN_PORT"] = rtcMin.ToString(CultureInfo.InvariantCulture);
            env["RTC_MAX_PORT"] = (rtcMin + 20).ToString(CultureInfo.InvariantCulture);
            env["RTC_WORKERS"] = "1";
            env["ANNOUNCED_IP"] = "127.0.0.1";
            // A stopping node first lets open signaling connections finish (draining); keep that short here.
            env["PARLEY_SHUTDOWN_TIMEOUT_SECONDS"] = "3";
        }

        return env;
    }

    private static async Task<MeetingClient> JoinAsync(Uri server, string meetingId, string name)
    {
        using var http = new HttpClient { BaseAddress = server };
        var token = await MeetingTokens.GuestAsync(http, meetingId, name);
        var client = new MeetingClient(new MeetingClientOptions { ServerUrl = server, Token = token, Timeout = TimeSpan.FromSeconds(30) });
        await client.JoinAsync();
        return client;
    }

    /// <summary>The sender publishes audio and video; the receiver gets RTP of both, from the sender.</summary>
    private static async Task MediaFlowsAsync(MeetingClient sender, MeetingClient receiver)
    {
        var received = new ConcurrentQueue<(string ParticipantId, string Kind)>();
        receiver.RtpReceived += (track, packet) =>
        {
            if (RtpPacket.TryParse(packet, out _))
            {
                received.Enqueue((track.ParticipantId, track.Kind));
            }
        };
        var publication = await sender.PublishAsync(new PublishOptions());
        var buffer = new byte[1500];
        ushort sequence = 0;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (received.Count(p => p.Kind == "video") < 10 || received.Count(p => p.Kind == "audio") < 10)
        {
            Assert.True(DateTime.UtcNow < deadline, $"media did not arrive in time ({received.Count} packets)");
            sequence++;
            var audio = new RtpPacketBuilder(buffer, 111, sequence, sequence * 960u, publication.AudioSsrc);
            audio.AddExtension(publication.AudioMidExtensionId, "0"u8);
            audio.AddPayload(new byte[60]);
            sender.SendRtp(buffer, audio.Length);
            var video = new RtpPacketBuilder(buffer, 96, sequence, sequence * 3000u, publication.VideoSsrcs[0], marker: true);
            video.AddExtension(publication.VideoMidExtensionId, "1"u8);
            video.AddPayload([0x10, (byte)(sequence % 10 == 1 ? 0x00 : 0x01), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            sender.SendRtp(buffer, video.Length);
            await Task.Delay(20);
        }

        Assert.All(received, p => Assert.Equal(sender.ParticipantId, p.ParticipantId));
    }

    private async Task<string> PlacementAsync(string meetingId)
    {
        await using var db = _database.CreateDbContext();
        var row = await db.MeetingPlacements.AsNoTracking().SingleOrDefaultAsync(p => p.MeetingId == meetingId);
        Assert.True(row is not null, $"meeting {meetingId} has no placement");
        return row.NodeId;
    }

    private async Task<List<Parley.Core.SfuNodes.SfuNode>> LiveNodesAsync()
    {
        var cutoff = DateTime.UtcNow.AddSeconds(-5);
        await using var db = _database.CreateDbContext();
        return await db.SfuNodes.AsNoTracking().Where(n => n.HeartbeatAt >= cutoff).OrderBy(n => n.Id).ToListAsync();
    }

    /// <summary>Participants of the meeting on one node, from its /api/stats.</summary>
    private static async Task<int> ParticipantsAsync(RunningServer node, string meetingId)
    {
        var stats = await node.Http.GetFromJsonAsync<JsonElement>("/api/stats");
        return stats.GetProperty("rooms").EnumerateArray()
            .Where(r => r.GetProperty("meeting_id").GetString() == meetingId)
            .Sum(r => r.GetProperty("participants").GetInt32());
    }
}

// One collection: the two variants use the same UDP ranges and would start six servers at once.
[Collection("multi-node")]
public sealed class MultiNodeSqliteTests : MultiNodeTests
{
    protected override Task<string> DatabaseUrlAsync() => Task.FromResult("sqlite:" + Path.Combine(Directory.Path, "shared.db"));
}

[Collection("multi-node")]
public sealed class MultiNodePostgresTests : MultiNodeTests
{
    protected override Task<string> DatabaseUrlAsync() => PostgresDatabase.CreateAsync();
}
