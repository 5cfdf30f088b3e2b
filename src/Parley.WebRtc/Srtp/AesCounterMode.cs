using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;

namespace Parley.WebRtc.Srtp;

/// <summary>
/// AES in counter mode as SRTP defines it (RFC 3711 §4.1.1): keystream block j is AES(IV + j), where the
/// low 16 bits of the IV are zero, so the block counter only ever fills the last two bytes.
/// The counter blocks and keystream live in buffers owned by this object and reused for every packet,
/// and one cached ECB transform encrypts them in one call. Aes.EncryptEcb was measured at 64 bytes and
/// ~2.6 µs per 1,216-byte call here (it sets up a cipher context each time); the cached transform at
/// 0 bytes and ~0.26 µs. Not thread-safe: one per context.
/// </summary>
internal sealed class AesCounterMode : IDisposable
{
    // 96 blocks = 1,536 bytes: one MTU-sized packet in one ECB call; bigger inputs loop.
    private const int BatchBlocks = 96;
    private readonly Aes _aes;
    private readonly ICryptoTransform _ecb;
    private readonly byte[] _counters = new byte[BatchBlocks * 16];
    private readonly byte[] _keystream = new byte[BatchBlocks * 16];

    public AesCounterMode(ReadOnlySpan<byte> key)
    {
        _aes = Aes.Create();
        _aes.Key = key.ToArray();
        _aes.Mode = CipherMode.ECB;
        _aes.Padding = PaddingMode.None;
        _ecb = _aes.CreateEncryptor();
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
            var prefix = Vector128.Create(iv);
            var start = BinaryPrimitives.ReadUInt16BigEndian(iv[14..]);
            for (var j = 0; j < blocks; j++, block++)
            {
                var counter = counters.Slice(j * 16, 16);
                prefix.CopyTo(counter);
                BinaryPrimitives.WriteUInt16BigEndian(counter[14..], (ushort)(start + block));
            }

            _ecb.TransformBlock(_counters, 0, blocks * 16, _keystream, 0);
            var keystream = _keystream.AsSpan(0, blocks * 16);
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

    public void Dispose()
    {
        _ecb.Dispose();
        _aes.Dispose();
    }
}
