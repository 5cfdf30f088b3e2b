using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Parley.Core.Queues;
using Parley.Data;
using Prometheus;

namespace Parley.Api.Operations;

/// <summary>
/// Bot-side metrics: bots created (counted as they are), and gauges read from the database and the queue at
/// scrape time (bots by status, queue depth, outbox backlog and lag), so every replica reports the same
/// global figures without keeping state.
/// </summary>
public sealed partial class BotMetrics(ParleyDbContextFactory databases, IBotJobQueue queue, TimeProvider time, ILogger<BotMetrics> logger)
{
    public static readonly Counter BotsCreated = Metrics.CreateCounter("parley_bots_created_total", "Bots created through the API (including scheduled hand-overs).", "meeting_platform");

    private static readonly Gauge BotsByStatus = Metrics.CreateGauge("parley_bots", "Bots by current status.", "status");
    private static readonly Gauge QueueDepth = Metrics.CreateGauge("parley_queue_messages", "Bot job queue messages by state (visible, in_flight, dead_lettered).", "state");
    private static readonly Gauge OutboxPending = Metrics.CreateGauge("parley_outbox_pending", "Outbox rows committed but not yet published to the queue.");
    private static readonly Gauge OutboxLag = Metrics.CreateGauge("parley_outbox_lag_seconds", "Age of the oldest unpublished outbox row (0 when none).");

    /// <summary>Hooks the scrape-time refresh into the default registry (once per process).</summary>
    public void Register() => Metrics.DefaultRegistry.AddBeforeCollectCallback(RefreshAsync);

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var db = databases.CreateDbContext();
            var counts = await db.Bots.AsNoTracking().GroupBy(b => b.Status).Select(g => new { Status = g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
            foreach (var status in Core.Bots.BotStatus.All)
            {
                BotsByStatus.WithLabels(status).Set(counts.FirstOrDefault(c => c.Status == status)?.Count ?? 0);
            }

            var pending = db.Outbox.AsNoTracking().Where(m => m.PublishedAt == null);
            OutboxPending.Set(await pending.CountAsync(cancellationToken));
            var oldest = await pending.OrderBy(m => m.Id).Select(m => (DateTime?)m.CreatedAt).FirstOrDefaultAsync(cancellationToken);
            OutboxLag.Set(oldest is { } created ? Math.Max(0, (time.GetUtcNow().UtcDateTime - created).TotalSeconds) : 0);

            var depth = await queue.GetDepthAsync(cancellationToken);
            QueueDepth.WithLabels("visible").Set(depth.Visible);
            QueueDepth.WithLabels("in_flight").Set(depth.InFlight);
            QueueDepth.WithLabels("dead_lettered").Set(depth.DeadLettered);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A scrape must still succeed when the database or queue is down; /health reports that.
            LogRefreshFailed(logger, ex.Message);
        }
    }

    [LoggerMessage(EventId = 1100, Level = LogLevel.Warning, Message = "Metrics refresh failed: {Error}")]
    private static partial void LogRefreshFailed(ILogger logger, string error);
}
