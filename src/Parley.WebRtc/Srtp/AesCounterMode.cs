using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using X86Aes = System.Runtime.Intrinsics.X86.Aes;
using X86Sse2 = System.Runtime.Intrinsics.X86.Sse2;

namespace Parley.WebRtc.Srtp;

/// <summary>
/// AES in counter mode as SRTP defines it (RFC 3711 §4.1.1): keystream block j is AES(IV + j), where the
/// low 16 bits of the IV are zero, so the block counter only ever fills the last two bytes.
/// On x86 with AES-NI the counter blocks are encrypted in registers, four at a time, and XORed straight
/// into the payload. Elsewhere the counter blocks and keystream live in buffers owned by this object,
/// encrypted by one cached ECB transform (Aes.EncryptEcb was measured at 64 bytes and ~2.6 µs per
/// 1,216-byte call here: it sets up a cipher context each time). No per-packet allocation either way.
/// Not thread-safe: one per context.
/// </summary>
internal sealed class AesCounterMode : IDisposable
{
    // 96 blocks = 1,536 bytes: one MTU-sized packet in one ECB call; bigger inputs loop.
    private const int BatchBlocks = 96;
    private readonly Aes _aes;
    private readonly ICryptoTransform _ecb;
    private readonly byte[] _counters = new byte[BatchBlocks * 16];
    private readonly byte[] _keystream = new byte[BatchBlocks * 16];
    private readonly Vector128<byte>[]? _roundKeys;

    public AesCounterMode(ReadOnlySpan<byte> key, bool allowIntrinsics = true)
    {
        _aes = Aes.Create();
        _aes.Key = key.ToArray();
        _aes.Mode = CipherMode.ECB;
        _aes.Padding = PaddingMode.None;
        _ecb = _aes.CreateEncryptor();
        if (allowIntrinsics && X86Aes.IsSupported && key.Length == 16)
        {
            _roundKeys = ExpandKey128(key);
        }
    }

    /// <summary>True when AES-NI does the work (for tests that cover both paths).</summary>
    internal bool UsesIntrinsics => _roundKeys is not null;

    /// <summary>XORs the keystream for <paramref name="iv"/> (16 bytes, low 16 bits zero) into <paramref name="data"/>.</summary>
    public void Apply(ReadOnlySpan<byte> iv, Span<byte> data)
    {
        if (_roundKeys is not null)
        {
            ApplyIntrinsics(_roundKeys, iv, data);
            return;
        }

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

    private static void ApplyIntrinsics(Vector128<byte>[] rk, ReadOnlySpan<byte> iv, Span<byte> data)
    {
        var prefix = Vector128.Create(iv).AsUInt16();
        var counter = BinaryPrimitives.ReadUInt16BigEndian(iv[14..]);
        var i = 0;
        Span<byte> tail = stackalloc byte[16];

        // Four independent blocks per round keep the AES units busy (AESENC has a multi-cycle latency).
        for (; i + 64 <= data.Length; i += 64, counter += 4)
        {
            var b0 = Counter(prefix, counter) ^ rk[0];
            var b1 = Counter(prefix, (ushort)(counter + 1)) ^ rk[0];
            var b2 = Counter(prefix, (ushort)(counter + 2)) ^ rk[0];
            var b3 = Counter(prefix, (ushort)(counter + 3)) ^ rk[0];
            for (var r = 1; r < 10; r++)
            {
                b0 = X86Aes.Encrypt(b0, rk[r]);
                b1 = X86Aes.Encrypt(b1, rk[r]);
                b2 = X86Aes.Encrypt(b2, rk[r]);
                b3 = X86Aes.Encrypt(b3, rk[r]);
            }

            var chunk = data.Slice(i, 64);
            (X86Aes.EncryptLast(b0, rk[10]) ^ Vector128.Create(chunk)).CopyTo(chunk);
            (X86Aes.EncryptLast(b1, rk[10]) ^ Vector128.Create(chunk[16..])).CopyTo(chunk[16..]);
            (X86Aes.EncryptLast(b2, rk[10]) ^ Vector128.Create(chunk[32..])).CopyTo(chunk[32..]);
            (X86Aes.EncryptLast(b3, rk[10]) ^ Vector128.Create(chunk[48..])).CopyTo(chunk[48..]);
        }

        for (; i < data.Length; i += 16, counter++)
        {
            var b = Counter(prefix, counter) ^ rk[0];
            for (var r = 1; r < 10; r++)
            {
                b = X86Aes.Encrypt(b, rk[r]);
            }

            b = X86Aes.EncryptLast(b, rk[10]);
            var rest = data[i..];
            if (rest.Length >= 16)
            {
                (b ^ Vector128.Create(rest)).CopyTo(rest);
            }
            else
            {
                b.CopyTo(tail);
                Xor(rest, tail);
            }
        }
    }

    /// <summary>The IV with its last two bytes replaced by the big-endian block counter.</summary>
    private static Vector128<byte> Counter(Vector128<ushort> prefix, ushort counter) =>
        prefix.WithElement(7, BinaryPrimitives.ReverseEndianness(counter)).AsByte();

    /// <summary>AES-128 key schedule (FIPS 197 §5.2) with AESKEYGENASSIST, whose round constant must be a literal.</summary>
    private static Vector128<byte>[] ExpandKey128(ReadOnlySpan<byte> key)
    {
        var k = new Vector128<byte>[11];
        k[0] = Vector128.Create(key);
        k[1] = NextRoundKey(k[0], X86Aes.KeygenAssist(k[0], 0x01));
        k[2] = NextRoundKey(k[1], X86Aes.KeygenAssist(k[1], 0x02));
        k[3] = NextRoundKey(k[2], X86Aes.KeygenAssist(k[2], 0x04));
        k[4] = NextRoundKey(k[3], X86Aes.KeygenAssist(k[3], 0x08));
        k[5] = NextRoundKey(k[4], X86Aes.KeygenAssist(k[4], 0x10));
        k[6] = NextRoundKey(k[5], X86Aes.KeygenAssist(k[5], 0x20));
        k[7] = NextRoundKey(k[6], X86Aes.KeygenAssist(k[6], 0x40));
        k[8] = NextRoundKey(k[7], X86Aes.KeygenAssist(k[7], 0x80));
        k[9] = NextRoundKey(k[8], X86Aes.KeygenAssist(k[8], 0x1B));
        k[10] = NextRoundKey(k[9], X86Aes.KeygenAssist(k[9], 0x36));
        return k;
    }

    /// <summary>Broadcasts RotWord(SubWord(w3)) ^ rcon and folds in the previous round key's words.</summary>
    private static Vector128<byte> NextRoundKey(Vector128<byte> previous, Vector128<byte> assist)
    {
        var t = X86Sse2.Shuffle(assist.AsInt32(), 0xFF).AsByte();
        var k = previous;
        k ^= X86Sse2.ShiftLeftLogical128BitLane(k, 4);
        k ^= X86Sse2.ShiftLeftLogical128BitLane(k, 4);
        k ^= X86Sse2.ShiftLeftLogical128BitLane(k, 4);
        return k ^ t;
    }
}
