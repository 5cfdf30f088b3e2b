using Parley.WebRtc.Rtp;

namespace Parley.Bots.Recording;

/// <summary>
/// VP8 RTP depacketization (RFC 7741 §4): strips each packet's payload descriptor and joins the payloads of one
/// frame, which starts at a packet with S=1 and partition index 0 and ends at the packet with the marker bit
/// (§4.1: the marker is set on the last packet of a frame). A frame with a lost packet is dropped whole; packets
/// of a frame whose start was not seen are skipped until the next start. Key frames carry their dimensions
/// (RFC 6386 §9.1, <see cref="Vp8FrameHeader"/>). Allocation-free after the buffer has grown to the largest frame.
/// </summary>
public sealed class Vp8Depacketizer(IFrameSink sink) : IDepacketizer
{
    private readonly FrameBuffer _frame = new(64 * 1024);
    private bool _assembling;
    private uint _timestamp;

    public long FramesEmitted { get; private set; }

    public long FramesDropped { get; private set; }

    /// <summary>Packets whose payload descriptor did not parse.</summary>
    public long MalformedPackets { get; private set; }

    public void Push(RtpPacket packet)
    {
        var payload = packet.Payload;
        if (payload.IsEmpty)
        {
            return; // padding-only packets (bandwidth probes) carry no media
        }

        if (!Vp8PayloadDescriptor.TryParse(payload, out var descriptor) || descriptor.Length > payload.Length)
        {
            MalformedPackets++;
            Abandon();
            return;
        }

        if (_assembling && packet.Timestamp != _timestamp)
        {
            // A new timestamp without the marker: the sender did not mark the end; the frame is whole (no loss was reported).
            Emit();
        }

        if (descriptor.StartOfPartition && descriptor.PartitionIndex == 0)
        {
            if (_assembling)
            {
                Abandon(); // a second start in the same timestamp: what we had is not a frame
            }

            _frame.Clear();
            _assembling = true;
            _timestamp = packet.Timestamp;
        }
        else if (!_assembling)
        {
            return; // the rest of a frame whose start was lost or dropped
        }

        _frame.Append(payload[descriptor.Length..]);
        if (packet.Marker)
        {
            Emit();
        }
    }

    public void OnLoss() => Abandon();

    public void Reset() => Abandon();

    public void Dispose() => _frame.Dispose();

    private void Emit()
    {
        _assembling = false;
        var data = _frame.Span;
        if (!Vp8FrameHeader.TryParse(data, out var header))
        {
            FramesDropped++;
            return;
        }

        FramesEmitted++;
        sink.OnFrame(new EncodedFrame(data, _timestamp, header.Keyframe, header.Width, header.Height));
    }

    private void Abandon()
    {
        if (_assembling)
        {
            _assembling = false;
            FramesDropped++;
        }
    }
}
