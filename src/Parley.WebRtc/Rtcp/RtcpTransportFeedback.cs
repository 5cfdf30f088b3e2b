using System.Buffers.Binary;

namespace Parley.WebRtc.Rtcp;

/// <summary>
/// One packet's fate in a transport-wide feedback message: received or not, and if received the
/// receive delta to the previous received packet (or the reference time) in 250 µs ticks.
/// </summary>
public readonly record struct TransportFeedbackPacket(ushort SequenceNumber, bool Received, int DeltaTicks)
{
    public const int MicrosecondsPerTick = 250;
}

/// <summary>
/// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1):
/// RTPFB FMT 15. Packet status chunks describe base..base+count-1, then one receive delta per
/// received packet (1 byte unsigned for "small", 2 bytes signed for "large"), then zero padding.
/// <code>
/// |V=2|P|  FMT=15 |    PT=205     |           length              |
/// |                     SSRC of packet sender                     |
/// |                      SSRC of media source                     |
/// |      base sequence number     |      packet status count      |
/// |                 reference time                | fb pkt. count |
/// |          packet chunk         |         packet chunk          |
/// .                                                               .
/// |         packet chunk          |  recv delta   |  recv delta   |
/// .                                                               .
/// |           recv delta          |  recv delta   | zero padding  |
///
/// run length chunk:  |0| S |       run length (13)        |
/// status vector:     |1|0|  14 one-bit symbols            |   (0 not received, 1 small delta)
///                    |1|1|  7 two-bit symbols             |   (0 none, 1 small, 2 large, 3 reserved)
/// </code>
/// </summary>
public readonly ref struct RtcpTransportFeedback
{
    private const int FixedFciLength = 8;
    private readonly ReadOnlySpan<byte> _fci;

    private RtcpTransportFeedback(uint sender, uint media, ReadOnlySpan<byte> fci)
    {
        SenderSsrc = sender;
        MediaSsrc = media;
        _fci = fci;
    }

    public uint SenderSsrc { get; }

    public uint MediaSsrc { get; }

    public ushort BaseSequenceNumber => BinaryPrimitives.ReadUInt16BigEndian(_fci);

    public int PacketStatusCount => BinaryPrimitives.ReadUInt16BigEndian(_fci[2..]);

    /// <summary>Signed 24-bit reference time in multiples of 64 ms.</summary>
    public int ReferenceTime
    {
        get
        {
            var value = (_fci[4] << 16) | (_fci[5] << 8) | _fci[6];
            return (value & 0x800000) != 0 ? value - 0x1000000 : value;
        }
    }

    public byte FeedbackPacketCount => _fci[7];

    /// <summary>Validates chunks and deltas against the packet length before exposing the view.</summary>
    public static bool TryParse(RtcpPacket packet, out RtcpTransportFeedback feedback)
    {
        feedback = default;
        if (!FeedbackLayout.TryRead(packet, RtcpPacketType.TransportFeedback, RtcpFeedbackFormat.TransportWideCc, out var sender, out var media, out var fci)
            || fci.Length < FixedFciLength)
        {
            return false;
        }

        var candidate = new RtcpTransportFeedback(sender, media, fci);
        if (candidate.Decode(default) < 0)
        {
            return false;
        }

        feedback = candidate;
        return true;
    }

    /// <summary>
    /// Writes the status of each packet (base sequence number onwards) into <paramref name="destination"/>;
    /// returns how many were written: the status count, or the destination length if smaller.
    /// </summary>
    public int GetPackets(Span<TransportFeedbackPacket> destination) => Math.Max(0, Decode(destination));

    /// <summary>Walks the chunks and deltas; returns the status count, or -1 if the FCI is malformed.</summary>
    private int Decode(Span<TransportFeedbackPacket> destination)
    {
        var count = PacketStatusCount;
        var baseSeq = BinaryPrimitives.ReadUInt16BigEndian(_fci);

        // Symbols are decoded twice: once to find where the deltas start, once to pair them with deltas.
        var offset = FixedFciLength;
        var seen = 0;
        var deltaBytes = 0;
        while (seen < count)
        {
            if (_fci.Length - offset < 2)
            {
                return -1;
            }

            var chunk = BinaryPrimitives.ReadUInt16BigEndian(_fci[offset..]);
            offset += 2;
            var n = SymbolsIn(chunk);
            for (var k = 0; k < n && seen < count; k++, seen++)
            {
                var symbol = SymbolAt(chunk, k);
                if (symbol == 3)
                {
                    return -1;
                }

                deltaBytes += symbol;
            }
        }

        if (_fci.Length - offset < deltaBytes)
        {
            return -1;
        }

        if (destination.IsEmpty)
        {
            return count;
        }

        var chunkOffset = FixedFciLength;
        var deltaOffset = offset;
        var index = 0;
        while (index < count)
        {
            var chunk = BinaryPrimitives.ReadUInt16BigEndian(_fci[chunkOffset..]);
            chunkOffset += 2;
            var n = SymbolsIn(chunk);
            for (var k = 0; k < n && index < count; k++, index++)
            {
                var symbol = SymbolAt(chunk, k);
                var delta = 0;
                if (symbol == 1)
                {
                    delta = _fci[deltaOffset++];
                }
                else if (symbol == 2)
                {
                    delta = BinaryPrimitives.ReadInt16BigEndian(_fci[deltaOffset..]);
                    deltaOffset += 2;
                }

                if (index < destination.Length)
                {
                    destination[index] = new TransportFeedbackPacket((ushort)(baseSeq + index), symbol != 0, delta);
                }
            }
        }

        return Math.Min(count, destination.Length);
    }

    private static int SymbolsIn(ushort chunk) =>
        (chunk & 0x8000) == 0 ? chunk & 0x1FFF : (chunk & 0x4000) == 0 ? 14 : 7;

    private static int SymbolAt(ushort chunk, int k)
    {
        if ((chunk & 0x8000) == 0)
        {
            return (chunk >> 13) & 0x03;
        }

        return (chunk & 0x4000) == 0
            ? (chunk >> (13 - k)) & 0x01
            : (chunk >> (12 - (2 * k))) & 0x03;
    }

    /// <summary>
    /// Writes a feedback message for consecutive packets starting at <paramref name="packets"/>[0]. Runs of
    /// seven or more equal symbols become run-length chunks, the rest two-bit status vectors.
    /// Deltas outside a signed 16-bit tick range cannot be expressed and throw. Use it as the last
    /// packet of a compound: it may carry padding (RFC 3550 §6.4.1 allows padding only there).
    /// </summary>
    public static int Write(Span<byte> destination, uint sender, uint media, int referenceTime, byte feedbackPacketCount, ReadOnlySpan<TransportFeedbackPacket> packets)
    {
        if (packets.IsEmpty || packets.Length > ushort.MaxValue)
        {
            throw new ArgumentException("Feedback covers 1..65535 packets.", nameof(packets));
        }

        var offset = FeedbackLayout.FixedLength;
        RtcpPacket.EnsureRoom(destination, offset + FixedFciLength);
        BinaryPrimitives.WriteUInt16BigEndian(destination[offset..], packets[0].SequenceNumber);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(offset + 2)..], (ushort)packets.Length);
        destination[offset + 4] = (byte)(referenceTime >> 16);
        destination[offset + 5] = (byte)(referenceTime >> 8);
        destination[offset + 6] = (byte)referenceTime;
        destination[offset + 7] = feedbackPacketCount;
        offset += FixedFciLength;

        var i = 0;
        while (i < packets.Length)
        {
            var symbol = Symbol(packets[i]);
            var run = 1;
            while (i + run < packets.Length && run < 0x1FFF && Symbol(packets[i + run]) == symbol)
            {
                run++;
            }

            ushort chunk;
            if (run >= 7)
            {
                chunk = (ushort)((symbol << 13) | run);
                i += run;
            }
            else
            {
                chunk = 0xC000;
                for (var k = 0; k < 7 && i < packets.Length; k++, i++)
                {
                    chunk |= (ushort)(Symbol(packets[i]) << (12 - (2 * k)));
                }
            }

            RtcpPacket.EnsureRoom(destination, offset + 2);
            BinaryPrimitives.WriteUInt16BigEndian(destination[offset..], chunk);
            offset += 2;
        }

        foreach (var p in packets)
        {
            switch (Symbol(p))
            {
                case 1:
                    RtcpPacket.EnsureRoom(destination, offset + 1);
                    destination[offset++] = (byte)p.DeltaTicks;
                    break;
                case 2:
                    RtcpPacket.EnsureRoom(destination, offset + 2);
                    BinaryPrimitives.WriteInt16BigEndian(destination[offset..], (short)p.DeltaTicks);
                    offset += 2;
                    break;
            }
        }

        // Pad to 32 bits the RFC 3550 way (P bit, count in the last byte), as libwebrtc does.
        var length = (offset + 3) & ~3;
        RtcpPacket.EnsureRoom(destination, length);
        destination[offset..length].Clear();
        FeedbackLayout.WriteHeader(destination, RtcpPacketType.TransportFeedback, RtcpFeedbackFormat.TransportWideCc, length, sender, media);
        if (length > offset)
        {
            destination[0] |= 0x20;
            destination[length - 1] = (byte)(length - offset);
        }

        return length;
    }

    private static int Symbol(TransportFeedbackPacket p)
    {
        if (!p.Received)
        {
            return 0;
        }

        if (p.DeltaTicks is >= 0 and <= 255)
        {
            return 1;
        }

        return p.DeltaTicks is >= short.MinValue and <= short.MaxValue
            ? 2
            : throw new ArgumentOutOfRangeException(nameof(p), "A receive delta must fit in 16 signed bits of 250 µs.");
    }
}
