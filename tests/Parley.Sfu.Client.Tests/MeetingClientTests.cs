using System.Net.Http.Json;
using System.Text.Json;
using System.Collections.Concurrent;
using Parley.WebRtc.Rtp;

namespace Parley.Sfu.Client.Tests;

/// <summary>MeetingClient against a real `parley serve`: join, publish, receive, chat, leave.</summary>
[Collection(ServerCollection.Name)]
public sealed class MeetingClientTests(ServerFixture server)
{
    [Fact]
    public async Task A_published_track_reaches_the_other_participant_as_rtp_of_that_track()
    {
        var meeting = "client-media-" + Guid.NewGuid().ToString("N")[..8];
        await using var alice = await server.JoinAsync(meeting, "Alice");
        await using var bob = await server.JoinAsync(meeting, "Bob");
        var received = new ConcurrentQueue<(string TrackId, string ParticipantId, string Kind, uint Ssrc, byte PayloadType)>();
        bob.RtpReceived += (track, packet) =>
        {
            if (RtpPacket.TryParse(packet, out var rtp))
            {
                received.Enqueue((track.TrackId, track.ParticipantId, track.Kind, rtp.Ssrc, rtp.PayloadType));
            }
        };

        var publication = await alice.PublishAsync(new PublishOptions());
        Assert.NotEqual(0, publication.AudioMidExtensionId);
        var buffer = new byte[1500];
        ushort sequence = 0;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (received.Count(p => p.Kind == "video") < 10 || received.Count(p => p.Kind == "audio") < 10)
        {
            Assert.True(DateTime.UtcNow < deadline, $"media did not arrive in time ({received.Count} packets)");
            sequence++;
            var audio = new RtpPacketBuilder(buffer, 111, sequence, sequence * 960u, publication.AudioSsrc);
            audio.AddExtension(publication.AudioMidExtensionId, "0"u8);
            audio.AddPayload(new byte[60]);
            alice.SendRtp(buffer, audio.Length);
            var video = new RtpPacketBuilder(buffer, 96, sequence, sequence * 3000u, publication.VideoSsrcs[0], marker: true);
            video.AddExtension(publication.VideoMidExtensionId, "1"u8);
            video.AddPayload([0x10, (byte)(sequence % 10 == 1 ? 0x00 : 0x01), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            alice.SendRtp(buffer, video.Length);
            await Task.Delay(20);
        }

        var packets = received.ToList();
        Assert.All(packets, p => Assert.Equal(alice.ParticipantId, p.ParticipantId));
        var tracks = alice.LocalParticipant!.Tracks!;
        Assert.Equal(tracks.Single(t => t.Kind == "audio").TrackId, packets.First(p => p.Kind == "audio").TrackId);
        Assert.Equal(tracks.Single(t => t.Kind == "video").TrackId, packets.First(p => p.Kind == "video").TrackId);
        Assert.All(packets.Where(p => p.Kind == "audio"), p => Assert.Equal(111, p.PayloadType));
        Assert.Equal(2, bob.SubscribedTracks.Count);
        await bob.SubscribeConnected;
        Assert.True((await bob.PingAsync()) >= TimeSpan.Zero);
    }

    [Fact]
    public async Task A_lobby_wait_longer_than_the_join_timeout_ends_in_joined_when_the_host_admits()
    {
        using var http = new HttpClient { BaseAddress = server.BaseUrl };
        http.DefaultRequestHeaders.Add("x-meeting-baas-api-key", ServerFixture.ApiKey);
        var created = await http.PostAsJsonAsync("v2/meetings", new { name = "door", lobby = true });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var meetingId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data").GetProperty("meeting_id").GetString()!;
        var hostToken = await MeetingTokens.CreateAsync(http, ServerFixture.ApiKey, meetingId, "hannah", "Hannah", host: true);
        var guestToken = await MeetingTokens.CreateAsync(http, ServerFixture.ApiKey, meetingId, "gary", "Gary");
        await using var host = new MeetingClient(new MeetingClientOptions { ServerUrl = server.BaseUrl, Token = hostToken });
        var requests = new ConcurrentQueue<string>();
        host.MessageReceived += (type, message) =>
        {
            if (type == "lobby_request")
            {
                requests.Enqueue(message.GetProperty("participant").GetProperty("participant_id").GetString()!);
            }
        };
        await host.JoinAsync();
        await using var guest = new MeetingClient(new MeetingClientOptions { ServerUrl = server.BaseUrl, Token = guestToken, Timeout = TimeSpan.FromSeconds(2) });
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        guest.LobbyWaiting += () => waiting.TrySetResult();

        var join = guest.JoinAsync();
        await waiting.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(4)); // twice the join timeout: the lobby has no deadline of ours
        Assert.False(join.IsCompleted, join.Exception?.ToString());
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (requests.IsEmpty)
        {
            Assert.True(DateTime.UtcNow < deadline, "the host saw no lobby request");
            await Task.Delay(50);
        }

        Assert.True(requests.TryPeek(out var waitingId));
        await host.LobbyDecisionAsync(waitingId, admit: true);
        var joined = await join.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(waitingId, joined.ParticipantId);
    }

    [Fact]
    public async Task Chat_goes_round_to_everyone_with_the_sender()
    {
        var meeting = "client-chat-" + Guid.NewGuid().ToString("N")[..8];
        await using var alice = await server.JoinAsync(meeting, "Alice");
        await using var bob = await server.JoinAsync(meeting, "Bob");
        var bobGot = new TaskCompletionSource<ChatMessageInfo>(TaskCreationOptions.RunContinuationsAsynchronously);
        var aliceGot = new TaskCompletionSource<ChatMessageInfo>(TaskCreationOptions.RunContinuationsAsynchronously);
        bob.ChatReceived += m => bobGot.TrySetResult(m);
        alice.ChatReceived += m => aliceGot.TrySetResult(m);

        await alice.SendChatAsync("hello from a native client");

        var atBob = await bobGot.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var atAlice = await aliceGot.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("hello from a native client", atBob.Text);
        Assert.Equal(alice.ParticipantId, atBob.ParticipantId);
        Assert.Equal("Alice", atBob.Name);
        Assert.Equal(atBob.MessageId, atAlice.MessageId);

        // A late joiner gets the history in joined.
        await using var carol = await server.JoinAsync(meeting, "Carol");
        Assert.Contains(carol.JoinInfo!.Chat, m => m.Text == "hello from a native client");
    }

    [Fact]
    public async Task Leaving_is_seen_by_the_others_and_a_bad_token_is_refused_with_its_code()
    {
        var meeting = "client-leave-" + Guid.NewGuid().ToString("N")[..8];
        await using var alice = await server.JoinAsync(meeting, "Alice");
        await using var bob = await server.JoinAsync(meeting, "Bob");
        var left = new TaskCompletionSource<(string Id, string Reason)>(TaskCreationOptions.RunContinuationsAsynchronously);
        bob.ParticipantLeft += (id, reason) => left.TrySetResult((id, reason));
        Assert.Contains(bob.JoinInfo!.Participants, p => p.ParticipantId == alice.ParticipantId);

        await alice.LeaveAsync();

        var (who, why) = await left.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(alice.ParticipantId, who);
        Assert.Equal("left", why);
        Assert.DoesNotContain(bob.Participants, p => p.ParticipantId == alice.ParticipantId);

        await using var forged = new MeetingClient(new MeetingClientOptions { ServerUrl = server.BaseUrl, Token = "eyJhbGciOiJIUzI1NiJ9.e30.bad-signature" });
        var refused = await Assert.ThrowsAsync<MeetingClientException>(() => forged.JoinAsync());
        Assert.Equal("INVALID_TOKEN", refused.Code);
    }
}
