using System.Buffers;
using Parley.WebRtc.Rtp;

namespace Parley.Bots.Recording;

/// <summary>
/// One encoded frame put back together from RTP packets: a VP8 frame, an H.264 access unit, or an Opus packet.
/// A view over the depacketizer's pooled buffer, valid only during <see cref="IFrameSink.OnFrame"/>.
/// </summary>
public readonly ref struct EncodedFrame
{
    public EncodedFrame(ReadOnlySpan<byte> data, uint rtpTimestamp, bool keyframe, int width = 0, int height = 0)
    {
        Data = data;
        RtpTimestamp = rtpTimestamp;
        Keyframe = keyframe;
        Width = width;
        Height = height;
    }

    /// <summary>The frame bytes: VP8 as sent, H.264 in the depacketizer's output format, Opus as sent.</summary>
    public ReadOnlySpan<byte> Data { get; }

    public uint RtpTimestamp { get; }

    /// <summary>VP8 key frame, H.264 IDR access unit; always true for audio.</summary>
    public bool Keyframe { get; }

    /// <summary>Picture size from a key frame's header (VP8 RFC 6386 §9.1, H.264 SPS), or 0 when not carried.</summary>
    public int Width { get; }

    public int Height { get; }
}

/// <summary>Receives frames from a depacketizer, in order, on the calling thread.</summary>
public interface IFrameSink
{
    void OnFrame(EncodedFrame frame);
}

/// <summary>Turns in-order RTP packets of one stream into frames (<see cref="IFrameSink"/>).</summary>
public interface IDepacketizer : IDisposable
{
    /// <summary>The next packet in sequence order (from a <see cref="JitterBuffer"/>).</summary>
    void Push(RtpPacket packet);

    /// <summary>Packets were lost before the next one: the frame being assembled is dropped.</summary>
    void OnLoss();

    /// <summary>A new stream starts (new SSRC, renumbering): a frame being assembled is dropped, nothing was lost after it.</summary>
    void Reset();

    /// <summary>Frames seen whole and handed on.</summary>
    long FramesEmitted { get; }

    /// <summary>Frames dropped because a packet of theirs was lost or malformed.</summary>
    long FramesDropped { get; }
}

/// <summary>
/// A growable byte buffer rented from <see cref="ArrayPool{T}.Shared"/>: it grows to the largest frame seen and
/// then stays, so assembling frames allocates nothing after warm-up.
/// </summary>
internal sealed class FrameBuffer : IDisposable
{
    private byte[] _buffer;

    public FrameBuffer(int initialSize) => _buffer = ArrayPool<byte>.Shared.Rent(initialSize);

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

    public void Clear() => Length = 0;

    public void Append(ReadOnlySpan<byte> data)
    {
        data.CopyTo(GetSpan(data.Length));
        Length += data.Length;
    }

    public void Append(byte value)
    {
        GetSpan(1)[0] = value;
        Length++;
    }

    /// <summary>Space for <paramref name="size"/> more bytes at the end; <see cref="Advance"/> commits them.</summary>
    public Span<byte> GetSpan(int size)
    {
        if (Length + size > _buffer.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(Length + size, _buffer.Length * 2));
            _buffer.AsSpan(0, Length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }

        return _buffer.AsSpan(Length, size);
    }

    public void Advance(int count) => Length += count;

    /// <summary>Writable view of bytes already appended (to patch a length prefix).</summary>
    public Span<byte> Written(int offset, int length) => _buffer.AsSpan(offset, length);

    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
            Length = 0;
        }
    }
}
