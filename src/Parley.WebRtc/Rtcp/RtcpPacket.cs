using System.Buffers.Binary;

namespace Parley.WebRtc.Rtcp;

/// <summary>RTCP packet types (RFC 3550 §12.1, RFC 4585 §6.1).</summary>
public static class RtcpPacketType
{
    public const byte SenderReport = 200;
    public const byte ReceiverReport = 201;
    public const byte SourceDescription = 202;
    public const byte Goodbye = 203;
    public const byte Application = 204;
    public const byte TransportFeedback = 205;   // RTPFB
    public const byte PayloadFeedback = 206;     // PSFB
}

/// <summary>Feedback message types carried in the count field (RFC 4585 §6.1, RFC 5104 §4).</summary>
public static class RtcpFeedbackFormat
{
    public const int GenericNack = 1;           // RTPFB
    public const int TransportWideCc = 15;      // RTPFB, draft-holmer-rmcat-transport-wide-cc-extensions-01
    public const int PictureLossIndication = 1; // PSFB
    public const int FullIntraRequest = 4;      // PSFB
    public const int ApplicationLayer = 15;     // PSFB, REMB uses it
}

/// <summary>
/// One RTCP packet inside a compound packet: the common header and the body, a view without copy.
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |V=2|P|  Count  |      PT       |   length (32-bit words - 1)   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                  body (length × 4 bytes, last padding count)  |
/// </code>
/// </summary>
public readonly ref struct RtcpPacket
{
    public const int HeaderLength = 4;

    internal RtcpPacket(ReadOnlySpan<byte> buffer, int paddingLength)
    {
        Buffer = buffer;
        PaddingLength = paddingLength;
    }

    /// <summary>The whole packet, header and padding included.</summary>
    public ReadOnlySpan<byte> Buffer { get; }

    public int PaddingLength { get; }

    /// <summary>Report count, source count or feedback message type, depending on <see cref="PacketType"/>.</summary>
    public int Count => Buffer[0] & 0x1F;

    public byte PacketType => Buffer[1];

    /// <summary>The bytes after the common header, without padding.</summary>
    public ReadOnlySpan<byte> Body => Buffer[HeaderLength..(Buffer.Length - PaddingLength)];

    /// <summary>The first SSRC after the header (sender SSRC for SR, RR, RTPFB, PSFB), or 0 if absent.</summary>
    public uint SenderSsrc => Body.Length >= 4 ? BinaryPrimitives.ReadUInt32BigEndian(Body) : 0;

    /// <summary>Writes the common header for a packet of <paramref name="totalLength"/> bytes (a multiple of 4).</summary>
    internal static void WriteHeader(Span<byte> destination, int count, byte packetType, int totalLength)
    {
        destination[0] = (byte)(0x80 | (count & 0x1F));
        destination[1] = packetType;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)((totalLength / 4) - 1));
    }

    internal static void EnsureRoom(Span<byte> destination, int length)
    {
        if (destination.Length < length)
        {
            throw new ArgumentException($"The RTCP buffer needs {length} bytes.", nameof(destination));
        }
    }
}

/// <summary>
/// Walks the packets of a compound RTCP datagram (RFC 3550 §6.1). Validates as it goes: version 2,
/// each length inside the datagram, padding only on the last packet (RFC 3550 §A.2). On the first
/// violation it stops and sets <see cref="IsMalformed"/>; it never throws.
/// </summary>
public ref struct RtcpCompoundEnumerator
{
    private readonly ReadOnlySpan<byte> _data;
    private int _offset;

    public RtcpCompoundEnumerator(ReadOnlySpan<byte> compound)
    {
        _data = compound;
        _offset = 0;
        Current = default;
        IsMalformed = false;
    }

    public RtcpPacket Current { get; private set; }

    /// <summary>True once a packet failed validation; the packets before it were still yielded.</summary>
    public bool IsMalformed { get; private set; }

    public readonly RtcpCompoundEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (IsMalformed || _offset >= _data.Length)
        {
            return false;
        }

        var rest = _data[_offset..];
        if (rest.Length < RtcpPacket.HeaderLength || (rest[0] >> 6) != 2)
        {
            return Fail();
        }

        var length = 4 * (BinaryPrimitives.ReadUInt16BigEndian(rest[2..]) + 1);
        if (length > rest.Length)
        {
            return Fail();
        }

        var padding = 0;
        if ((rest[0] & 0x20) != 0)
        {
            padding = rest[length - 1];
            if (length != rest.Length || padding == 0 || padding > length - RtcpPacket.HeaderLength)
            {
                return Fail();
            }
        }

        Current = new RtcpPacket(rest[..length], padding);
        _offset += length;
        return true;
    }

    /// <summary>True when the whole datagram is a valid compound packet (every packet well framed).</summary>
    public static bool IsWellFormed(ReadOnlySpan<byte> compound)
    {
        var enumerator = new RtcpCompoundEnumerator(compound);
        var any = false;
        while (enumerator.MoveNext())
        {
            any = true;
        }

        return any && !enumerator.IsMalformed;
    }

    private bool Fail()
    {
        IsMalformed = true;
        return false;
    }
}
