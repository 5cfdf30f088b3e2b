using System.Buffers.Binary;

namespace Parley.Bots.Camera;

/// <summary>One frame of an IVF file: where its bytes are in the file and its presentation timestamp (in the header's time base).</summary>
public readonly record struct IvfFrame(int Offset, int Length, long Timestamp);

/// <summary>The 32-byte file header of an IVF file.</summary>
public readonly record struct IvfHeader(uint FourCc, int Width, int Height, uint TimebaseDenominator, uint TimebaseNumerator, int HeaderLength)
{
    /// <summary>"VP80" read as a little-endian 32-bit number.</summary>
    public const uint Vp8FourCc = 0x30385056;

    public bool IsVp8 => FourCc == Vp8FourCc;
}

/// <summary>
/// Reads IVF, the plain container libvpx and ffmpeg (<c>-f ivf</c>) write VP8 into. IVF has no RFC: its layout is
/// the one of libvpx's ivfenc/ivfdec (the file the RFC 6386 §20 reference decoder reads); all numbers are little-endian.
/// <code>
/// file header (32 bytes):
///  0      4      6      8        12     14      16         20        24          28     32
///  +------+------+------+--------+------+-------+----------+---------+-----------+------+
///  |"DKIF"| ver 0| hdrlen| fourcc | width| height| rate (den)| scale   | frame count| unused|
///  +------+------+------+--------+------+-------+----------+---------+-----------+------+
/// then, per frame (12 bytes + data):
///  0            4                     12
///  +------------+---------------------+----------------...
///  | frame size | timestamp (64 bits) | frame data (size bytes)
///  +------------+---------------------+----------------...
/// </code>
/// Parsing the bytes ffmpeg wrote to a temporary file: never throws; a short or foreign file gives false, a frame
/// cut off by the end of the file is left out (the frames before it are kept).
/// </summary>
public static class IvfReader
{
    public const int FileHeaderLength = 32;
    public const int FrameHeaderLength = 12;

    public static bool TryReadHeader(ReadOnlySpan<byte> file, out IvfHeader header)
    {
        header = default;
        if (file.Length < FileHeaderLength || !file[..4].SequenceEqual("DKIF"u8))
        {
            return false;
        }

        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(file[6..]);
        // The header length field lets a writer add fields; anything shorter than the fields above is not IVF.
        if (headerLength < FileHeaderLength || headerLength > file.Length)
        {
            return false;
        }

        header = new IvfHeader(
            BinaryPrimitives.ReadUInt32LittleEndian(file[8..]),
            BinaryPrimitives.ReadUInt16LittleEndian(file[12..]),
            BinaryPrimitives.ReadUInt16LittleEndian(file[14..]),
            BinaryPrimitives.ReadUInt32LittleEndian(file[16..]),
            BinaryPrimitives.ReadUInt32LittleEndian(file[20..]),
            headerLength);
        return true;
    }

    /// <summary>Adds every complete frame of <paramref name="file"/> to <paramref name="frames"/>; false when the header is not IVF.</summary>
    public static bool TryReadFrames(ReadOnlySpan<byte> file, List<IvfFrame> frames, out IvfHeader header)
    {
        ArgumentNullException.ThrowIfNull(frames);
        if (!TryReadHeader(file, out header))
        {
            return false;
        }

        var offset = header.HeaderLength;
        while (file.Length - offset >= FrameHeaderLength)
        {
            var size = BinaryPrimitives.ReadUInt32LittleEndian(file[offset..]);
            var timestamp = BinaryPrimitives.ReadInt64LittleEndian(file[(offset + 4)..]);
            var data = offset + FrameHeaderLength;
            if (size > (uint)(file.Length - data))
            {
                break; // truncated: the size runs past the end of the file
            }

            frames.Add(new IvfFrame(data, (int)size, timestamp));
            offset = data + (int)size;
        }

        return true;
    }

    /// <summary>Whether a VP8 frame is a key frame: the inverted P bit, lowest bit of the frame tag (RFC 6386 §9.1).</summary>
    public static bool IsVp8Keyframe(ReadOnlySpan<byte> frame) => !frame.IsEmpty && (frame[0] & 0x01) == 0;
}
