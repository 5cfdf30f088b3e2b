using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Parley.WebRtc.Srtp;

namespace Parley.Benchmarks;

/// <summary>
/// Where AES-CM + HMAC-SHA1-80 protect spends its time, on the same 1,200-byte payload: the keystream
/// (AES-NI in registers, and the portable ECB-transform path) and the HMAC over the 1,216 authenticated bytes.
/// </summary>
[MemoryDiagnoser]
public class SrtpPartsBenchmarks
{
    private readonly byte[] _payload = new byte[1200];
    private readonly byte[] _authenticated = new byte[1216];
    private readonly byte[] _iv = new byte[16];
    private readonly byte[] _mac = new byte[20];
    private AesCounterMode _intrinsics = null!;
    private AesCounterMode _portable = null!;
    private IncrementalHash _hmac = null!;

    [GlobalSetup]
    public void Setup()
    {
        var key = new byte[16];
        new Random(1).NextBytes(key);
        new Random(2).NextBytes(_iv.AsSpan(0, 14));
        _intrinsics = new AesCounterMode(key);
        _portable = new AesCounterMode(key, allowIntrinsics: false);
        _hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA1, new byte[20]);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _intrinsics.Dispose();
        _portable.Dispose();
        _hmac.Dispose();
    }

    [Benchmark]
    public byte KeystreamAesNi()
    {
        _intrinsics.Apply(_iv, _payload);
        return _payload[0];
    }

    [Benchmark]
    public byte KeystreamEcbTransform()
    {
        _portable.Apply(_iv, _payload);
        return _payload[0];
    }

    [Benchmark]
    public byte HmacSha1()
    {
        _hmac.AppendData(_authenticated);
        _hmac.GetHashAndReset(_mac);
        return _mac[0];
    }
}
