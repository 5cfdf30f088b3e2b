using Prometheus;

namespace Parley.Orchestration;

/// <summary>
/// Deployment metrics. Counts and durations are recorded where deployments happen; the gauges of active
/// and queued bots are read from the database at scrape time (see <see cref="PlatformStatusSource"/>) so
/// every replica reports the same global figures.
/// </summary>
public static class OrchestrationMetrics
{
    public static readonly Gauge BotsActive = Metrics.CreateGauge("parley_bots_active", "Bots on a deployment platform that have not ended (deploying included).", "platform");

    public static readonly Gauge BotsQueued = Metrics.CreateGauge("parley_bots_queued", "Bots waiting in the global queue for capacity on any platform.");

    public static readonly Counter Deployments = Metrics.CreateCounter("parley_deployments_total", "Deployment attempts by platform and result (success, failed, timeout).", "platform", "result");

    public static readonly Histogram DeploymentDuration = Metrics.CreateHistogram("parley_deployment_duration_seconds", "Time a platform took to start a bot.",
        new HistogramConfiguration { LabelNames = ["platform"], Buckets = Histogram.ExponentialBuckets(0.01, 2, 16) });
}
