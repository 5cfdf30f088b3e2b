using System.Buffers.Binary;

namespace Parley.WebRtc.Rtcp;

/// <summary>An SDES item for writing: which source, which item type (1 = CNAME), the value.</summary>
public readonly record struct RtcpSdesItem(uint Ssrc, byte Type, ReadOnlyMemory<byte> Value)
{
    public const byte Cname = 1;
}

/// <summary>One SDES item as read: a view on the packet.</summary>
public readonly ref struct RtcpSdesEntry
{
    public RtcpSdesEntry(uint ssrc, byte type, ReadOnlySpan<byte> value)
    {
        Ssrc = ssrc;
        Type = type;
        Value = value;
    }

    public uint Ssrc { get; }

    public byte Type { get; }

    public ReadOnlySpan<byte> Value { get; }
}

/// <summary>
/// Source description (RFC 3550 §6.5): SC chunks, each an SSRC and a list of items ended by a zero
/// octet and padded to 32 bits.
/// <code>
/// |V=2|P|    SC   |  PT=SDES=202  |             length            |
/// +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// |                          SSRC/CSRC_1                          |  chunk 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     type      |     length    |  text (length bytes) ...      |  items
/// |   0 (end)     |  padding to a 32-bit boundary                 |
/// +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
/// </code>
/// </summary>
public readonly ref struct RtcpSourceDescription
{
    private readonly ReadOnlySpan<byte> _body;

    private RtcpSourceDescription(ReadOnlySpan<byte> body, int chunkCount)
    {
        _body = body;
        ChunkCount = chunkCount;
    }

    public int ChunkCount { get; }

    /// <summary>All items of all chunks, in order.</summary>
    public RtcpSdesEnumerator Items => new(_body, ChunkCount);

    /// <summary>Validates every chunk before returning a view, so that enumeration cannot fail later.</summary>
    public static bool TryParse(RtcpPacket packet, out RtcpSourceDescription description)
    {
        description = default;
        if (packet.PacketType != RtcpPacketType.SourceDescription)
        {
            return false;
        }

        var enumerator = new RtcpSdesEnumerator(packet.Body, packet.Count);
        while (enumerator.MoveNext())
        {
        }

        if (enumerator.IsMalformed)
        {
            return false;
        }

        description = new RtcpSourceDescription(packet.Body, packet.Count);
        return true;
    }

    /// <summary>Writes one SDES packet; consecutive items with the same SSRC share a chunk.</summary>
    public static int Write(Span<byte> destination, ReadOnlySpan<RtcpSdesItem> items)
    {
        var offset = RtcpPacket.HeaderLength;
        var chunks = 0;
        var i = 0;
        while (i < items.Length)
        {
            var ssrc = items[i].Ssrc;
            RtcpPacket.EnsureRoom(destination, offset + 4);
            BinaryPrimitives.WriteUInt32BigEndian(destination[offset..], ssrc);
            offset += 4;
            for (; i < items.Length && items[i].Ssrc == ssrc; i++)
            {
                var value = items[i].Value.Span;
                if (items[i].Type == 0 || value.Length > 255)
                {
                    throw new ArgumentException("SDES item types are 1..255 and values up to 255 bytes.", nameof(items));
                }

                RtcpPacket.EnsureRoom(destination, offset + 2 + value.Length);
                destination[offset] = items[i].Type;
                destination[offset + 1] = (byte)value.Length;
                value.CopyTo(destination[(offset + 2)..]);
                offset += 2 + value.Length;
            }

            // At least one zero octet ends the item list, then pad to 32 bits.
            var end = (offset + 4) & ~3;
            RtcpPacket.EnsureRoom(destination, end);
            destination[offset..end].Clear();
            offset = end;
            chunks++;
        }

        if (chunks > 31)
        {
            throw new ArgumentException("At most 31 chunks.", nameof(items));
        }

        RtcpPacket.WriteHeader(destination, chunks, RtcpPacketType.SourceDescription, offset);
        return offset;
    }
}

