using System.Buffers.Binary;

namespace Parley.Bots.Recording;

/// <summary>The uncompressed data chunk at the start of every VP8 frame (RFC 6386 §9.1).</summary>
public readonly record struct Vp8FrameHeader(bool Keyframe, int Version, bool ShowFrame, int FirstPartitionSize, int Width, int Height, int HorizontalScale, int VerticalScale)
{
    /// <summary>
    /// Reads the frame tag and, for a key frame, the start code and dimensions. Never throws; false when the
    /// bytes are too short or a key frame lacks the start code 0x9d 0x01 0x2a.
    /// <code>
    /// frame tag, 3 bytes little endian (RFC 6386 §9.1):
    ///  bit 0      : 0 = key frame, 1 = interframe
    ///  bits 1-3   : version
    ///  bit 4      : show_frame
    ///  bits 5-23  : size of the first data partition
    /// key frames only, 7 more bytes:
    /// +------+------+------+-------------+-------------+
    /// | 0x9d | 0x01 | 0x2a | width (LE)  | height (LE) |   width/height: 14 bits size, 2 bits scale
    /// +------+------+------+-------------+-------------+
    /// </code>
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> frame, out Vp8FrameHeader header)
    {
        header = default;
        if (frame.Length < 3)
        {
            return false;
        }

        var tag = frame[0] | (frame[1] << 8) | (frame[2] << 16);
        var keyframe = (tag & 1) == 0;
        var version = (tag >> 1) & 7;
        var show = ((tag >> 4) & 1) != 0;
        var firstPartition = (tag >> 5) & 0x7FFFF;
        if (!keyframe)
        {
            header = new Vp8FrameHeader(false, version, show, firstPartition, 0, 0, 0, 0);
            return true;
        }

        if (frame.Length < 10 || frame[3] != 0x9D || frame[4] != 0x01 || frame[5] != 0x2A)
        {
            return false;
        }

        var width = BinaryPrimitives.ReadUInt16LittleEndian(frame[6..]);
        var height = BinaryPrimitives.ReadUInt16LittleEndian(frame[8..]);
        header = new Vp8FrameHeader(true, version, show, firstPartition, width & 0x3FFF, height & 0x3FFF, width >> 14, height >> 14);
        return true;
    }
}
