using System.Buffers.Binary;

namespace Parley.WebRtc.Rtcp;

/// <summary>
/// Common layout of transport- and payload-specific feedback (RFC 4585 §6.1).
/// <code>
/// |V=2|P|   FMT   |       PT      |          length               |
/// |                  SSRC of packet sender                        |
/// |                  SSRC of media source                         |
/// :            Feedback Control Information (FCI)                 :
/// </code>
/// </summary>
internal static class FeedbackLayout
{
    public const int FixedLength = 12;

    public static bool TryRead(RtcpPacket packet, byte packetType, int format, out uint sender, out uint media, out ReadOnlySpan<byte> fci)
    {
        sender = 0;
        media = 0;
        fci = default;
        var body = packet.Body;
        if (packet.PacketType != packetType || packet.Count != format || body.Length < 8)
        {
            return false;
        }

        sender = BinaryPrimitives.ReadUInt32BigEndian(body);
        media = BinaryPrimitives.ReadUInt32BigEndian(body[4..]);
        fci = body[8..];
        return true;
    }

    public static void WriteHeader(Span<byte> destination, byte packetType, int format, int length, uint sender, uint media)
    {
        RtcpPacket.EnsureRoom(destination, length);
        RtcpPacket.WriteHeader(destination, format, packetType, length);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], sender);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], media);
    }
}

/// <summary>
/// Generic NACK (RFC 4585 §6.2.1): RTPFB FMT 1; each FCI entry names a lost packet (PID) and a bitmask
/// of the 16 following ones (BLP, bit i = PID + i + 1 lost).
/// <code>
/// |            PID                |             BLP               |
/// </code>
/// </summary>
public readonly ref struct RtcpNack
{
    private readonly ReadOnlySpan<byte> _fci;

    private RtcpNack(uint sender, uint media, ReadOnlySpan<byte> fci)
    {
        SenderSsrc = sender;
        MediaSsrc = media;
        _fci = fci;
    }

    public uint SenderSsrc { get; }

    public uint MediaSsrc { get; }

    public int EntryCount => _fci.Length / 4;

    public (ushort PacketId, ushort LostBitmask) GetEntry(int index) => (uint)index < (uint)EntryCount
        ? (BinaryPrimitives.ReadUInt16BigEndian(_fci[(4 * index)..]), BinaryPrimitives.ReadUInt16BigEndian(_fci[((4 * index) + 2)..]))
        : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>Expands the entries into sequence numbers; returns how many were written (up to the span length).</summary>
    public int GetLostSequenceNumbers(Span<ushort> destination)
    {
        var written = 0;
        for (var i = 0; i < EntryCount; i++)
        {
            var (pid, blp) = GetEntry(i);
            if (written == destination.Length)
            {
                return written;
            }

            destination[written++] = pid;
            for (var bit = 0; bit < 16; bit++)
            {
                if ((blp & (1 << bit)) != 0)
                {
                    if (written == destination.Length)
                    {
                        return written;
                    }

                    destination[written++] = (ushort)(pid + bit + 1);
                }
            }
        }

        return written;
    }

    public static bool TryParse(RtcpPacket packet, out RtcpNack nack)
    {
        nack = default;
        if (!FeedbackLayout.TryRead(packet, RtcpPacketType.TransportFeedback, RtcpFeedbackFormat.GenericNack, out var sender, out var media, out var fci)
            || fci.Length == 0 || fci.Length % 4 != 0)
        {
            return false;
        }

        nack = new RtcpNack(sender, media, fci);
        return true;
    }

    /// <summary>
    /// Writes a NACK for <paramref name="lost"/>, in ascending order modulo 2^16; a sequence number within
    /// 16 of the current PID folds into its BLP bitmask.
    /// </summary>
    public static int Write(Span<byte> destination, uint sender, uint media, ReadOnlySpan<ushort> lost)
    {
        if (lost.IsEmpty)
        {
            throw new ArgumentException("A NACK names at least one packet.", nameof(lost));
        }

        var offset = FeedbackLayout.FixedLength;
        var i = 0;
        while (i < lost.Length)
        {
            var pid = lost[i++];
            ushort blp = 0;
            while (i < lost.Length)
            {
                var distance = (ushort)(lost[i] - pid);
                if (distance is < 1 or > 16)
                {
                    break;
                }

                blp |= (ushort)(1 << (distance - 1));
                i++;
            }

            RtcpPacket.EnsureRoom(destination, offset + 4);
            BinaryPrimitives.WriteUInt16BigEndian(destination[offset..], pid);
            BinaryPrimitives.WriteUInt16BigEndian(destination[(offset + 2)..], blp);
            offset += 4;
        }

        FeedbackLayout.WriteHeader(destination, RtcpPacketType.TransportFeedback, RtcpFeedbackFormat.GenericNack, offset, sender, media);
        return offset;
    }
}

/// <summary>Picture loss indication (RFC 4585 §6.3.1): PSFB FMT 1, no FCI.</summary>
public readonly record struct RtcpPli(uint SenderSsrc, uint MediaSsrc)
{
    public static bool TryParse(RtcpPacket packet, out RtcpPli pli)
    {
        pli = default;
        if (!FeedbackLayout.TryRead(packet, RtcpPacketType.PayloadFeedback, RtcpFeedbackFormat.PictureLossIndication, out var sender, out var media, out _))
        {
            return false;
        }

        pli = new RtcpPli(sender, media);
        return true;
    }

    public static int Write(Span<byte> destination, uint sender, uint media)
    {
        FeedbackLayout.WriteHeader(destination, RtcpPacketType.PayloadFeedback, RtcpFeedbackFormat.PictureLossIndication, FeedbackLayout.FixedLength, sender, media);
        return FeedbackLayout.FixedLength;
    }
}

