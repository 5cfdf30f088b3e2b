using System.Net;
using BenchmarkDotNet.Attributes;
using Parley.WebRtc.Rtp;
using Parley.WebRtc.Srtp;
using Parley.WebRtc.Transport;

namespace Parley.Benchmarks;

/// <summary>
/// What the socket loop does for one incoming SRTP video packet before handing it to the SFU: classify
/// the first byte (RFC 7983), find the peer by the sender's <see cref="SocketAddress"/> (among 1,000
/// bound addresses), unprotect in place, parse the RTP header and read the mid extension. The packet is
/// copied into the receive buffer first, as the socket would fill it. The allocation column is the
/// point: the whole path must stay at 0 bytes.
/// </summary>
[MemoryDiagnoser]
public class ReceivePathBenchmarks
{
    private const int Ring = 4096;
    private readonly byte[] _receiveBuffer = new byte[1500];
    private readonly PacketDemultiplexer _demultiplexer = new();
    private readonly PeerRouter<object> _router = new();
    private byte[][] _protected = [];
    private SocketAddress _from = null!;
    private SrtpContext _receiver = null!;
    private int _next;

    [Params(SrtpProfile.AesCm128HmacSha1_80, SrtpProfile.AeadAes128Gcm)]
    public SrtpProfile Profile { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        for (var i = 0; i < 1000; i++)
        {
            _router.AddAddress(new IPEndPoint(IPAddress.Loopback, 20000 + i), new object());
        }

        _from = new IPEndPoint(IPAddress.Loopback, 20500).Serialize();
        var key = new byte[16];
        var salt = new byte[SrtpProfiles.MasterSaltLength(Profile)];
        new Random(1).NextBytes(key);
        _receiver = new SrtpContext(Profile, key, salt);
        using var sender = new SrtpContext(Profile, key, salt);
        var buffer = new byte[1500];
        _protected = new byte[Ring][];
        for (var i = 0; i < Ring; i++)
        {
            var builder = new RtpPacketBuilder(buffer, 96, (ushort)i, (uint)i * 3000, 0xCAFEBABE, marker: i % 10 == 0);
            builder.AddExtension(1, "1"u8);
            builder.AddExtension(5, [0, 1]);
            builder.AddPayload(new byte[1100]);
            sender.ProtectRtp(buffer, builder.Length, out var length);
            _protected[i] = buffer[..length];
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _receiver.Dispose();

    [Benchmark]
    public int Receive()
    {
        if (_next == Ring)
        {
            _next = 0;
            _receiver.ResetReceiveState();
        }

        var packet = _protected[_next++];
        packet.CopyTo(_receiveBuffer, 0);
        var datagram = _receiveBuffer.AsSpan(0, packet.Length);
        if (_demultiplexer.Classify(datagram) != PacketKind.Rtp || !_router.TryRoute(datagram, _from, out _)
            || _receiver.UnprotectRtp(datagram, out var length) != SrtpResult.Ok
            || !RtpPacket.TryParse(datagram[..length], out var rtp) || !rtp.TryGetExtension(1, out var mid))
        {
            throw new InvalidOperationException("the receive path rejected a valid packet");
        }

        return mid[0] + rtp.Payload.Length;
    }
}
