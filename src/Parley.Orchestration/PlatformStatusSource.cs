using Microsoft.EntityFrameworkCore;
using Parley.Core.Bots;
using Parley.Data;

namespace Parley.Orchestration;

/// <summary>
/// `GET /v2/platforms` and the active/queued gauges: counts from the bots table (the capacity ledger),
/// limits from the settings, so an api-only replica answers the same as an orchestrator.
/// </summary>
public sealed class PlatformStatusSource(ParleyDbContextFactory databases, OrchestratorOptions options) : IPlatformStatusSource
{
    public async Task<PlatformsSnapshot> GetAsync(CancellationToken cancellationToken)
    {
        await using var db = databases.CreateDbContext();
        var rows = await db.Bots.AsNoTracking()
            .Where(b => b.DeploymentPlatform != null && b.Status != BotStatus.Completed && b.Status != BotStatus.Failed)
            .GroupBy(b => b.DeploymentPlatform!)
            .Select(g => new
            {
                Platform = g.Key,
                Active = g.Count(),
                Deploying = g.Count(b => b.Status == BotStatus.Queued || b.Status == BotStatus.PickupDelayed),
            })
            .ToListAsync(cancellationToken);
        var queued = await Waiting(db).CountAsync(cancellationToken);
        var summaries = new List<PlatformSummary>();
        foreach (var name in options.Chain)
        {
            var limit = options.LimitOf(name);
            var row = rows.FirstOrDefault(r => r.Platform == name);
            var built = PlatformChain.Built.Contains(name);
            var note = !built ? "not available in this build yet" : limit is null ? $"skipped: set {PlatformChain.LimitVariable(name)}" : null;
            summaries.Add(new PlatformSummary(name, built && limit is not null, limit, row?.Active ?? 0, row?.Deploying ?? 0, queued, note));
        }

        return new PlatformsSnapshot(summaries, queued);
    }

    /// <summary>Scrape-time refresh of the gauges.</summary>
    public async Task RefreshMetricsAsync(CancellationToken cancellationToken)
    {
        PlatformsSnapshot snapshot;
        try
        {
            snapshot = await GetAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A scrape must still succeed when the database is down; /health reports that, and BotMetrics logs it.
            return;
        }

        foreach (var platform in snapshot.Platforms)
        {
            OrchestrationMetrics.BotsActive.WithLabels(platform.Platform).Set(platform.Active);
        }

        OrchestrationMetrics.BotsQueued.Set(snapshot.Queued);
    }

    /// <summary>
    /// The global queue: bots marked pickup_delayed that no platform has taken yet. The bots table is the
    /// queue (not the message broker), so every replica drains the same queue and a restart loses nothing.
    /// </summary>
    public static IQueryable<Bot> Waiting(ParleyDbContext db)
    {
        ArgumentNullException.ThrowIfNull(db);
        return db.Bots.Where(b => b.DeploymentPlatform == null && b.Status == BotStatus.PickupDelayed);
    }
}
