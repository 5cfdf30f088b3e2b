using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Parley.Bots.Recording;

/// <summary>
/// Element IDs of Matroska and WebM used by <see cref="WebmWriter"/> (RFC 9559 §5, EBML RFC 8794 §11.2). IDs
/// keep their length marker bits, as written in the file.
/// </summary>
internal static class MatroskaId
{
    public const uint Ebml = 0x1A45DFA3;
    public const uint EbmlVersion = 0x4286;
    public const uint EbmlReadVersion = 0x42F7;
    public const uint EbmlMaxIdLength = 0x42F2;
    public const uint EbmlMaxSizeLength = 0x42F3;
    public const uint DocType = 0x4282;
    public const uint DocTypeVersion = 0x4287;
    public const uint DocTypeReadVersion = 0x4285;
    public const uint Void = 0xEC;
    public const uint Segment = 0x18538067;
    public const uint SeekHead = 0x114D9B74;
    public const uint Seek = 0x4DBB;
    public const uint SeekId = 0x53AB;
    public const uint SeekPosition = 0x53AC;
    public const uint Info = 0x1549A966;
    public const uint TimestampScale = 0x2AD7B1;
    public const uint Duration = 0x4489;
    public const uint DateUtc = 0x4461;
    public const uint MuxingApp = 0x4D80;
    public const uint WritingApp = 0x5741;
    public const uint Tracks = 0x1654AE6B;
    public const uint TrackEntry = 0xAE;
    public const uint TrackNumber = 0xD7;
    public const uint TrackUid = 0x73C5;
    public const uint TrackType = 0x83;
    public const uint FlagLacing = 0x9C;
    public const uint Name = 0x536E;
    public const uint CodecId = 0x86;
    public const uint CodecPrivate = 0x63A2;
    public const uint CodecDelay = 0x56AA;
    public const uint SeekPreRoll = 0x56BB;
    public const uint Video = 0xE0;
    public const uint PixelWidth = 0xB0;
    public const uint PixelHeight = 0xBA;
    public const uint Audio = 0xE1;
    public const uint SamplingFrequency = 0xB5;
    public const uint Channels = 0x9F;
    public const uint Cluster = 0x1F43B675;
    public const uint Timestamp = 0xE7;
    public const uint SimpleBlock = 0xA3;
    public const uint Cues = 0x1C53BB6B;
    public const uint CuePoint = 0xBB;
    public const uint CueTime = 0xB3;
    public const uint CueTrackPositions = 0xB7;
    public const uint CueTrack = 0xF7;
    public const uint CueClusterPosition = 0xF1;
}

/// <summary>
/// EBML encoding (RFC 8794): element IDs, variable-size integers for data sizes (§4), and a small builder for
/// the header elements a writer assembles once per file.
/// <code>
/// data size VINT (§4.1): the number of leading zero bits + 1 is the length in octets
///   1xxx xxxx                        values 0 .. 2^7-2
///   01xx xxxx xxxx xxxx              values 0 .. 2^14-2
///   ...
///   0000 0001 then 7 octets          values 0 .. 2^56-2;  all value bits 1 = unknown size (§6.2)
/// </code>
/// </summary>
internal static class Ebml
{
    /// <summary>The 8-octet "unknown size" of a master element whose end is not known yet (RFC 8794 §6.2).</summary>
    public const ulong UnknownSize8 = 0x01FFFFFFFFFFFFFF;

    public static int IdLength(uint id) => id switch
    {
        <= 0xFF => 1,
        <= 0xFFFF => 2,
        <= 0xFFFFFF => 3,
        _ => 4,
    };

    public static int WriteId(Span<byte> destination, uint id)
    {
        var length = IdLength(id);
        for (var i = 0; i < length; i++)
        {
            destination[i] = (byte)(id >> (8 * (length - 1 - i)));
        }

        return length;
    }

