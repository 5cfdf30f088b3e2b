using Parley.Sfu.Metrics;
using Parley.Sfu.Rooms;
using Parley.WebRtc.Rtp;

namespace Parley.Sfu.Routing;

/// <summary>
/// One subscriber's copy of a producer (mediasoup's Consumer): a section (mid) of the subscriber's
/// receive connection with its own SSRC. Packets are rewritten per consumer (SSRC, sequence number,
/// timestamp, header extension ids) so that a simulcast layer switch looks like one continuous stream to
/// the browser (RFC 3550 §5.1: a receiver must see one sequence number space per SSRC). Video starts,
/// and switches layer, only on a keyframe of the target layer. Used under the worker lock.
/// </summary>
public sealed class Consumer
{
    internal Consumer(string id, Participant subscriber, Producer producer, string mid, uint ssrc)
    {
        Id = id;
        Subscriber = subscriber;
        Producer = producer;
        Mid = mid;
        Ssrc = ssrc;
        PreferredLayer = producer.Layers.Length - 1;
        TargetLayer = producer.Layers.Length - 1;
    }

    public string Id { get; }

    public Participant Subscriber { get; }

    public Producer Producer { get; }

    public string Mid { get; }

    public uint Ssrc { get; }

    /// <summary>The answer for its section arrived: packets may flow.</summary>
    internal bool Negotiated { get; set; }

    internal bool Closed { get; set; }

    /// <summary>The spatial layer being forwarded; -1 before the first keyframe.</summary>
    public int CurrentLayer { get; private set; } = -1;

    /// <summary>The layer to switch to on its next keyframe.</summary>
    public int TargetLayer { get; internal set; }

    /// <summary>The highest layer the subscriber asked for (set_layer).</summary>
    public int PreferredLayer { get; internal set; }

    internal SequenceRewriter Rewriter { get; } = new();

    /// <summary>Extension ids the subscriber's answer accepted (0 = not negotiated).</summary>
    internal int MidExtensionId { get; set; }

    internal int AbsSendTimeExtensionId { get; set; }

    internal int AudioLevelExtensionId { get; set; }

    /// <summary>The SSRC retransmissions go out on when the subscriber negotiated RTX (RFC 4588 §8.3, ssrc-group FID).</summary>
    public uint RtxSsrc { get; } = (uint)Random.Shared.NextInt64(1, uint.MaxValue);

    /// <summary>Media payload type → RTX payload type, from the subscriber's answer (empty: retransmit on the media SSRC).</summary>
    private readonly Dictionary<int, byte> _rtxPayloadTypes = [];
    private ushort _rtxSequence = (ushort)Random.Shared.Next(ushort.MaxValue);
    private int _pictureIdOffset;
    private int _lastOutPictureId = -1;
    private int _tl0Offset;
    private int _lastOutTl0 = -1;
    private bool _vp8Switch;

    public long PacketsSent { get; private set; }

    public long BytesSent { get; private set; }

    internal long LastSentMicroseconds { get; private set; }

    internal uint LastRtpTimestamp { get; private set; }

    internal long CreatedAtMicroseconds { get; } = Workers.SfuWorker.NowMicroseconds;

    internal bool Reported { get; set; }

    /// <summary>Video that has not started or is waiting for the target layer's keyframe.</summary>
    internal bool WaitingForKeyframe => Producer.IsVideo && (CurrentLayer < 0 || CurrentLayer != TargetLayer);

