using System.Buffers.Binary;

namespace Parley.WebRtc.Rtp;

/// <summary>
/// A parsed RTP packet: a view over the datagram (no copy). See <see cref="TryParse"/>.
/// </summary>
public readonly ref struct RtpPacket
{
    /// <summary>RFC 3550 §5.1: the fixed header before CSRCs.</summary>
    public const int FixedHeaderLength = 12;

    /// <summary>RFC 8285 §4.2: "defined by profile" value of the one-byte extension form.</summary>
    public const ushort OneByteExtensionProfile = 0xBEDE;

    /// <summary>RFC 8285 §4.3: the two-byte form is 0x100 followed by four application bits.</summary>
    public const ushort TwoByteExtensionProfile = 0x1000;

    private RtpPacket(ReadOnlySpan<byte> buffer, int headerLength, int extensionOffset, int extensionLength, int paddingLength)
    {
        Buffer = buffer;
        HeaderLength = headerLength;
        ExtensionOffset = extensionOffset;
        ExtensionLength = extensionLength;
        PaddingLength = paddingLength;
    }

    public ReadOnlySpan<byte> Buffer { get; }

    /// <summary>Fixed header, CSRCs and extension block: where the payload starts.</summary>
    public int HeaderLength { get; }

    /// <summary>Offset of the extension elements (after the 4-byte extension header), or 0.</summary>
    internal int ExtensionOffset { get; }

    internal int ExtensionLength { get; }

    public int PaddingLength { get; }

    public bool Padding => (Buffer[0] & 0x20) != 0;

    public bool HasExtension => (Buffer[0] & 0x10) != 0;

    public int CsrcCount => Buffer[0] & 0x0F;

    public bool Marker => (Buffer[1] & 0x80) != 0;

    public byte PayloadType => (byte)(Buffer[1] & 0x7F);

    public ushort SequenceNumber => BinaryPrimitives.ReadUInt16BigEndian(Buffer[2..]);

    public uint Timestamp => BinaryPrimitives.ReadUInt32BigEndian(Buffer[4..]);

    public uint Ssrc => BinaryPrimitives.ReadUInt32BigEndian(Buffer[8..]);

    public uint GetCsrc(int index) => (uint)index < (uint)CsrcCount
        ? BinaryPrimitives.ReadUInt32BigEndian(Buffer[(FixedHeaderLength + (4 * index))..])
        : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>The "defined by profile" field of the extension header, or 0 without extension.</summary>
    public ushort ExtensionProfile => HasExtension
        ? BinaryPrimitives.ReadUInt16BigEndian(Buffer[(ExtensionOffset - 4)..])
        : (ushort)0;

    /// <summary>The extension elements (without the 4-byte extension header).</summary>
    public ReadOnlySpan<byte> ExtensionData => HasExtension ? Buffer.Slice(ExtensionOffset, ExtensionLength) : default;

    public ReadOnlySpan<byte> Payload => Buffer[HeaderLength..(Buffer.Length - PaddingLength)];

    /// <summary>RFC 8285 header extension elements, one-byte or two-byte form.</summary>
    public RtpHeaderExtensionEnumerator Extensions => new(ExtensionProfile, ExtensionData);

    /// <summary>The value of extension <paramref name="id"/> (RFC 8285), if present and well formed.</summary>
    public bool TryGetExtension(int id, out ReadOnlySpan<byte> value)
    {
        foreach (var element in Extensions)
        {
            if (element.Id == id)
            {
                value = element.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>
    /// Parses an RTP packet (RFC 3550 §5.1, §5.3.1 extension header). Checks version, CSRC count,
    /// extension length and padding against the datagram length. Never throws.
    /// <code>
    ///  0                   1                   2                   3
    ///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |V=2|P|X|  CC   |M|     PT      |       sequence number         |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |                           timestamp                           |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |           synchronization source (SSRC) identifier            |
    /// +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
    /// |            contributing source (CSRC) identifiers (CC × 32)   |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |      defined by profile       |     length (32-bit words)     |  if X
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |                        header extension                       |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |  payload ...                  | padding ... | padding count   |  if P
    /// </code>
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> packet, out RtpPacket rtp)
    {
        rtp = default;
        if (!TryReadHeaderLength(packet, out var headerLength, out var extensionOffset, out var extensionLength))
        {
            return false;
        }

        var padding = 0;
        if ((packet[0] & 0x20) != 0)
        {
            // RFC 3550 §5.1: the last octet counts the padding, itself included.
            padding = packet[^1];
            if (padding == 0 || padding > packet.Length - headerLength)
            {
                return false;
            }
        }

        rtp = new RtpPacket(packet, headerLength, extensionOffset, extensionLength, padding);
        return true;
    }

    /// <summary>
    /// The length of the header (fixed part, CSRCs, extension) without looking at the payload or
    /// padding: what SRTP needs, since padding is encrypted (RFC 3711 §3.1).
    /// </summary>
    public static bool TryReadHeaderLength(ReadOnlySpan<byte> packet, out int headerLength) =>
        TryReadHeaderLength(packet, out headerLength, out _, out _);

    private static bool TryReadHeaderLength(ReadOnlySpan<byte> packet, out int headerLength, out int extensionOffset, out int extensionLength)
    {
        headerLength = 0;
        extensionOffset = 0;
        extensionLength = 0;
        if (packet.Length < FixedHeaderLength || (packet[0] >> 6) != 2)
        {
            return false;
        }

        var length = FixedHeaderLength + (4 * (packet[0] & 0x0F));
        if ((packet[0] & 0x10) != 0)
        {
            if (packet.Length < length + 4)
            {
                return false;
            }

            var words = BinaryPrimitives.ReadUInt16BigEndian(packet[(length + 2)..]);
            extensionOffset = length + 4;
            extensionLength = 4 * words;
            length = extensionOffset + extensionLength;
        }

        if (packet.Length < length)
        {
            return false;
        }

        headerLength = length;
        return true;
    }

    /// <summary>In-place header rewrites for forwarding (an SFU rewrites these per consumer).</summary>
    public static void SetSequenceNumber(Span<byte> packet, ushort value) => BinaryPrimitives.WriteUInt16BigEndian(packet[2..], value);

    public static void SetTimestamp(Span<byte> packet, uint value) => BinaryPrimitives.WriteUInt32BigEndian(packet[4..], value);

    public static void SetSsrc(Span<byte> packet, uint value) => BinaryPrimitives.WriteUInt32BigEndian(packet[8..], value);

    public static void SetPayloadType(Span<byte> packet, byte payloadType) => packet[1] = (byte)((packet[1] & 0x80) | (payloadType & 0x7F));

    public static void SetMarker(Span<byte> packet, bool marker) => packet[1] = (byte)(marker ? packet[1] | 0x80 : packet[1] & 0x7F);
}