/// <summary>
/// Full intra request (RFC 5104 §4.3.1): PSFB FMT 4; the media SSRC field is unused (0) and each FCI
/// entry names the source and a command sequence number.
/// <code>
/// |                              SSRC                             |
/// | Seq nr.       |    Reserved                                   |
/// </code>
/// </summary>
public readonly ref struct RtcpFir
{
    private readonly ReadOnlySpan<byte> _fci;

    private RtcpFir(uint sender, ReadOnlySpan<byte> fci)
    {
        SenderSsrc = sender;
        _fci = fci;
    }

    public uint SenderSsrc { get; }

    public int EntryCount => _fci.Length / 8;

    public (uint Ssrc, byte SequenceNumber) GetEntry(int index) => (uint)index < (uint)EntryCount
        ? (BinaryPrimitives.ReadUInt32BigEndian(_fci[(8 * index)..]), _fci[(8 * index) + 4])
        : throw new ArgumentOutOfRangeException(nameof(index));

    public static bool TryParse(RtcpPacket packet, out RtcpFir fir)
    {
        fir = default;
        if (!FeedbackLayout.TryRead(packet, RtcpPacketType.PayloadFeedback, RtcpFeedbackFormat.FullIntraRequest, out var sender, out _, out var fci)
            || fci.Length == 0 || fci.Length % 8 != 0)
        {
            return false;
        }

        fir = new RtcpFir(sender, fci);
        return true;
    }

    public static int Write(Span<byte> destination, uint sender, ReadOnlySpan<(uint Ssrc, byte SequenceNumber)> entries)
    {
        var length = FeedbackLayout.FixedLength + (8 * entries.Length);
        FeedbackLayout.WriteHeader(destination, RtcpPacketType.PayloadFeedback, RtcpFeedbackFormat.FullIntraRequest, length, sender, 0);
        for (var i = 0; i < entries.Length; i++)
        {
            var at = FeedbackLayout.FixedLength + (8 * i);
            BinaryPrimitives.WriteUInt32BigEndian(destination[at..], entries[i].Ssrc);
            destination[at + 4] = entries[i].SequenceNumber;
            destination.Slice(at + 5, 3).Clear();
        }

        return length;
    }
}

/// <summary>
/// Receiver estimated maximum bitrate (draft-alvestrand-rmcat-remb-03 §2.2): PSFB FMT 15 with the
/// identifier "REMB"; bitrate = mantissa × 2^exp bits per second.
/// <code>
/// |  Unique identifier 'R' 'E' 'M' 'B'                            |
/// |  Num SSRC     | BR Exp    |  BR Mantissa (18 bits)            |
/// |   SSRC feedback (Num SSRC times)                              |
/// </code>
/// </summary>
public readonly ref struct RtcpRemb
{
    private readonly ReadOnlySpan<byte> _ssrcs;

    private RtcpRemb(uint sender, ulong bitrate, ReadOnlySpan<byte> ssrcs)
    {
        SenderSsrc = sender;
        Bitrate = bitrate;
        _ssrcs = ssrcs;
    }

    public uint SenderSsrc { get; }

    public ulong Bitrate { get; }

    public int SsrcCount => _ssrcs.Length / 4;

    public uint GetSsrc(int index) => (uint)index < (uint)SsrcCount
        ? BinaryPrimitives.ReadUInt32BigEndian(_ssrcs[(4 * index)..])
        : throw new ArgumentOutOfRangeException(nameof(index));

    public static bool TryParse(RtcpPacket packet, out RtcpRemb remb)
    {
        remb = default;
        if (!FeedbackLayout.TryRead(packet, RtcpPacketType.PayloadFeedback, RtcpFeedbackFormat.ApplicationLayer, out var sender, out _, out var fci)
            || fci.Length < 8 || !fci[..4].SequenceEqual("REMB"u8))
        {
            return false;
        }

        var count = fci[4];
        var exponent = fci[5] >> 2;
        var mantissa = ((fci[5] & 0x03) << 16) | (fci[6] << 8) | fci[7];
        if (fci.Length - 8 < 4 * count)
        {
            return false;
        }

        // 18-bit mantissa shifted by up to 63 can exceed 64 bits; saturate rather than wrap.
        var bitrate = exponent > 46 && mantissa != 0 ? ulong.MaxValue : (ulong)mantissa << exponent;
        remb = new RtcpRemb(sender, bitrate, fci.Slice(8, 4 * count));
        return true;
    }

    public static int Write(Span<byte> destination, uint sender, ulong bitrate, ReadOnlySpan<uint> ssrcs)
    {
        if (ssrcs.Length > 255)
        {
            throw new ArgumentException("At most 255 SSRCs.", nameof(ssrcs));
        }

        var exponent = 0;
        while ((bitrate >> exponent) > 0x3FFFF)
        {
            exponent++;
        }

        var mantissa = (uint)(bitrate >> exponent);
        var length = FeedbackLayout.FixedLength + 8 + (4 * ssrcs.Length);
        FeedbackLayout.WriteHeader(destination, RtcpPacketType.PayloadFeedback, RtcpFeedbackFormat.ApplicationLayer, length, sender, 0);
        "REMB"u8.CopyTo(destination[12..]);
        destination[16] = (byte)ssrcs.Length;
        destination[17] = (byte)((exponent << 2) | (int)(mantissa >> 16));
        destination[18] = (byte)(mantissa >> 8);
        destination[19] = (byte)mantissa;
        for (var i = 0; i < ssrcs.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination[(20 + (4 * i))..], ssrcs[i]);
        }

        return length;
    }
}