    /// <summary>
    /// Forwards one packet of layer <paramref name="layer"/>. <paramref name="scratch"/> is the worker's
    /// buffer (room for the SRTP tag). Returns false when the packet was filtered.
    /// </summary>
    /// <param name="silent">
    /// Digital silence (audio level 127): dropped with the numbering kept continuous, except for recording
    /// bots, which get every packet so their tracks need no gap filling.
    /// </param>
    internal bool Forward(int layer, RtpPacket rtp, bool keyframe, bool silent, Span<byte> scratch, long nowMicroseconds, SfuMetrics metrics)
    {
        if (!Negotiated || Closed || Producer.Muted || Subscriber.SubscribeConnection is not { } connection)
        {
            return false;
        }

        if (Producer.IsVideo && layer != CurrentLayer)
        {
            if (layer != TargetLayer || !keyframe)
            {
                return false;
            }

            // Switch on the keyframe: the rewriter continues the output numbering from the old layer, and
            // the VP8 picture ids continue too (each layer counts its own).
            Rewriter.SwitchSource();
            CurrentLayer = layer;
            _vp8Switch = true;
        }

        if (rtp.Payload.IsEmpty || (silent && !Subscriber.IsBot))
        {
            // Padding-only packets are bandwidth probes of the publisher's encoder: not worth forwarding.
            Rewriter.MarkDropped(rtp.SequenceNumber);
            return false;
        }

        if (!Rewriter.TryRewrite(rtp.Ssrc, rtp.SequenceNumber, rtp.Timestamp, nowMicroseconds, ClockRate, out var sequence, out var timestamp))
        {
            return false;
        }

        var length = Build(rtp, sequence, timestamp, scratch, nowMicroseconds);
        if (length == 0)
        {
            return false;
        }

        if (connection.SendRtp(scratch, length) == WebRtc.Srtp.SrtpResult.Ok)
        {
            PacketsSent++;
            BytesSent += length;
            LastSentMicroseconds = nowMicroseconds;
            LastRtpTimestamp = timestamp;
            metrics.Sent(length);
            return true;
        }

        return false;
    }

    /// <summary>Resends a packet the subscriber NACKed, from the producer's retransmission buffer.</summary>
    internal bool Retransmit(ushort outSequence, Span<byte> original, Span<byte> scratch, long nowMicroseconds, SfuMetrics metrics)
    {
        if (!Rewriter.TryMapToSource(outSequence, out var sourceSsrc, out var sourceSequence)
            || Producer.LayerBySsrc(sourceSsrc) is not { } layer
            || !layer.Buffer.TryGet(sourceSequence, nowMicroseconds, original, out var originalLength)
            || !RtpPacket.TryParse(original[..originalLength], out var rtp)
            || !Rewriter.TryRewrite(rtp.Ssrc, rtp.SequenceNumber, rtp.Timestamp, nowMicroseconds, ClockRate, out var sequence, out var timestamp)
            || Subscriber.SubscribeConnection is not { } connection)
        {
            return false;
        }

        var length = Build(rtp, sequence, timestamp, scratch, nowMicroseconds);
        var packet = scratch;
        if (length > 0 && _rtxPayloadTypes.TryGetValue(rtp.PayloadType, out var rtxPayloadType))
        {
            // RTX: a packet the subscriber already has would be an SRTP replay on the media SSRC and
            // dropped; on the RTX SSRC it is new, and the receiver unwraps it into the gap.
            if (!Rtx.TryEncapsulate(scratch[..length], original, rtxPayloadType, RtxSsrc, _rtxSequence++, out length))
            {
                return false;
            }

            packet = original;
        }

        if (length > 0 && connection.SendRtp(packet, length) == WebRtc.Srtp.SrtpResult.Ok)
        {
            metrics.Retransmitted();
            metrics.Sent(length);
            return true;
        }

        return false;
    }

    /// <summary>Moves to the layer the subscriber wants and can afford; the switch happens on its next keyframe.</summary>
    internal bool SelectLayer(long? estimatedBandwidth, long nowMicroseconds)
    {
        if (!Producer.IsVideo || Producer.Layers.Length < 2)
        {
            return false;
        }

        Span<long> bitrates = stackalloc long[Producer.Layers.Length];
        Producer.FillLayerBitrates(bitrates, nowMicroseconds);
        var choice = LayerSelector.Choose(bitrates, PreferredLayer, estimatedBandwidth, CurrentLayer);
        if (choice < 0 || choice == TargetLayer)
        {
            return false;
        }

        TargetLayer = choice;
        return true;
    }

    private int ClockRate => Producer.Layers[0].ClockRate;

    /// <summary>Reads the RTX payload types (rtpmap rtx + fmtp apt) the subscriber's answer kept for this section.</summary>
    internal void SetRtxPayloadTypes(WebRtc.Sdp.SdpMediaDescription answered)
    {
        _rtxPayloadTypes.Clear();
        foreach (var map in answered.RtpMaps)
        {
            if (map.Encoding.Equals("rtx", StringComparison.OrdinalIgnoreCase)
                && answered.GetFormatParameters(map.PayloadType) is { } fmtp
                && fmtp.Split(';').Select(p => p.Trim()).FirstOrDefault(p => p.StartsWith("apt=", StringComparison.Ordinal)) is { } apt
                && int.TryParse(apt.AsSpan(4), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var original))
            {
                _rtxPayloadTypes[original] = (byte)map.PayloadType;
            }
        }
    }

