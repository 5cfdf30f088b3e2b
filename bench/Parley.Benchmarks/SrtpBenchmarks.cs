using BenchmarkDotNet.Attributes;
using Parley.WebRtc.Rtp;
using Parley.WebRtc.Srtp;

namespace Parley.Benchmarks;

/// <summary>
/// SRTP protect and unprotect of one RTP packet with a 1,200-byte payload, in place, for both profiles.
/// Each operation first copies the packet into the work buffer (the transforms work in place), so
/// <see cref="CopyOnly"/> gives the copy's share of the figures.
/// </summary>
[MemoryDiagnoser]
public class SrtpBenchmarks
{
    private const int PayloadLength = 1200;
    private const int Ring = 4096;
    private readonly byte[] _work = new byte[1500];
    private byte[] _plain = [];
    private byte[][] _protected = [];
    private SrtpContext _sender = null!;
    private SrtpContext _receiver = null!;
    private int _next;
    private ushort _seq;

    [Params(SrtpProfile.AesCm128HmacSha1_80, SrtpProfile.AeadAes128Gcm)]
    public SrtpProfile Profile { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var key = new byte[16];
        var salt = new byte[SrtpProfiles.MasterSaltLength(Profile)];
        new Random(1).NextBytes(key);
        new Random(2).NextBytes(salt);
        _sender = new SrtpContext(Profile, key, salt);
        _receiver = new SrtpContext(Profile, key, salt);
        using var ringSender = new SrtpContext(Profile, key, salt);

        var payload = new byte[PayloadLength];
        new Random(3).NextBytes(payload);
        var buffer = new byte[1500];
        var builder = new RtpPacketBuilder(buffer, 96, 0, 0, 0x12345678);
        builder.AddPayload(payload);
        _plain = buffer[..builder.Length];

        // A ring of distinct packets (seq 0..4095) so the receiver's replay check sees new indices.
        _protected = new byte[Ring][];
        for (var i = 0; i < Ring; i++)
        {
            _plain.CopyTo(buffer, 0);
            RtpPacket.SetSequenceNumber(buffer, (ushort)i);
            ringSender.ProtectRtp(buffer, _plain.Length, out var length);
            _protected[i] = buffer[..length];
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sender.Dispose();
        _receiver.Dispose();
    }

    [Benchmark]
    public int CopyOnly()
    {
        _plain.CopyTo(_work, 0);
        return _work[100];
    }

    [Benchmark]
    public int Protect()
    {
        _plain.CopyTo(_work, 0);
        RtpPacket.SetSequenceNumber(_work, _seq++);
        _sender.ProtectRtp(_work, _plain.Length, out var length);
        return length;
    }

    [Benchmark]
    public int Unprotect()
    {
        if (_next == Ring)
        {
            _next = 0;
            _receiver.ResetReceiveState();
        }

        var packet = _protected[_next++];
        packet.CopyTo(_work, 0);
        var result = _receiver.UnprotectRtp(_work.AsSpan(0, packet.Length), out var length);
        return result == SrtpResult.Ok ? length : throw new InvalidOperationException(result.ToString());
    }
}
