using Parley.Sfu;
using Parley.Sfu.Metrics;
using Prometheus;

namespace Parley.Api.Sfu;

/// <summary>
/// The engine's counters under the names of the Meeshy seed's mediasoup exporter (so its dashboards and
/// alerts work), plus packets, bytes, NACKs, PLIs and drops by reason. Gauges and counters are refreshed
/// right before each scrape; the engine itself has no metrics dependency.
/// </summary>
internal sealed class SfuMetricsExporter(SfuEngine engine)
{
    private static readonly Gauge Workers = Prometheus.Metrics.CreateGauge("mediasoup_workers_total", "Media workers running.");
    private static readonly Gauge Routers = Prometheus.Metrics.CreateGauge("mediasoup_routers_total", "Live rooms (one router each).");
    private static readonly Gauge Transports = Prometheus.Metrics.CreateGauge("mediasoup_transports_total", "WebRTC transports open.");
    private static readonly Gauge Producers = Prometheus.Metrics.CreateGauge("mediasoup_producers_total", "Published tracks.");
    private static readonly Gauge Consumers = Prometheus.Metrics.CreateGauge("mediasoup_consumers_total", "Forwarded copies of tracks.");
    private static readonly Gauge Calls = Prometheus.Metrics.CreateGauge("calls_active_total", "Meetings with at least one participant.");
    private static readonly Gauge Participants = Prometheus.Metrics.CreateGauge("parley_sfu_participants", "Participants in meetings on this node.");
    private static readonly Histogram TransportConnect = Prometheus.Metrics.CreateHistogram("webrtc_transport_connection_duration_seconds",
        "From a transport's negotiation to ICE and DTLS connected.", new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.01, 2, 12) });
    private static readonly Histogram ProducerCreation = Prometheus.Metrics.CreateHistogram("producer_creation_duration_seconds",
        "From a publish offer to the producer being ready.", new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 2, 12) });
    private static readonly Histogram ConsumerCreation = Prometheus.Metrics.CreateHistogram("consumer_creation_duration_seconds",
        "From a consumer's creation to the subscriber's answer.", new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.005, 2, 12) });
    private static readonly Gauge PacketsIn = Prometheus.Metrics.CreateGauge("parley_sfu_packets_received_total", "RTP packets received from publishers.");
    private static readonly Gauge PacketsOut = Prometheus.Metrics.CreateGauge("parley_sfu_packets_sent_total", "RTP packets sent to subscribers.");
    private static readonly Gauge BytesIn = Prometheus.Metrics.CreateGauge("parley_sfu_bytes_received_total", "RTP bytes received from publishers.");
    private static readonly Gauge BytesOut = Prometheus.Metrics.CreateGauge("parley_sfu_bytes_sent_total", "RTP bytes sent to subscribers.");
    private static readonly Gauge NacksReceived = Prometheus.Metrics.CreateGauge("parley_sfu_nacks_received_total", "NACK packets received from subscribers.");
    private static readonly Gauge NacksSent = Prometheus.Metrics.CreateGauge("parley_sfu_nacks_sent_total", "NACK packets sent to publishers.");
    private static readonly Gauge Retransmissions = Prometheus.Metrics.CreateGauge("parley_sfu_retransmissions_total", "Packets resent from retransmission buffers.");
    private static readonly Gauge Plis = Prometheus.Metrics.CreateGauge("parley_sfu_plis_sent_total", "Keyframe requests (PLI) sent to publishers.");
    private static readonly Gauge KeyframeRequests = Prometheus.Metrics.CreateGauge("parley_sfu_keyframe_requests_received_total", "PLI/FIR received from subscribers.");
    private static readonly Gauge Drops = Prometheus.Metrics.CreateGauge("parley_sfu_dropped_packets_total", "Packets dropped, by reason.", "reason");

    private int _registered;

    public void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 0)
        {
            Prometheus.Metrics.DefaultRegistry.AddBeforeCollectCallback(Refresh);
        }
    }

    private void Refresh()
    {
        var rooms = engine.Rooms;
        var metrics = engine.Metrics;
        Workers.Set(engine.Workers.Count);
        Routers.Set(rooms.Count);
        int transports = 0, producers = 0, consumers = 0, calls = 0, participants = 0;
        foreach (var room in rooms)
        {
            lock (room.Worker.Sync)
            {
                transports += room.TransportCount;
                producers += room.ProducerCount;
                consumers += room.ConsumerCount;
                participants += room.ParticipantCount;
                calls += room.ParticipantCount > 0 ? 1 : 0;
            }
        }

        Transports.Set(transports);
        Producers.Set(producers);
        Consumers.Set(consumers);
        Calls.Set(calls);
        Participants.Set(participants);
        metrics.TransportConnectSeconds.Drain(TransportConnect.Observe);
        metrics.ProducerCreationSeconds.Drain(ProducerCreation.Observe);
        metrics.ConsumerCreationSeconds.Drain(ConsumerCreation.Observe);
        PacketsIn.Set(metrics.PacketsIn);
        PacketsOut.Set(metrics.PacketsOut);
        BytesIn.Set(metrics.BytesIn);
        BytesOut.Set(metrics.BytesOut);
        NacksReceived.Set(metrics.NacksReceived);
        NacksSent.Set(metrics.NacksSent);
        Retransmissions.Set(metrics.Retransmissions);
        Plis.Set(metrics.PlisSent);
        KeyframeRequests.Set(metrics.KeyframeRequestsReceived);
        foreach (var reason in Enum.GetValues<DropReason>())
        {
            var count = metrics.Drops(reason);
            // The socket loops count these themselves (they happen below the engine).
            count += reason switch
            {
                DropReason.Unrouted => engine.Workers.Sum(w => w.UnroutedPackets),
                DropReason.Oversized => engine.Workers.Sum(w => w.OversizedPackets),
                DropReason.SendFailed => engine.Workers.Sum(w => w.SendErrors),
                _ => 0,
            };

            Drops.WithLabels(reason.ToString().ToLowerInvariant()).Set(count);
        }
    }
}
