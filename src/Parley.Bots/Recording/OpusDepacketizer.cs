using Parley.WebRtc.Rtp;

namespace Parley.Bots.Recording;

/// <summary>
/// Opus over RTP (RFC 7587 §4.2): each RTP payload is exactly one Opus packet, so the frame is the payload as
/// it came. Payloads whose TOC byte does not parse (RFC 6716 §3.1) are dropped. Nothing is buffered: losses
/// simply leave a gap in the timestamps, which playback fills with silence.
/// </summary>
public sealed class OpusDepacketizer(IFrameSink sink) : IDepacketizer
{
    public long FramesEmitted { get; private set; }

    public long FramesDropped { get; private set; }

    public void Push(RtpPacket packet)
    {
        var payload = packet.Payload;
        if (!OpusToc.TryParse(payload, out _))
        {
            FramesDropped++;
            return;
        }

        FramesEmitted++;
        sink.OnFrame(new EncodedFrame(payload, packet.Timestamp, keyframe: true));
    }

    public void OnLoss()
    {
    }

    public void Reset()
    {
    }

    public void Dispose()
    {
    }
}
