namespace Parley.WebRtc.Transport;

/// <summary>What a datagram on a WebRTC socket carries.</summary>
public enum PacketKind
{
    /// <summary>Not a protocol this socket serves (ZRTP, TURN channel data, garbage, too short): drop it.</summary>
    Unknown = 0,
    Stun = 1,
    Dtls = 2,
    Rtp = 3,
    Rtcp = 4,
}

/// <summary>
/// Classifies datagrams on one socket by their first byte (RFC 7983 §7) and counts what it drops.
/// One instance per socket; the counters are updated with interlocked adds so a socket shared by
/// several receive loops reads consistent figures.
/// <code>
///                 +----------------+
///                 |        [0..3] -+--> STUN
///                 |      [16..19] -+--> ZRTP            (dropped)
///     packet -->  |      [20..63] -+--> DTLS
///                 |      [64..79] -+--> TURN Channel    (dropped)
///                 |    [128..191] -+--> RTP/RTCP
///                 +----------------+
/// </code>
/// RTP and RTCP share the range; with rtcp-mux, RTCP packet types 192..223 (200 SR .. 207 XR) are
/// recognised by the second byte, whose low seven bits then fall in 64..95 (RFC 5761 §4).
/// </summary>
public sealed class PacketDemultiplexer
{
    // Smallest well-formed datagram of each kind: STUN header (RFC 8489 §5), DTLS record header
    // (RFC 6347 §4.1), RTP fixed header (RFC 3550 §5.1), RTCP header plus SSRC (RFC 3550 §6.4).
    private const int MinStun = 20;
    private const int MinDtls = 13;
    private const int MinRtp = 12;
    private const int MinRtcp = 8;

    private long _stun;
    private long _dtls;
    private long _rtp;
    private long _rtcp;
    private long _dropped;

    public long StunPackets => Interlocked.Read(ref _stun);

    public long DtlsPackets => Interlocked.Read(ref _dtls);

    public long RtpPackets => Interlocked.Read(ref _rtp);

    public long RtcpPackets => Interlocked.Read(ref _rtcp);

    /// <summary>Datagrams classified <see cref="PacketKind.Unknown"/>.</summary>
    public long DroppedPackets => Interlocked.Read(ref _dropped);

    /// <summary>Classifies and counts one datagram.</summary>
    public PacketKind Classify(ReadOnlySpan<byte> datagram)
    {
        var kind = Inspect(datagram);
        switch (kind)
        {
            case PacketKind.Stun:
                Interlocked.Increment(ref _stun);
                break;
            case PacketKind.Dtls:
                Interlocked.Increment(ref _dtls);
                break;
            case PacketKind.Rtp:
                Interlocked.Increment(ref _rtp);
                break;
            case PacketKind.Rtcp:
                Interlocked.Increment(ref _rtcp);
                break;
            default:
                Interlocked.Increment(ref _dropped);
                break;
        }

        return kind;
    }

    /// <summary>Classifies one datagram without counting. Never throws.</summary>
    public static PacketKind Inspect(ReadOnlySpan<byte> datagram)
    {
        if (datagram.IsEmpty)
        {
            return PacketKind.Unknown;
        }

        var first = datagram[0];
        if (first <= 3)
        {
            return datagram.Length >= MinStun ? PacketKind.Stun : PacketKind.Unknown;
        }

        if (first is >= 20 and <= 63)
        {
            return datagram.Length >= MinDtls ? PacketKind.Dtls : PacketKind.Unknown;
        }

        if (first is >= 128 and <= 191)
        {
            if (datagram.Length < MinRtcp)
            {
                return PacketKind.Unknown;
            }

            var packetType = datagram[1];
            if (packetType is >= 192 and <= 223)
            {
                return PacketKind.Rtcp;
            }

            return datagram.Length >= MinRtp ? PacketKind.Rtp : PacketKind.Unknown;
        }

        return PacketKind.Unknown;
    }
}
