namespace Parley.WebRtc.Rtp;

/// <summary>
/// Splits one encoded VP8 frame into RTP payloads (RFC 7741 §4): each payload is a one-byte payload descriptor
/// followed by the next slice of the frame; the first carries S=1 and partition index 0, the others S=0. The
/// frame is not split at partition boundaries (§4.4 allows any split). The caller sets the RTP marker bit on
/// the last packet (§4.1) and gives every packet of the frame the same timestamp.
/// <code>
///       0 1 2 3 4 5 6 7
///      +-+-+-+-+-+-+-+-+
///      |X|R|N|S|R| PID |   X=0: no extension bytes, N=0: a reference frame, S: start of partition 0
///      +-+-+-+-+-+-+-+-+
/// </code>
/// </summary>
public static class Vp8Packetizer
{
    /// <summary>The descriptor this packetizer writes: one byte.</summary>
    public const int DescriptorLength = 1;

    /// <summary>How many packets a frame of <paramref name="frameLength"/> bytes takes with payloads of at most <paramref name="maxPayload"/> bytes.</summary>
    public static int PacketCount(int frameLength, int maxPayload)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(maxPayload, DescriptorLength);
        var slice = maxPayload - DescriptorLength;
        return Math.Max(1, (frameLength + slice - 1) / slice);
    }

    /// <summary>
    /// Appends the payload of packet <paramref name="index"/> (0-based, below <see cref="PacketCount"/>) of
    /// <paramref name="frame"/> to <paramref name="builder"/>: the descriptor, then the slice. Allocates nothing.
    /// </summary>
    public static void AddPayload(ref RtpPacketBuilder builder, ReadOnlySpan<byte> frame, int index, int maxPayload)
    {
        var slice = maxPayload - DescriptorLength;
        var offset = index * slice;
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, Math.Max(0, frame.Length - 1));
        ReadOnlySpan<byte> descriptor = [index == 0 ? (byte)0x10 : (byte)0x00];
        builder.AddPayload(descriptor);
        builder.AddPayload(frame.Slice(offset, Math.Min(slice, frame.Length - offset)));
    }
}
