using System.Buffers.Binary;

namespace Parley.WebRtc.Rtp;

/// <summary>
/// RTX retransmission payload format (RFC 4588 §4): the original packet's header fields move to the
/// RTX stream's SSRC, sequence number and payload type, and the original sequence number (OSN)
/// leads the payload.
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         RTP Header                            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |            OSN                |                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
/// |                  Original RTP Packet Payload                  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// </summary>
public static class Rtx
{
    /// <summary>
    /// Builds the RTX packet for <paramref name="original"/> into <paramref name="destination"/>. The
    /// header (CSRCs, extensions, marker, timestamp) is kept; padding of the original is dropped.
    /// Returns false if the original does not parse or the destination is too small.
    /// </summary>
    public static bool TryEncapsulate(ReadOnlySpan<byte> original, Span<byte> destination, byte rtxPayloadType, uint rtxSsrc, ushort rtxSequenceNumber, out int length)
    {
        length = 0;
        if (!RtpPacket.TryParse(original, out var packet))
        {
            return false;
        }

        var payload = packet.Payload;
        var total = packet.HeaderLength + 2 + payload.Length;
        if (destination.Length < total)
        {
            return false;
        }

        // Copy the payload first: it moves right by two bytes, which matters when both spans overlap.
        payload.CopyTo(destination[(packet.HeaderLength + 2)..]);
        var osn = packet.SequenceNumber;
        original[..packet.HeaderLength].CopyTo(destination);
        destination[0] &= 0xDF; // no padding
        BinaryPrimitives.WriteUInt16BigEndian(destination[packet.HeaderLength..], osn);
        RtpPacket.SetPayloadType(destination, rtxPayloadType);
        RtpPacket.SetSequenceNumber(destination, rtxSequenceNumber);
        RtpPacket.SetSsrc(destination, rtxSsrc);
        length = total;
        return true;
    }

    /// <summary>
    /// Restores the original packet from an RTX packet. Returns false for padding-only RTX packets
    /// (bandwidth probes carry no OSN), malformed packets, or a destination that is too small.
    /// </summary>
    public static bool TryDecapsulate(ReadOnlySpan<byte> rtx, Span<byte> destination, byte originalPayloadType, uint originalSsrc, out int length)
    {
        length = 0;
        if (!RtpPacket.TryParse(rtx, out var packet) || packet.Payload.Length < 2)
        {
            return false;
        }

        var payload = packet.Payload;
        var osn = BinaryPrimitives.ReadUInt16BigEndian(payload);
        var total = packet.HeaderLength + payload.Length - 2;
        if (destination.Length < total)
        {
            return false;
        }

        rtx[..packet.HeaderLength].CopyTo(destination);
        payload[2..].CopyTo(destination[packet.HeaderLength..]);
        destination[0] &= 0xDF;
        RtpPacket.SetPayloadType(destination, originalPayloadType);
        RtpPacket.SetSequenceNumber(destination, osn);
        RtpPacket.SetSsrc(destination, originalSsrc);
        length = total;
        return true;
    }
}