    private int Build(RtpPacket rtp, ushort sequence, uint timestamp, Span<byte> scratch, long nowMicroseconds)
    {
        // 12-byte header + extensions (≤ 16 bytes here) + payload + SRTP tag (≤ 16) must fit the scratch buffer.
        if (rtp.Payload.Length > scratch.Length - 64)
        {
            return 0;
        }

        var builder = new RtpPacketBuilder(scratch, rtp.PayloadType, sequence, timestamp, Ssrc, rtp.Marker);
        if (MidExtensionId != 0 && PacketsSent < 1000)
        {
            // libwebrtc latches SSRC → mid from the first packets; sending MID for the first second or so
            // covers loss of the first few without paying for it forever (mediasoup does the same).
            Span<byte> mid = stackalloc byte[Mid.Length];
            for (var i = 0; i < Mid.Length; i++)
            {
                mid[i] = (byte)Mid[i];
            }

            builder.AddExtension(MidExtensionId, mid);
        }

        if (AbsSendTimeExtensionId != 0)
        {
            Span<byte> absSendTime = stackalloc byte[3];
            RtpExtensionValues.WriteAbsSendTime(absSendTime, RtpExtensionValues.ToAbsSendTime(nowMicroseconds));
            builder.AddExtension(AbsSendTimeExtensionId, absSendTime);
        }

        if (AudioLevelExtensionId != 0 && Producer.Owner.AudioLevelExtensionId != 0
            && rtp.TryGetExtension(Producer.Owner.AudioLevelExtensionId, out var level) && level.Length >= 1)
        {
            builder.AddExtension(AudioLevelExtensionId, level[..1]);
        }

        builder.AddPayload(rtp.Payload);
        var length = builder.Length;
        if (Producer.IsVp8(rtp.PayloadType))
        {
            RewriteVp8Descriptor(scratch[(length - rtp.Payload.Length)..length]);
        }

        return length;
    }

    /// <summary>
    /// Keeps the VP8 PictureID and TL0PICIDX (RFC 7741 §4.2) continuous across simulcast layer switches, as
    /// the sequence numbers are: each layer numbers its pictures on its own, and a receiver that sees the
    /// picture id jump backwards takes the new frames for old ones.
    /// </summary>
    private void RewriteVp8Descriptor(Span<byte> payload)
    {
        if (!Vp8PayloadDescriptor.TryParse(payload, out var descriptor) || !descriptor.HasPictureId)
        {
            return;
        }

        var modulus = descriptor.PictureIdIs15Bit ? 0x8000 : 0x80;
        if (_vp8Switch)
        {
            _vp8Switch = false;
            _pictureIdOffset = _lastOutPictureId < 0 ? 0 : _lastOutPictureId + 1 - descriptor.PictureId;
            _tl0Offset = _lastOutTl0 < 0 || !descriptor.HasTl0PicIdx ? 0 : _lastOutTl0 + 1 - descriptor.Tl0PicIdx;
        }

        var pictureId = (((descriptor.PictureId + _pictureIdOffset) % modulus) + modulus) % modulus;
        var sequenceAhead = (pictureId - _lastOutPictureId + modulus) % modulus;
        if (_lastOutPictureId < 0 || (sequenceAhead != 0 && sequenceAhead < modulus / 2))
        {
            _lastOutPictureId = pictureId;
        }

        // X is set (a picture id is present); the id starts after the first two bytes.
        if (descriptor.PictureIdIs15Bit)
        {
            payload[2] = (byte)(0x80 | (pictureId >> 8));
            payload[3] = (byte)pictureId;
        }
        else
        {
            payload[2] = (byte)(pictureId & 0x7F);
        }

        if (descriptor.HasTl0PicIdx)
        {
            var tl0 = (byte)(descriptor.Tl0PicIdx + _tl0Offset);
            payload[descriptor.PictureIdIs15Bit ? 4 : 3] = tl0;
            if (_lastOutTl0 < 0 || (sbyte)(tl0 - (byte)_lastOutTl0) > 0)
            {
                _lastOutTl0 = tl0;
            }
        }
    }
}
