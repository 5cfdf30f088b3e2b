using Parley.Sfu.Metrics;
using Parley.Sfu.Routing;
using Parley.Sfu.Workers;
using Parley.WebRtc.Rtcp;
using Parley.WebRtc.Rtp;
using Parley.WebRtc.Transport;

namespace Parley.Sfu.Rooms;

/// <summary>The media path of a participant: what arrives on its two connections, and its periodic RTCP.</summary>
public sealed partial class Participant
{
    private const int MaxRtcpBlocks = 31;
    private long _nextReportMicroseconds;
    private long _nextSenderReportMicroseconds;
    private long _nextFeedbackMicroseconds;
    private long _nextLayerChoiceMicroseconds;

    /// <summary>
    /// RTP from the publisher (socket thread): record it for NACK and feedback, keep it for retransmission,
    /// feed the speaker detector, and forward it to every consumer. RTX is unwrapped first (RFC 4588 §4):
    /// it is the answer to our NACKs and fills the consumers' gaps like a late packet.
    /// </summary>
    private void OnPublishedRtp(RtpStreamInfo? stream, ReadOnlySpan<byte> packet)
    {
        var worker = Room.Worker;
        var metrics = worker.Metrics;
        lock (worker.Sync)
        {
            metrics.Received(packet.Length);
            if (State == ParticipantState.Left || !RtpPacket.TryParse(packet, out var rtp))
            {
                metrics.Drop(DropReason.UnknownStream);
                return;
            }

            var now = SfuWorker.NowMicroseconds;
            if (TransportCcExtensionId != 0 && rtp.TryGetExtension(TransportCcExtensionId, out var wide)
                && RtpExtensionValues.TryReadTransportSequenceNumber(wide, out var wideSequence))
            {
                TransportFeedback.OnPacket(wideSequence, now);
            }

            if (stream?.Mid is not { } mid || !Producers.TryGetValue(mid, out var producer) || producer.LayerOf(stream.Rid) is not { } layer)
            {
                metrics.Drop(DropReason.UnknownStream);
                return;
            }

            if (stream.IsRepair || producer.RtxToApt.ContainsKey(rtp.PayloadType))
            {
                var unwrapped = worker.RtxScratch;
                if (layer.Ssrc == 0 || !producer.RtxToApt.TryGetValue(rtp.PayloadType, out var apt)
                    || !Rtx.TryDecapsulate(packet, unwrapped, (byte)apt, layer.Ssrc, out var length)
                    || !RtpPacket.TryParse(unwrapped.AsSpan(0, length), out rtp))
                {
                    metrics.Drop(DropReason.UnknownStream);
                    return;
                }

                if (rtp.Payload.IsEmpty)
                {
                    return; // RTX padding: the publisher probing bandwidth
                }

                packet = unwrapped.AsSpan(0, length);
            }

            if (layer.Ssrc != rtp.Ssrc)
            {
                // First packet, or the publisher restarted its encoder with a new SSRC: start over.
                layer.Ssrc = rtp.Ssrc;
                layer.Statistics = new RtpReceiveStatistics(rtp.Ssrc, layer.ClockRate);
                layer.Buffer.Clear();
            }

            var nowMs = now / 1000;
            layer.Statistics!.OnPacket(rtp.SequenceNumber, rtp.Timestamp, now);
            layer.Nacks.OnPacket(rtp.SequenceNumber, nowMs);
            layer.Bitrate.Add(packet.Length, nowMs);
            layer.LastPacketMicroseconds = now;
            layer.Buffer.Store(packet, rtp.SequenceNumber, now);
            var keyframe = producer.IsVideo && IsKeyframe(producer, rtp);
            var silent = false;
            if (keyframe)
            {
                layer.KeyframeLimiter.OnKeyframe(nowMs);
            }
            else if (!producer.IsVideo && AudioLevelExtensionId != 0 && rtp.TryGetExtension(AudioLevelExtensionId, out var levelValue)
                && RtpExtensionValues.TryReadAudioLevel(levelValue, out var voice, out var level))
            {
                if (!producer.Muted)
                {
                    Room.Speakers.Observe(Id, level, voice, nowMs);
                }

                // RFC 6464 level 127 (-127 dBov) is digital silence: a muted microphone (track.enabled = false)
                // still sends it 50 times a second. Not forwarding it (Jitsi Videobridge does the same) spares
                // most of the audio of a large meeting, where nearly everyone is muted; the consumers renumber
                // so subscribers see no loss, and the timestamp jump reads like Opus DTX to their jitter buffers.
                silent = level == RtpExtensionValues.SilenceLevel && !voice && Room.DropSilentAudio;
                if (silent)
                {
                    metrics.Drop(DropReason.Silence); // once per packet, whatever the number of consumers
                }
            }

            var consumers = producer.Consumers;
            for (var i = 0; i < consumers.Length; i++)
            {
                consumers[i].Forward(layer.Index, rtp, keyframe, silent, worker.Scratch, now, metrics);
            }
        }
    }