/// <summary>Enumerates SDES items; stops and sets <see cref="IsMalformed"/> on a framing error.</summary>
public ref struct RtcpSdesEnumerator
{
    private readonly ReadOnlySpan<byte> _body;
    private int _chunksLeft;
    private int _offset;
    private uint _ssrc;
    private bool _inChunk;

    public RtcpSdesEnumerator(ReadOnlySpan<byte> body, int chunkCount)
    {
        _body = body;
        _chunksLeft = chunkCount;
        _offset = 0;
        _ssrc = 0;
        _inChunk = false;
        Current = default;
        IsMalformed = false;
    }

    public RtcpSdesEntry Current { get; private set; }

    public bool IsMalformed { get; private set; }

    public readonly RtcpSdesEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        while (!IsMalformed)
        {
            if (!_inChunk)
            {
                if (_chunksLeft == 0)
                {
                    return false;
                }

                if (_body.Length - _offset < 4)
                {
                    IsMalformed = true;
                    return false;
                }

                _ssrc = BinaryPrimitives.ReadUInt32BigEndian(_body[_offset..]);
                _offset += 4;
                _inChunk = true;
                _chunksLeft--;
            }

            if (_offset >= _body.Length)
            {
                IsMalformed = true;
                return false;
            }

            var type = _body[_offset];
            if (type == 0)
            {
                // End of this chunk's items: skip to the next 32-bit boundary.
                _offset = (_offset + 4) & ~3;
                _inChunk = false;
                if (_offset > _body.Length)
                {
                    IsMalformed = true;
                }

                continue;
            }

            if (_body.Length - _offset < 2 || _body.Length - _offset - 2 < _body[_offset + 1])
            {
                IsMalformed = true;
                return false;
            }

            var length = _body[_offset + 1];
            Current = new RtcpSdesEntry(_ssrc, type, _body.Slice(_offset + 2, length));
            _offset += 2 + length;
            return true;
        }

        return false;
    }
}

/// <summary>
/// Goodbye (RFC 3550 §6.6).
/// <code>
/// |V=2|P|    SC   |   PT=BYE=203  |             length            |
/// |                           SSRC/CSRC  (SC times)               |
/// |     length    |               reason for leaving (optional) ...
/// </code>
/// </summary>
public readonly ref struct RtcpBye
{
    private readonly ReadOnlySpan<byte> _body;

    private RtcpBye(ReadOnlySpan<byte> body, int count, ReadOnlySpan<byte> reason)
    {
        _body = body;
        SourceCount = count;
        Reason = reason;
    }

    public int SourceCount { get; }

    public ReadOnlySpan<byte> Reason { get; }

    public uint GetSsrc(int index) => (uint)index < (uint)SourceCount
        ? BinaryPrimitives.ReadUInt32BigEndian(_body[(4 * index)..])
        : throw new ArgumentOutOfRangeException(nameof(index));

    public static bool TryParse(RtcpPacket packet, out RtcpBye bye)
    {
        bye = default;
        var body = packet.Body;
        var ssrcBytes = 4 * packet.Count;
        if (packet.PacketType != RtcpPacketType.Goodbye || body.Length < ssrcBytes)
        {
            return false;
        }

        ReadOnlySpan<byte> reason = default;
        if (body.Length > ssrcBytes)
        {
            var length = body[ssrcBytes];
            if (body.Length - ssrcBytes - 1 < length)
            {
                return false;
            }

            reason = body.Slice(ssrcBytes + 1, length);
        }

        bye = new RtcpBye(body, packet.Count, reason);
        return true;
    }

    public static int Write(Span<byte> destination, ReadOnlySpan<uint> ssrcs, ReadOnlySpan<byte> reason = default)
    {
        if (ssrcs.Length > 31 || reason.Length > 255)
        {
            throw new ArgumentException("At most 31 sources and a 255-byte reason.", nameof(ssrcs));
        }

        var length = RtcpPacket.HeaderLength + (4 * ssrcs.Length);
        if (!reason.IsEmpty)
        {
            length = (length + 1 + reason.Length + 3) & ~3;
        }

        RtcpPacket.EnsureRoom(destination, length);
        destination[..length].Clear();
        RtcpPacket.WriteHeader(destination, ssrcs.Length, RtcpPacketType.Goodbye, length);
        for (var i = 0; i < ssrcs.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination[(4 + (4 * i))..], ssrcs[i]);
        }

        if (!reason.IsEmpty)
        {
            var at = 4 + (4 * ssrcs.Length);
            destination[at] = (byte)reason.Length;
            reason.CopyTo(destination[(at + 1)..]);
        }

        return length;
    }
}
