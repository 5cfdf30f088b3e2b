using System.Buffers.Binary;
using System.Collections.Concurrent;
using Parley.WebRtc.Dtls;
using Parley.WebRtc.Rtp;
using Parley.WebRtc.Srtp;

namespace Parley.WebRtc.Tests.Dtls;

/// <summary>Two endpoints wired back to back in memory: real BouncyCastle handshakes, no sockets.</summary>
public class DtlsEndpointTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private sealed class Pair : IDisposable
    {
        public Pair(DtlsOptions? serverOptions = null, DtlsOptions? clientOptions = null, string? serverExpects = null,
            Func<int, bool>? dropFromServer = null, Func<int, bool>? dropFromClient = null)
        {
            var fromServer = 0;
            var fromClient = 0;
            ServerCertificate = DtlsCertificate.Generate();
            ClientCertificate = DtlsCertificate.Generate();
            Server = new DtlsEndpoint(DtlsRole.Server, ServerCertificate, serverExpects ?? ClientCertificate.Fingerprint,
                datagram =>
                {
                    ServerDatagrams.Enqueue(datagram.ToArray());
                    if (dropFromServer?.Invoke(Interlocked.Increment(ref fromServer) - 1) != true)
                    {
                        Client!.Deliver(datagram.Span);
                    }
                },
                serverOptions);
            Client = new DtlsEndpoint(DtlsRole.Client, ClientCertificate, ServerCertificate.Fingerprint,
                datagram =>
                {
                    ClientDatagrams.Enqueue(datagram.ToArray());
                    if (dropFromClient?.Invoke(Interlocked.Increment(ref fromClient) - 1) != true)
                    {
                        Server.Deliver(datagram.Span);
                    }
                },
                clientOptions);
        }

        public DtlsCertificate ServerCertificate { get; }

        public DtlsCertificate ClientCertificate { get; }

        public DtlsEndpoint Server { get; }

        public DtlsEndpoint Client { get; }

        public ConcurrentQueue<byte[]> ClientDatagrams { get; } = new();

        public ConcurrentQueue<byte[]> ServerDatagrams { get; } = new();

        public void Dispose()
        {
            Client.Dispose();
            Server.Dispose();
        }
    }

    [Theory]
    [InlineData(SrtpProfile.AesCm128HmacSha1_80)]
    [InlineData(SrtpProfile.AeadAes128Gcm)]
    public async Task Handshake_exports_matching_srtp_keys_that_carry_media_both_ways(SrtpProfile profile)
    {
        var options = new DtlsOptions { Profiles = [profile] };
        using var pair = new Pair(options, options);
        var serverTask = pair.Server.HandshakeAsync();
        var clientTask = pair.Client.HandshakeAsync();
        var server = await serverTask.WaitAsync(Deadline);
        var client = await clientTask.WaitAsync(Deadline);

        Assert.Equal(DtlsState.Connected, pair.Server.State);
        Assert.Equal(DtlsState.Connected, pair.Client.State);
        Assert.Equal(profile, server.Profile);
        Assert.Equal(profile, client.Profile);
        Assert.Equal(server.LocalMasterKey, client.RemoteMasterKey);
        Assert.Equal(server.LocalMasterSalt, client.RemoteMasterSalt);
        Assert.Equal(client.LocalMasterKey, server.RemoteMasterKey);
        Assert.NotEqual(server.LocalMasterKey, server.RemoteMasterKey);
        Assert.Equal(SrtpProfiles.MasterSaltLength(profile), server.LocalMasterSalt.Length);

        AssertMediaFlows(server.CreateSendContext(), client.CreateReceiveContext());
        AssertMediaFlows(client.CreateSendContext(), server.CreateReceiveContext());
    }

    private static void AssertMediaFlows(SrtpContext sender, SrtpContext receiver)
    {
        using (sender)
        using (receiver)
        {
            var buffer = new byte[300];
            var builder = new RtpPacketBuilder(buffer, 111, 1, 960, 0xABCD);
            builder.AddPayload(new byte[] { 1, 2, 3, 4, 5 });
            var plain = buffer[..builder.Length];
            Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(buffer, builder.Length, out var length));
            Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(buffer.AsSpan(0, length), out var plainLength));
            Assert.Equal(plain, buffer[..plainLength]);
        }
    }

    [Fact]
    public async Task Profile_preference_is_the_servers()
    {
        using var pair = new Pair(
            new DtlsOptions { Profiles = [SrtpProfile.AesCm128HmacSha1_80, SrtpProfile.AeadAes128Gcm] },
            new DtlsOptions { Profiles = [SrtpProfile.AeadAes128Gcm, SrtpProfile.AesCm128HmacSha1_80] });
        var serverTask = pair.Server.HandshakeAsync();
        var client = await pair.Client.HandshakeAsync().WaitAsync(Deadline);
        await serverTask.WaitAsync(Deadline);
        Assert.Equal(SrtpProfile.AesCm128HmacSha1_80, client.Profile);
    }

    [Fact]
    public async Task A_client_certificate_that_does_not_match_the_sdp_fingerprint_fails_the_handshake()
    {
        var stranger = DtlsCertificate.Generate();
        var quick = new DtlsOptions { HandshakeTimeout = TimeSpan.FromSeconds(5) };
        using var pair = new Pair(quick, quick, serverExpects: stranger.Fingerprint);
        var serverTask = pair.Server.HandshakeAsync();
        var clientTask = pair.Client.HandshakeAsync();
        var error = await Assert.ThrowsAsync<DtlsHandshakeException>(() => serverTask.WaitAsync(Deadline));
        Assert.Contains("bad_certificate", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<DtlsHandshakeException>(() => clientTask.WaitAsync(Deadline));
        Assert.Equal(DtlsState.Failed, pair.Server.State);
    }

    [Fact]
    public async Task A_fragmented_client_hello_is_reassembled_by_the_server()
    {
        // A 1,500-byte padding extension makes the ClientHello larger than the client's 400-byte MTU,
        // as a post-quantum key share makes Chromium's: it must arrive in several fragments.
        using var pair = new Pair(clientOptions: new DtlsOptions { Mtu = 400, ClientHelloPadding = 1500 });
        var serverTask = pair.Server.HandshakeAsync();
        var client = await pair.Client.HandshakeAsync().WaitAsync(Deadline);
        var server = await serverTask.WaitAsync(Deadline);
        Assert.Equal(server.LocalMasterKey, client.RemoteMasterKey);

        // DTLS record header (13 bytes), then handshake header: type(1) length(3) seq(2) offset(3) fragment length(3).
        var clientHelloFragments = pair.ClientDatagrams
            .Where(d => d.Length > 25 && d[0] == 22 && d[13] == 1)
            .Select(d => (Length: ReadUInt24(d.AsSpan(14)), Offset: ReadUInt24(d.AsSpan(19)), Fragment: ReadUInt24(d.AsSpan(22))))
            .ToList();
        Assert.True(clientHelloFragments.Count >= 4, $"{clientHelloFragments.Count} ClientHello fragments");
        Assert.True(pair.Server.ClientHelloFragments >= 4);
        Assert.All(clientHelloFragments, f => Assert.True(f.Fragment < f.Length));
        Assert.All(pair.ClientDatagrams, d => Assert.True(d.Length <= 400));
    }

    private static int ReadUInt24(ReadOnlySpan<byte> b) => (b[0] << 16) | BinaryPrimitives.ReadUInt16BigEndian(b[1..]);

    [Fact]
    public async Task Handshake_records_stay_under_the_1200_byte_default()
    {
        using var pair = new Pair();
        var serverTask = pair.Server.HandshakeAsync();
        await pair.Client.HandshakeAsync().WaitAsync(Deadline);
        await serverTask.WaitAsync(Deadline);
        Assert.All(pair.ClientDatagrams.Concat(pair.ServerDatagrams), d => Assert.True(d.Length <= 1200, $"{d.Length} bytes"));
        Assert.Contains(pair.ServerDatagrams, d => d[0] == 22); // the server's flight was seen
    }

    [Fact]
    public async Task Lost_handshake_datagrams_are_retransmitted_and_the_handshake_completes()
    {
        // The server's first flight and the client's second datagram are lost on the way (RFC 6347 §4.2.4:
        // the sender's retransmission timer resends the whole flight).
        using var pair = new Pair(dropFromServer: i => i == 0, dropFromClient: i => i == 1);
        var serverTask = pair.Server.HandshakeAsync();

        await pair.Client.HandshakeAsync().WaitAsync(Deadline);
        await serverTask.WaitAsync(Deadline);

        Assert.Equal(DtlsState.Connected, pair.Client.State);
        Assert.Equal(DtlsState.Connected, pair.Server.State);
        // A resent flight carries new record sequence numbers but the same handshake messages: compare the
        // handshake header (type, length, message_seq, fragment) that follows the 13-byte record header.
        var serverFlights = pair.ServerDatagrams.Select(d => Convert.ToHexString(d.AsSpan(13, Math.Min(d.Length - 13, 12)))).ToList();
        Assert.True(serverFlights.Count > serverFlights.Distinct().Count(), "the server's first flight was never resent");
    }

    [Fact]
    public async Task A_handshake_without_a_peer_times_out()
    {
        var lonely = new DtlsEndpoint(DtlsRole.Client, DtlsCertificate.Generate(), DtlsCertificate.Generate().Fingerprint,
            _ => { }, new DtlsOptions { HandshakeTimeout = TimeSpan.FromSeconds(2) });
        using (lonely)
        {
            await Assert.ThrowsAsync<DtlsHandshakeException>(() => lonely.HandshakeAsync().WaitAsync(Deadline));
            Assert.Equal(DtlsState.Failed, lonely.State);
        }
    }

    [Fact]
    public void Certificate_fingerprint_is_sha256_of_the_der_in_sdp_form()
    {
        var certificate = DtlsCertificate.Generate();
        Assert.Matches("^sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$", certificate.Fingerprint);
        Assert.Equal(certificate.Fingerprint, DtlsCertificate.ComputeFingerprint(certificate.Der));
        Assert.True(DtlsCertificate.FingerprintsMatch(certificate.Fingerprint.ToLowerInvariant(), certificate.Fingerprint));
        Assert.False(DtlsCertificate.FingerprintsMatch(DtlsCertificate.Generate().Fingerprint, certificate.Fingerprint));
    }
}