    private static bool IsKeyframe(Producer producer, RtpPacket rtp)
    {
        foreach (var codec in producer.Codecs)
        {
            if (codec.PayloadType != rtp.PayloadType)
            {
                continue;
            }

            if (codec.Name.Equals("VP8", StringComparison.OrdinalIgnoreCase))
            {
                return Vp8PayloadDescriptor.TryParse(rtp.Payload, out var descriptor) && descriptor.IsKeyframe;
            }

            return codec.Name.Equals("H264", StringComparison.OrdinalIgnoreCase) && H264Keyframe.IsKeyframe(rtp.Payload);
        }

        return false;
    }

    /// <summary>RTCP from the publisher: sender reports feed the receiver reports we send back (LSR/DLSR, RFC 3550 §6.4.1).</summary>
    private void OnPublisherRtcp(ReadOnlySpan<byte> compound)
    {
        var worker = Room.Worker;
        lock (worker.Sync)
        {
            var now = SfuWorker.NowMicroseconds;
            var packets = new RtcpCompoundEnumerator(compound);
            foreach (var packet in packets)
            {
                if (RtcpSenderReport.TryParse(packet, out var report))
                {
                    foreach (var producer in Producers.Values)
                    {
                        producer.LayerBySsrc(report.Ssrc)?.Statistics?.OnSenderReport(report.NtpTimestamp, now);
                    }
                }
            }

            if (packets.IsMalformed)
            {
                worker.Metrics.Drop(DropReason.MalformedRtcp);
            }
        }
    }

    /// <summary>RTCP from the subscriber: NACKs are served from the retransmission buffers, PLI/FIR go to the publisher, REMB sets the budget.</summary>
    private void OnSubscriberRtcp(ReadOnlySpan<byte> compound)
    {
        var worker = Room.Worker;
        var metrics = worker.Metrics;
        lock (worker.Sync)
        {
            var now = SfuWorker.NowMicroseconds;
            Span<ushort> lost = stackalloc ushort[128];
            var packets = new RtcpCompoundEnumerator(compound);
            foreach (var packet in packets)
            {
                if (RtcpNack.TryParse(packet, out var nack))
                {
                    metrics.NackReceived();
                    if (ConsumersBySsrc.TryGetValue(nack.MediaSsrc, out var consumer))
                    {
                        var count = nack.GetLostSequenceNumbers(lost);
                        for (var i = 0; i < count; i++)
                        {
                            consumer.Retransmit(lost[i], worker.RtxScratch, worker.Scratch, now, metrics);
                        }
                    }
                }
                else if (RtcpPli.TryParse(packet, out var pli))
                {
                    metrics.KeyframeRequestReceived();
                    if (ConsumersBySsrc.TryGetValue(pli.MediaSsrc, out var consumer))
                    {
                        Room.RequestKeyframe(consumer.Producer, consumer.CurrentLayer >= 0 ? consumer.CurrentLayer : consumer.TargetLayer, now);
                    }
                }
                else if (RtcpFir.TryParse(packet, out var fir))
                {
                    metrics.KeyframeRequestReceived();
                    for (var i = 0; i < fir.EntryCount; i++)
                    {
                        if (ConsumersBySsrc.TryGetValue(fir.GetEntry(i).Ssrc, out var consumer))
                        {
                            Room.RequestKeyframe(consumer.Producer, consumer.CurrentLayer >= 0 ? consumer.CurrentLayer : consumer.TargetLayer, now);
                        }
                    }
                }
                else if (RtcpRemb.TryParse(packet, out var remb))
                {
                    EstimatedBandwidth = (long)Math.Min(remb.Bitrate, long.MaxValue);
                }
            }

            if (packets.IsMalformed)
            {
                metrics.Drop(DropReason.MalformedRtcp);
            }
        }
    }

