using System.Collections.Concurrent;
using System.Net;
using Parley.WebRtc.Ice;
using Parley.WebRtc.Rtcp;
using Parley.WebRtc.Rtp;
using Parley.WebRtc.Sdp;
using Parley.WebRtc.Srtp;
using Parley.WebRtc.Stun;
using Parley.WebRtc.Transport;

namespace Parley.WebRtc.Tests.Transport;

/// <summary>Server and client peer connections negotiating with each other over UDP on 127.0.0.1.</summary>
public sealed class PeerConnectionTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly UdpSocketLoop _serverSocket = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly UdpSocketLoop _clientSocket = new(new IPEndPoint(IPAddress.Loopback, 0));

    public PeerConnectionTests()
    {
        _serverSocket.Start();
        _clientSocket.Start();
    }

    public void Dispose()
    {
        _clientSocket.Dispose();
        _serverSocket.Dispose();
    }

    private static IReadOnlyList<SdpOfferSection> Sections(string direction, uint audioSsrc, uint videoSsrc) =>
    [
        new("audio", "0", direction, [SdpCodec.Opus()])
        {
            Extensions = [new SdpExtmap(1, null, RtpExtensionUri.Mid, null)],
            Sources = [new SdpSource(audioSsrc, "c", "s", "a")],
        },
        new("video", "1", direction, [SdpCodec.Vp8()])
        {
            Extensions = [new SdpExtmap(1, null, RtpExtensionUri.Mid, null)],
            Sources = [new SdpSource(videoSsrc, "c", "s", "v", RtxSsrc: videoSsrc + 1)],
        },
    ];

    private static void Send(PeerConnection pc, uint ssrc, string mid, int count, bool withMid)
    {
        var buffer = new byte[1500];
        for (var i = 0; i < count; i++)
        {
            var builder = new RtpPacketBuilder(buffer, mid == "0" ? (byte)111 : (byte)96, (ushort)i, (uint)i * 960, ssrc);
            if (withMid)
            {
                builder.AddExtension(1, mid == "0" ? "0"u8 : "1"u8);
            }

            builder.AddPayload(new byte[100 + i]);
            Assert.Equal(SrtpResult.Ok, pc.SendRtp(buffer, builder.Length));
        }
    }

    private static async Task WaitFor(Func<bool> condition)
    {
        var start = DateTime.UtcNow;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow - start < Deadline, "timed out");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task Server_offers_client_answers_media_is_tagged_by_mid_and_keyframe_requests_arrive()
    {
        using var server = new PeerConnection(new PeerConnectionOptions { Socket = _serverSocket, IsServer = true });
        using var client = new PeerConnection(new PeerConnectionOptions { Socket = _clientSocket, IsServer = false, Profiles = [SrtpProfile.AesCm128HmacSha1_80] });
        var states = new ConcurrentQueue<PeerConnectionState>();
        client.StateChanged += states.Enqueue;

        var offer = server.CreateOffer(Sections("sendonly", 500, 600));
        var answer = client.AcceptOffer(offer);
        Assert.Contains("a=setup:active", answer, StringComparison.Ordinal);
        Assert.DoesNotContain("a=ice-lite", answer, StringComparison.Ordinal);
        server.AcceptAnswer(answer);

        await Task.WhenAll(server.ConnectAsync(), client.ConnectAsync()).WaitAsync(Deadline);
        Assert.Equal(PeerConnectionState.Connected, client.State);
        Assert.Equal(SrtpProfile.AesCm128HmacSha1_80, client.Profile);

        var received = new ConcurrentQueue<(string? Mid, uint Ssrc)>();
        client.RtpReceived += (stream, packet) => received.Enqueue((stream?.Mid, RtpPacket.TryParse(packet, out var rtp) ? rtp.Ssrc : 0));
        var plis = new ConcurrentQueue<uint>();
        server.RtcpReceived += compound =>
        {
            foreach (var packet in new RtcpCompoundEnumerator(compound))
            {
                if (RtcpPli.TryParse(packet, out var pli))
                {
                    plis.Enqueue(pli.MediaSsrc);
                }
            }
        };

        Send(server, 500, "0", 5, withMid: false);  // mid known from the offer's a=ssrc lines
        Send(server, 700, "1", 5, withMid: true);   // unannounced SSRC: mid from the extension
        await WaitFor(() => received.Count == 10);
        Assert.All(received.Where(r => r.Ssrc == 500), r => Assert.Equal("0", r.Mid));
        Assert.All(received.Where(r => r.Ssrc == 700), r => Assert.Equal("1", r.Mid));

        Assert.Equal(SrtpResult.Ok, client.RequestKeyframe(600));
        await WaitFor(() => plis.Count == 1);
        Assert.Equal(600u, plis.Single());
        Assert.Equal([PeerConnectionState.Connecting, PeerConnectionState.Connected], states);
    }

    [Fact]
    public async Task Client_offers_server_answers_and_renegotiation_keeps_the_dtls_role()
    {
        using var server = new PeerConnection(new PeerConnectionOptions { Socket = _serverSocket, IsServer = true });
        using var client = new PeerConnection(new PeerConnectionOptions { Socket = _clientSocket, IsServer = false });

        var answer = server.AcceptOffer(client.CreateOffer(Sections("sendonly", 900, 910)));
        Assert.Contains("a=setup:passive", answer, StringComparison.Ordinal);
        Assert.Contains("a=ice-lite", answer, StringComparison.Ordinal);
        client.AcceptAnswer(answer);
        await Task.WhenAll(server.ConnectAsync(), client.ConnectAsync()).WaitAsync(Deadline);
        Assert.Equal(SrtpProfile.AeadAes128Gcm, server.Profile);

        var received = new ConcurrentQueue<string?>();
        server.RtpReceived += (stream, _) => received.Enqueue(stream?.Mid);
        Send(client, 910, "1", 4, withMid: false);
        await WaitFor(() => received.Count == 4);
        Assert.All(received, mid => Assert.Equal("1", mid));

        // A second offer from the client: the server still answers passive.
        var again = server.AcceptOffer(client.CreateOffer(Sections("sendrecv", 900, 910)));
        Assert.Contains("a=setup:passive", again, StringComparison.Ordinal);
        client.AcceptAnswer(again);
        Assert.Throws<ArgumentException>(() =>
        {
            client.CreateOffer(Sections("sendrecv", 900, 910));
            client.AcceptAnswer(again.Replace("a=setup:passive", "a=setup:active", StringComparison.Ordinal));
        });
    }

    [Fact]
    public async Task Simulcast_layers_are_told_apart_by_rid_and_repair_streams_by_repaired_rid()
    {
        using var server = new PeerConnection(new PeerConnectionOptions { Socket = _serverSocket, IsServer = true });
        using var client = new PeerConnection(new PeerConnectionOptions { Socket = _clientSocket, IsServer = false });
        IReadOnlyList<SdpOfferSection> sections =
        [
            new("video", "0", "sendonly", [SdpCodec.Vp8()])
            {
                Extensions =
                [
                    new SdpExtmap(1, null, RtpExtensionUri.Mid, null),
                    new SdpExtmap(2, null, RtpExtensionUri.Rid, null),
                    new SdpExtmap(3, null, RtpExtensionUri.RepairedRid, null),
                ],
            },
        ];
        client.AcceptAnswer(server.AcceptOffer(client.CreateOffer(sections)));
        await Task.WhenAll(server.ConnectAsync(), client.ConnectAsync()).WaitAsync(Deadline);

        var seen = new ConcurrentQueue<(uint Ssrc, RtpStreamInfo? Stream)>();
        server.RtpReceived += (stream, packet) => seen.Enqueue((RtpPacket.TryParse(packet, out var rtp) ? rtp.Ssrc : 0, stream));
        var buffer = new byte[200];
        void SendLayer(uint ssrc, ushort seq, string? rid, string? repairedRid)
        {
            var builder = new RtpPacketBuilder(buffer, 96, seq, 0, ssrc);
            if (rid is not null || repairedRid is not null)
            {
                builder.AddExtension(1, "0"u8);
                builder.AddExtension(rid is null ? 3 : 2, System.Text.Encoding.ASCII.GetBytes(rid ?? repairedRid!));
            }

            builder.AddPayload([1, 2, 3]);
            Assert.Equal(SrtpResult.Ok, client.SendRtp(buffer, builder.Length));
        }

        SendLayer(10, 1, "q", null);
        SendLayer(20, 1, "h", null);
        SendLayer(30, 1, null, "h");
        SendLayer(10, 2, null, null); // MID/RID no longer sent: the latch still knows it
        await WaitFor(() => seen.Count == 4);
        var bySsrc = seen.GroupBy(s => s.Ssrc).ToDictionary(g => g.Key, g => g.Select(x => x.Stream).ToList());
        Assert.All(bySsrc[10], s => Assert.Equal(new RtpStreamInfo("0", "q", false), s));
        Assert.Equal(new RtpStreamInfo("0", "h", false), bySsrc[20].Single());
        Assert.Equal(new RtpStreamInfo("0", "h", true), bySsrc[30].Single());
    }

    [Fact]
    public async Task A_new_remote_ufrag_restarts_ice_with_fresh_credentials_and_media_keeps_flowing()
    {
        using var server = new PeerConnection(new PeerConnectionOptions { Socket = _serverSocket, IsServer = true });
        using var client = new PeerConnection(new PeerConnectionOptions { Socket = _clientSocket, IsServer = false });
        var offer = client.CreateOffer(Sections("sendonly", 900, 910));
        var answer = server.AcceptOffer(offer);
        client.AcceptAnswer(answer);
        await Task.WhenAll(server.ConnectAsync(), client.ConnectAsync()).WaitAsync(Deadline);

        // Same offer again: no restart, same credentials.
        var same = server.AcceptOffer(offer);
        Assert.Equal(Ufrag(answer), Ufrag(same));

        // The browser restarts ICE: new ufrag and pwd in its offer.
        Assert.True(SessionDescription.TryParse(offer, out var parsed, out _));
        var oldUfrag = parsed!.IceUfragOf(parsed.Media[0])!;
        var oldPwd = parsed.IcePwdOf(parsed.Media[0])!;
        var restarted = server.AcceptOffer(offer.Replace(oldUfrag, "NEW1", StringComparison.Ordinal).Replace(oldPwd, "newpasswordnewpassword12", StringComparison.Ordinal));
        Assert.NotEqual(Ufrag(answer), Ufrag(restarted));
        Assert.Contains("a=setup:passive", restarted, StringComparison.Ordinal);

        // The client still checks with the old credentials: still accepted, media still flows.
        var received = new ConcurrentQueue<string?>();
        server.RtpReceived += (stream, _) => received.Enqueue(stream?.Mid);
        Send(client, 910, "1", 3, withMid: false);
        await WaitFor(() => received.Count == 3);
    }

    [Fact]
    public async Task A_server_initiated_ice_restart_moves_the_client_to_the_new_credentials()
    {
        using var server = new PeerConnection(new PeerConnectionOptions { Socket = _serverSocket, IsServer = true });
        using var client = new PeerConnection(new PeerConnectionOptions { Socket = _clientSocket, IsServer = false });
        var firstOffer = server.CreateOffer(Sections("sendonly", 500, 600));
        var firstAnswer = client.AcceptOffer(firstOffer);
        server.AcceptAnswer(firstAnswer);
        await Task.WhenAll(server.ConnectAsync(), client.ConnectAsync()).WaitAsync(Deadline);

        var restartOffer = server.CreateOffer(Sections("sendonly", 500, 600), iceRestart: true);
        Assert.NotEqual(Ufrag(firstOffer), Ufrag(restartOffer));
        var restartAnswer = client.AcceptOffer(restartOffer);
        Assert.Contains("a=setup:active", restartAnswer, StringComparison.Ordinal);
        server.AcceptAnswer(restartAnswer);

        // The client checks with the new credentials; the server accepts them; media keeps flowing.
        var received = new ConcurrentQueue<string?>();
        client.RtpReceived += (stream, _) => received.Enqueue(stream?.Mid);
        var start = DateTime.UtcNow;
        while (received.IsEmpty)
        {
            Assert.True(DateTime.UtcNow - start < Deadline, "no media after the restart");
            Send(server, 500, "0", 1, withMid: false);
            await Task.Delay(100);
        }

        Assert.Equal(PeerConnectionState.Connected, client.State);

        // The client's agent checked again with both new credential sets and got through.
        var agent = client.Transport!.ControllingAgent!;
        await WaitFor(() => agent.State == IceConnectionState.Connected && agent.Remote.Ufrag == Ufrag(restartOffer));
        Assert.Equal(Ufrag(restartAnswer), agent.Local.Ufrag);

        // The server retired the old credentials once the new ones were used: an old-style check gets 401.
        Assert.True(SessionDescription.TryParse(firstOffer, out var first, out _));
        var oldCheck = new byte[256];
        var builder = new StunMessageBuilder(oldCheck, StunMessageType.BindingRequest, new byte[12]);
        builder.AddUsername($"{Ufrag(firstOffer)}:{Ufrag(firstAnswer)}");
        builder.AddMessageIntegrity(System.Text.Encoding.ASCII.GetBytes(first!.IcePwdOf(first.Media[0])!));
        builder.AddFingerprint();
        var check = builder.Written.ToArray();
        var response = new byte[IceLiteAgent.MaxResponseLength];
        await WaitFor(() => server.Transport!.LiteAgent!.ProcessStun(check, new IPEndPoint(IPAddress.Loopback, 1), response, out _)
            == IceCheckOutcome.Unauthorized);
    }

    private static string Ufrag(string sdp) =>
        SessionDescription.TryParse(sdp, out var parsed, out _) ? parsed!.IceUfragOf(parsed.Media[0])! : throw new InvalidOperationException();

    [Fact]
    public void Unusable_sdp_is_refused_with_argument_exceptions()
    {
        using var server = new PeerConnection(new PeerConnectionOptions { Socket = _serverSocket, IsServer = true });
        Assert.Throws<ArgumentException>(() => server.AcceptOffer("not sdp"));
        Assert.Throws<InvalidOperationException>(() => server.AcceptAnswer("v=0"));
        Assert.Throws<InvalidOperationException>(() => server.ConnectAsync().GetAwaiter().GetResult());
    }
}
