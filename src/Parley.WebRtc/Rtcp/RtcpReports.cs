using System.Buffers.Binary;

namespace Parley.WebRtc.Rtcp;

/// <summary>
/// A reception report block (RFC 3550 §6.4.1), 24 bytes.
/// <code>
/// +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// |                 SSRC_1 (SSRC of first source)                 |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | fraction lost |       cumulative number of packets lost       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           extended highest sequence number received           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                      interarrival jitter                      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         last SR (LSR)                         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                   delay since last SR (DLSR)                  |
/// +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// </code>
/// </summary>
public readonly record struct RtcpReportBlock(
    uint Ssrc,
    byte FractionLost,
    int CumulativeLost,
    uint HighestSequenceNumber,
    uint Jitter,
    uint LastSenderReport,
    uint DelaySinceLastSenderReport)
{
    public const int Length = 24;

    internal static RtcpReportBlock Read(ReadOnlySpan<byte> b)
    {
        // Cumulative loss is a signed 24-bit number (duplicates can make it negative).
        var lost = (b[5] << 16) | (b[6] << 8) | b[7];
        if ((lost & 0x800000) != 0)
        {
            lost -= 0x1000000;
        }

        return new RtcpReportBlock(
            BinaryPrimitives.ReadUInt32BigEndian(b),
            b[4],
            lost,
            BinaryPrimitives.ReadUInt32BigEndian(b[8..]),
            BinaryPrimitives.ReadUInt32BigEndian(b[12..]),
            BinaryPrimitives.ReadUInt32BigEndian(b[16..]),
            BinaryPrimitives.ReadUInt32BigEndian(b[20..]));
    }

    internal void Write(Span<byte> b)
    {
        BinaryPrimitives.WriteUInt32BigEndian(b, Ssrc);
        var lost = Math.Clamp(CumulativeLost, -0x800000, 0x7FFFFF) & 0xFFFFFF;
        b[4] = FractionLost;
        b[5] = (byte)(lost >> 16);
        b[6] = (byte)(lost >> 8);
        b[7] = (byte)lost;
        BinaryPrimitives.WriteUInt32BigEndian(b[8..], HighestSequenceNumber);
        BinaryPrimitives.WriteUInt32BigEndian(b[12..], Jitter);
        BinaryPrimitives.WriteUInt32BigEndian(b[16..], LastSenderReport);
        BinaryPrimitives.WriteUInt32BigEndian(b[20..], DelaySinceLastSenderReport);
    }
}