    /// <summary>
    /// Periodic media work (worker tick, under the lock): transport-cc feedback to the publisher every
    /// 50 ms (without it Chrome's sender stays near its start bitrate), NACKs for gaps, receiver and
    /// sender reports every second, keyframe requests for consumers waiting for one, and layer choice.
    /// </summary>
    internal void TickMedia(long now, Span<byte> rtcp)
    {
        var metrics = Room.Worker.Metrics;
        var publish = PublishConnection;
        if (publish is { State: PeerConnectionState.Connected })
        {
            TickPublisher(publish, now, rtcp, metrics);
        }

        var subscribe = SubscribeConnection;
        if (subscribe is not { State: PeerConnectionState.Connected })
        {
            return;
        }

        var videoConsumers = 0;
        foreach (var slot in Slots)
        {
            if (slot.Consumer is { Negotiated: true } consumer)
            {
                if (consumer.WaitingForKeyframe)
                {
                    Room.RequestKeyframe(consumer.Producer, consumer.TargetLayer, now);
                }

                if (consumer.Producer.IsVideo)
                {
                    videoConsumers++;
                }
            }
        }

        if (now >= _nextLayerChoiceMicroseconds)
        {
            _nextLayerChoiceMicroseconds = now + 500_000;
            long? budget = EstimatedBandwidth is { } estimate ? estimate / Math.Max(1, videoConsumers) : null;
            foreach (var consumer in Consumers)
            {
                consumer.SelectLayer(budget, now);
            }
        }

        if (now >= _nextSenderReportMicroseconds)
        {
            _nextSenderReportMicroseconds = now + 1_000_000;
            var ntp = NtpTime.FromDateTime(DateTimeOffset.UtcNow);
            foreach (var consumer in Consumers)
            {
                if (consumer.PacketsSent == 0)
                {
                    continue;
                }

                // RFC 3550 §6.4.1: the RTP timestamp of the same instant as the NTP one, extrapolated from the last packet.
                var clockRate = consumer.Producer.Layers[0].ClockRate;
                var elapsed = (now - consumer.LastSentMicroseconds) * clockRate / 1_000_000;
                var length = RtcpSenderReport.Write(rtcp, consumer.Ssrc, ntp, consumer.LastRtpTimestamp + (uint)elapsed,
                    (uint)consumer.PacketsSent, (uint)consumer.BytesSent, []);
                subscribe.SendRtcp(rtcp, length);
            }
        }
    }

    private void TickPublisher(PeerConnection publish, long now, Span<byte> rtcp, SfuMetrics metrics)
    {
        uint anySsrc = 0;
        Span<ushort> lost = stackalloc ushort[64];
        foreach (var producer in Producers.Values)
        {
            foreach (var layer in producer.Layers)
            {
                if (layer.Ssrc == 0)
                {
                    continue;
                }

                anySsrc = layer.Ssrc;
                var count = layer.Nacks.CollectNacks(now / 1000, 50, lost);
                if (count > 0)
                {
                    var length = RtcpNack.Write(rtcp, publish.RtcpSenderSsrc, layer.Ssrc, lost[..count]);
                    publish.SendRtcp(rtcp, length);
                    metrics.NackSent();
                }
            }
        }

        if (anySsrc != 0 && TransportCcExtensionId != 0 && now >= _nextFeedbackMicroseconds)
        {
            _nextFeedbackMicroseconds = now + 50_000;
            var length = TransportFeedback.Build(rtcp, publish.RtcpSenderSsrc, anySsrc);
            if (length > 0)
            {
                publish.SendRtcp(rtcp, length);
            }
        }

        if (now >= _nextReportMicroseconds)
        {
            _nextReportMicroseconds = now + 1_000_000;
            Span<RtcpReportBlock> blocks = stackalloc RtcpReportBlock[MaxRtcpBlocks];
            var count = 0;
            foreach (var producer in Producers.Values)
            {
                foreach (var layer in producer.Layers)
                {
                    if (layer.Statistics is { } statistics && count < MaxRtcpBlocks)
                    {
                        blocks[count++] = statistics.CreateReportBlock(now);
                    }
                }
            }

            if (count > 0)
            {
                var length = RtcpReceiverReport.Write(rtcp, publish.RtcpSenderSsrc, blocks[..count]);
                publish.SendRtcp(rtcp, length);
            }
        }
    }
}
