using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;

namespace Parley.WebRtc.Srtp;

/// <summary>
/// AES in counter mode as SRTP defines it (RFC 3711 §4.1.1): keystream block j is AES(IV + j), where the
/// low 16 bits of the IV are zero, so the block counter only ever fills the last two bytes.
/// The counter blocks and keystream live in buffers owned by this object and reused for every packet,
/// and ECB encrypts them in one call (no per-packet allocation). Not thread-safe: one per context.
/// </summary>
internal sealed class AesCounterMode : IDisposable
{
    // 96 blocks = 1,536 bytes: one MTU-sized packet in one ECB call; bigger inputs loop.
    private const int BatchBlocks = 96;
    private readonly Aes _aes;
    private readonly byte[] _counters = new byte[BatchBlocks * 16];
    private readonly byte[] _keystream = new byte[BatchBlocks * 16];

    public AesCounterMode(ReadOnlySpan<byte> key)
    {
        _aes = Aes.Create();
        _aes.Key = key.ToArray();
    }

    /// <summary>XORs the keystream for <paramref name="iv"/> (16 bytes, low 16 bits zero) into <paramref name="data"/>.</summary>
    public void Apply(ReadOnlySpan<byte> iv, Span<byte> data)
    {
        var block = 0;
        while (!data.IsEmpty)
        {
            var chunk = Math.Min(data.Length, _counters.Length);
            var blocks = (chunk + 15) / 16;
            var counters = _counters.AsSpan(0, blocks * 16);
            for (var j = 0; j < blocks; j++, block++)
            {
                var counter = counters.Slice(j * 16, 16);
                iv[..14].CopyTo(counter);
                BinaryPrimitives.WriteUInt16BigEndian(counter[14..], (ushort)(BinaryPrimitives.ReadUInt16BigEndian(iv[14..]) + block));
            }

            var keystream = _keystream.AsSpan(0, blocks * 16);
            _aes.EncryptEcb(counters, keystream, PaddingMode.None);
            Xor(data[..chunk], keystream);
            data = data[chunk..];
        }
    }

    /// <summary>data ^= keystream, a vector at a time.</summary>
    internal static void Xor(Span<byte> data, ReadOnlySpan<byte> keystream)
    {
        var i = 0;
        var width = Vector<byte>.Count;
        for (; i + width <= data.Length; i += width)
        {
            var v = new Vector<byte>(data[i..]) ^ new Vector<byte>(keystream[i..]);
            v.CopyTo(data[i..]);
        }

        for (; i < data.Length; i++)
        {
            data[i] ^= keystream[i];
        }
    }

    public void Dispose() => _aes.Dispose();
}