/// <summary>
/// Sender report (RFC 3550 §6.4.1).
/// <code>
/// |V=2|P|    RC   |   PT=SR=200   |             length            |
/// |                         SSRC of sender                        |
/// |              NTP timestamp, most significant word             |
/// |             NTP timestamp, least significant word             |
/// |                         RTP timestamp                         |
/// |                     sender's packet count                     |
/// |                      sender's octet count                     |
/// |                  report blocks (RC × 24 bytes)                |
/// </code>
/// </summary>
public readonly ref struct RtcpSenderReport
{
    private const int FixedLength = 24;
    private readonly ReadOnlySpan<byte> _body;

    private RtcpSenderReport(ReadOnlySpan<byte> body, int count)
    {
        _body = body;
        ReportCount = count;
    }

    public uint Ssrc => BinaryPrimitives.ReadUInt32BigEndian(_body);

    /// <summary>64-bit NTP timestamp (seconds since 1900 in the high word, fraction in the low).</summary>
    public ulong NtpTimestamp => BinaryPrimitives.ReadUInt64BigEndian(_body[4..]);

    public uint RtpTimestamp => BinaryPrimitives.ReadUInt32BigEndian(_body[12..]);

    public uint PacketCount => BinaryPrimitives.ReadUInt32BigEndian(_body[16..]);

    public uint OctetCount => BinaryPrimitives.ReadUInt32BigEndian(_body[20..]);

    public int ReportCount { get; }

    public RtcpReportBlock GetReportBlock(int index) => (uint)index < (uint)ReportCount
        ? RtcpReportBlock.Read(_body[(FixedLength + (index * RtcpReportBlock.Length))..])
        : throw new ArgumentOutOfRangeException(nameof(index));

    public static bool TryParse(RtcpPacket packet, out RtcpSenderReport report)
    {
        report = default;
        var body = packet.Body;
        if (packet.PacketType != RtcpPacketType.SenderReport || body.Length < FixedLength + (packet.Count * RtcpReportBlock.Length))
        {
            return false;
        }

        report = new RtcpSenderReport(body, packet.Count);
        return true;
    }

    /// <summary>Writes a sender report; returns its length.</summary>
    public static int Write(Span<byte> destination, uint ssrc, ulong ntpTimestamp, uint rtpTimestamp, uint packetCount, uint octetCount, ReadOnlySpan<RtcpReportBlock> blocks)
    {
        if (blocks.Length > 31)
        {
            throw new ArgumentException("At most 31 report blocks.", nameof(blocks));
        }

        var length = RtcpPacket.HeaderLength + FixedLength + (blocks.Length * RtcpReportBlock.Length);
        RtcpPacket.EnsureRoom(destination, length);
        RtcpPacket.WriteHeader(destination, blocks.Length, RtcpPacketType.SenderReport, length);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], ssrc);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], ntpTimestamp);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], rtpTimestamp);
        BinaryPrimitives.WriteUInt32BigEndian(destination[20..], packetCount);
        BinaryPrimitives.WriteUInt32BigEndian(destination[24..], octetCount);
        for (var i = 0; i < blocks.Length; i++)
        {
            blocks[i].Write(destination[(28 + (i * RtcpReportBlock.Length))..]);
        }

        return length;
    }
}

/// <summary>
/// Receiver report (RFC 3550 §6.4.2).
/// <code>
/// |V=2|P|    RC   |   PT=RR=201   |             length            |
/// |                     SSRC of packet sender                     |
/// |                  report blocks (RC × 24 bytes)                |
/// </code>
/// </summary>
public readonly ref struct RtcpReceiverReport
{
    private readonly ReadOnlySpan<byte> _body;

    private RtcpReceiverReport(ReadOnlySpan<byte> body, int count)
    {
        _body = body;
        ReportCount = count;
    }

    public uint Ssrc => BinaryPrimitives.ReadUInt32BigEndian(_body);

    public int ReportCount { get; }

    public RtcpReportBlock GetReportBlock(int index) => (uint)index < (uint)ReportCount
        ? RtcpReportBlock.Read(_body[(4 + (index * RtcpReportBlock.Length))..])
        : throw new ArgumentOutOfRangeException(nameof(index));

    public static bool TryParse(RtcpPacket packet, out RtcpReceiverReport report)
    {
        report = default;
        var body = packet.Body;
        if (packet.PacketType != RtcpPacketType.ReceiverReport || body.Length < 4 + (packet.Count * RtcpReportBlock.Length))
        {
            return false;
        }

        report = new RtcpReceiverReport(body, packet.Count);
        return true;
    }

    public static int Write(Span<byte> destination, uint ssrc, ReadOnlySpan<RtcpReportBlock> blocks)
    {
        if (blocks.Length > 31)
        {
            throw new ArgumentException("At most 31 report blocks.", nameof(blocks));
        }

        var length = RtcpPacket.HeaderLength + 4 + (blocks.Length * RtcpReportBlock.Length);
        RtcpPacket.EnsureRoom(destination, length);
        RtcpPacket.WriteHeader(destination, blocks.Length, RtcpPacketType.ReceiverReport, length);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], ssrc);
        for (var i = 0; i < blocks.Length; i++)
        {
            blocks[i].Write(destination[(8 + (i * RtcpReportBlock.Length))..]);
        }

        return length;
    }
}
