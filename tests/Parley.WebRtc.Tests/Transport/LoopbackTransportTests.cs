using System.Collections.Concurrent;
using System.Net;
using Parley.WebRtc.Dtls;
using Parley.WebRtc.Ice;
using Parley.WebRtc.Rtcp;
using Parley.WebRtc.Rtp;
using Parley.WebRtc.Srtp;
using Parley.WebRtc.Transport;

namespace Parley.WebRtc.Tests.Transport;

/// <summary>
/// C# client ↔ C# server over real UDP sockets on 127.0.0.1: ICE (controlling client, ICE-lite server),
/// DTLS (client and server roles), SRTP and SRTCP both ways, both profiles, two clients sharing the
/// server's socket.
/// </summary>
public sealed class LoopbackTransportTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly List<IDisposable> _cleanup = [];
    private readonly ListLogger _serverLog = new();

    public void Dispose()
    {
        for (var i = _cleanup.Count - 1; i >= 0; i--)
        {
            _cleanup[i].Dispose();
        }
    }

    private T Keep<T>(T disposable)
        where T : IDisposable
    {
        _cleanup.Add(disposable);
        return disposable;
    }

    private sealed class Peer
    {
        public required WebRtcTransport Transport { get; init; }

        public ConcurrentQueue<byte[]> Rtp { get; } = new();

        public ConcurrentQueue<byte[]> Rtcp { get; } = new();

        public void Listen()
        {
            Transport.RtpReceived += packet => Rtp.Enqueue(packet.ToArray());
            Transport.RtcpReceived += packet => Rtcp.Enqueue(packet.ToArray());
        }
    }

    private (Peer Server, Peer Client) Connect(UdpSocketLoop serverSocket, SrtpProfile profile)
    {
        var serverIce = IceCredentials.Generate();
        var clientIce = IceCredentials.Generate();
        var serverCertificate = DtlsCertificate.Generate();
        var clientCertificate = DtlsCertificate.Generate();
        var dtls = new DtlsOptions { Profiles = [profile] };

        var server = new Peer
        {
            Transport = Keep(WebRtcTransport.CreateServer(serverSocket, new WebRtcTransportOptions
            {
                LocalIce = serverIce,
                RemoteUfrag = clientIce.Ufrag,
                Certificate = serverCertificate,
                RemoteFingerprint = clientCertificate.Fingerprint,
                Dtls = dtls,
                Logger = _serverLog,
            })),
        };
        var clientSocket = Keep(new UdpSocketLoop(new IPEndPoint(IPAddress.Loopback, 0)));
        var client = new Peer
        {
            Transport = Keep(WebRtcTransport.CreateClient(clientSocket, new WebRtcTransportOptions
            {
                LocalIce = clientIce,
                RemoteIce = serverIce,
                RemoteCandidates = [serverSocket.LocalEndPoint],
                Certificate = clientCertificate,
                RemoteFingerprint = serverCertificate.Fingerprint,
                Dtls = dtls,
            })),
        };
        server.Listen();
        client.Listen();
        clientSocket.Start();
        return (server, client);
    }

    private static void SendMedia(WebRtcTransport transport, uint ssrc, int count)
    {
        var buffer = new byte[1500];
        for (var i = 0; i < count; i++)
        {
            var builder = new RtpPacketBuilder(buffer, 96, (ushort)i, (uint)(i * 3000), ssrc);
            builder.AddExtension(1, "0"u8);
            builder.AddPayload(Payload(ssrc, i));
            Assert.Equal(SrtpResult.Ok, transport.SendRtp(buffer, builder.Length));
        }

        var length = RtcpReceiverReport.Write(buffer, ssrc, []);
        length += RtcpPli.Write(buffer.AsSpan(length), ssrc, ssrc ^ 1);
        Assert.Equal(SrtpResult.Ok, transport.SendRtcp(buffer, length));
    }

    private static byte[] Payload(uint ssrc, int index) =>
        Enumerable.Range(0, 200 + index).Select(b => (byte)(b ^ index ^ (int)ssrc)).ToArray();

    private static async Task WaitFor(Func<bool> condition, string what)
    {
        var start = DateTime.UtcNow;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow - start < Deadline, $"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }

    private static void AssertReceived(Peer peer, uint ssrc, int count)
    {
        var packets = peer.Rtp.ToArray().Select(p => (Ok: RtpPacket.TryParse(p, out var rtp), Seq: rtp.SequenceNumber, Ssrc: rtp.Ssrc, Payload: rtp.Payload.ToArray())).ToList();
        Assert.All(packets, p => Assert.True(p.Ok));
        Assert.All(packets, p => Assert.Equal(ssrc, p.Ssrc));
        Assert.Equal(Enumerable.Range(0, count), packets.Select(p => (int)p.Seq).Order());
        Assert.All(packets, p => Assert.Equal(Payload(ssrc, p.Seq), p.Payload));
        Assert.True(RtcpCompoundEnumerator.IsWellFormed(peer.Rtcp.Single()));
    }

    [Theory]
    [InlineData(SrtpProfile.AesCm128HmacSha1_80)]
    [InlineData(SrtpProfile.AeadAes128Gcm)]
    public async Task Two_clients_on_one_server_socket_exchange_srtp_both_ways(SrtpProfile profile)
    {
        var serverSocket = Keep(new UdpSocketLoop(new IPEndPoint(IPAddress.Loopback, 0)));
        serverSocket.Start();
        var (serverA, clientA) = Connect(serverSocket, profile);
        var (serverB, clientB) = Connect(serverSocket, profile);

        await Task.WhenAll(
            serverA.Transport.ConnectAsync(), clientA.Transport.ConnectAsync(),
            serverB.Transport.ConnectAsync(), clientB.Transport.ConnectAsync()).WaitAsync(Deadline);
        foreach (var peer in new[] { serverA, clientA, serverB, clientB })
        {
            Assert.Equal(IceConnectionState.Connected, peer.Transport.IceState);
            Assert.Equal(DtlsState.Connected, peer.Transport.DtlsState);
            Assert.Equal(profile, peer.Transport.Profile);
        }

        SendMedia(clientA.Transport, 0xA1, 40);
        SendMedia(clientB.Transport, 0xB1, 30);
        SendMedia(serverA.Transport, 0xA2, 25);
        SendMedia(serverB.Transport, 0xB2, 20);

        await WaitFor(() => serverA.Rtp.Count == 40 && serverB.Rtp.Count == 30 && clientA.Rtp.Count == 25 && clientB.Rtp.Count == 20
            && serverA.Rtcp.Count == 1 && serverB.Rtcp.Count == 1 && clientA.Rtcp.Count == 1 && clientB.Rtcp.Count == 1, "media");
        AssertReceived(serverA, 0xA1, 40);
        AssertReceived(serverB, 0xB1, 30);
        AssertReceived(clientA, 0xA2, 25);
        AssertReceived(clientB, 0xB2, 20);
        Assert.Equal(0, serverA.Transport.SrtpDrops + serverB.Transport.SrtpDrops);
        Assert.Equal(0, serverSocket.HandlerErrors);
        Assert.Equal(2, _serverLog.Events.Count(e => e.EventId == 5101 && e.Message.Contains(profile.ToString(), StringComparison.Ordinal)));
        Assert.Contains(_serverLog.Events, e => e.EventId == 5100 && e.Message.EndsWith("Connected", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_client_with_the_wrong_ice_password_never_connects()
    {
        var serverSocket = Keep(new UdpSocketLoop(new IPEndPoint(IPAddress.Loopback, 0)));
        serverSocket.Start();
        var serverIce = IceCredentials.Generate();
        var server = Keep(WebRtcTransport.CreateServer(serverSocket, new WebRtcTransportOptions
        {
            LocalIce = serverIce,
            Certificate = DtlsCertificate.Generate(),
            RemoteFingerprint = DtlsCertificate.Generate().Fingerprint,
        }));
        var clientSocket = Keep(new UdpSocketLoop(new IPEndPoint(IPAddress.Loopback, 0)));
        var client = Keep(WebRtcTransport.CreateClient(clientSocket, new WebRtcTransportOptions
        {
            LocalIce = IceCredentials.Generate(),
            RemoteIce = new IceCredentials(serverIce.Ufrag, "wrongpasswordwrongpassword"),
            RemoteCandidates = [serverSocket.LocalEndPoint],
            Certificate = DtlsCertificate.Generate(),
            RemoteFingerprint = DtlsCertificate.Generate().Fingerprint,
        }));
        clientSocket.Start();

        await Assert.ThrowsAsync<TimeoutException>(() => client.ConnectAsync().WaitAsync(Deadline));
        Assert.Equal(IceConnectionState.New, server.IceState);
    }
}