    /// <summary>Shortest size VINT for <paramref name="value"/> (the all-ones pattern of each length is reserved).</summary>
    public static int SizeLength(ulong value)
    {
        var length = 1;
        while (length < 8 && value >= (1UL << (7 * length)) - 1)
        {
            length++;
        }

        return length;
    }

    public static int WriteSize(Span<byte> destination, ulong value) => WriteSize(destination, value, SizeLength(value));

    /// <summary>Writes <paramref name="value"/> as a size VINT of exactly <paramref name="length"/> octets.</summary>
    public static int WriteSize(Span<byte> destination, ulong value, int length)
    {
        var marked = value | (1UL << (7 * length));
        for (var i = 0; i < length; i++)
        {
            destination[i] = (byte)(marked >> (8 * (length - 1 - i)));
        }

        return length;
    }

    public static int UIntLength(ulong value)
    {
        var length = 1;
        while (length < 8 && value >> (8 * length) != 0)
        {
            length++;
        }

        return length;
    }

    /// <summary>Builds header elements in memory (at file start or finish only: it allocates).</summary>
    public sealed class Builder
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(256);

        public int Length => _buffer.WrittenCount;

        public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;

        public Builder UInt(uint id, ulong value)
        {
            var length = UIntLength(value);
            Header(id, (ulong)length);
            var span = _buffer.GetSpan(length);
            for (var i = 0; i < length; i++)
            {
                span[i] = (byte)(value >> (8 * (length - 1 - i)));
            }

            _buffer.Advance(length);
            return this;
        }

        /// <summary>An unsigned integer in exactly 8 octets (for positions patched later at a fixed size).</summary>
        public Builder UInt64Fixed(uint id, ulong value)
        {
            Header(id, 8);
            BinaryPrimitives.WriteUInt64BigEndian(_buffer.GetSpan(8), value);
            _buffer.Advance(8);
            return this;
        }

        public Builder Int64(uint id, long value)
        {
            Header(id, 8);
            BinaryPrimitives.WriteInt64BigEndian(_buffer.GetSpan(8), value);
            _buffer.Advance(8);
            return this;
        }

        public Builder Float(uint id, double value)
        {
            Header(id, 8);
            BinaryPrimitives.WriteDoubleBigEndian(_buffer.GetSpan(8), value);
            _buffer.Advance(8);
            return this;
        }

        public Builder String(uint id, string value) => Binary(id, Encoding.UTF8.GetBytes(value));

        public Builder Binary(uint id, ReadOnlySpan<byte> value)
        {
            Header(id, (ulong)value.Length);
            _buffer.Write(value);
            return this;
        }

        public Builder Master(uint id, Action<Builder> children)
        {
            var inner = new Builder();
            children(inner);
            return Binary(id, inner.WrittenSpan);
        }

        /// <summary>A Void element (RFC 8794 §11.3.2) occupying exactly <paramref name="totalLength"/> octets (at least 2).</summary>
        public Builder Void(int totalLength)
        {
            var span = _buffer.GetSpan(totalLength);
            WriteVoid(span[..totalLength]);
            _buffer.Advance(totalLength);
            return this;
        }

        private void Header(uint id, ulong size)
        {
            var span = _buffer.GetSpan(12);
            var n = WriteId(span, id);
            n += WriteSize(span[n..], size);
            _buffer.Advance(n);
        }
    }

    /// <summary>Fills <paramref name="destination"/> with one Void element of its exact length (at least 2 octets).</summary>
    public static void WriteVoid(Span<byte> destination)
    {
        destination[0] = (byte)MatroskaId.Void;
        // One size octet covers up to 126 data octets; longer voids use an 8-octet size.
        var sizeLength = destination.Length - 2 < 127 ? 1 : 8;
        var dataLength = destination.Length - 1 - sizeLength;
        WriteSize(destination[1..], (ulong)dataLength, sizeLength);
        destination[(1 + sizeLength)..].Clear();
    }
}
