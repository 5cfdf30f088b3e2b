using Microsoft.EntityFrameworkCore;
using Parley.Api.Bots;
using Parley.Core.Bots;
using Parley.Core.Configuration;
using Parley.Core.Storage;
using Parley.Data;

namespace Parley.Api.Jobs;

/// <summary>
/// Marks bots still queued after BOT_PICKUP_DELAY_SECONDS as `pickup_delayed` (with its webhook). A bot
/// already handed to a platform has been picked up, even if it has not reported joining yet; the
/// orchestrator marks the ones it puts in the global queue itself (the transition applies once).
/// </summary>
public sealed class PickupDelayedJob(ParleyDbContextFactory databases, BotLifecycle lifecycle, ApiOptions options, TimeProvider time) : IParleyJob
{
    public string Name => "pickup-delayed-job";

    public bool Enabled => true;

    public DateTime NextRun(DateTime now, DateTime? lastRun) => lastRun is null ? now : lastRun.Value + TimeSpan.FromSeconds(5);

    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var before = time.GetUtcNow().UtcDateTime - TimeSpan.FromSeconds(options.PickupDelaySeconds);
        await using var db = databases.CreateDbContext();
        var ids = await db.Bots.AsNoTracking().Where(b => b.Status == BotStatus.Queued && b.DeploymentPlatform == null && b.CreatedAt < before)
            .OrderBy(b => b.CreatedAt).Select(b => b.Id).Take(500).ToListAsync(cancellationToken);
        var marked = 0;
        foreach (var id in ids)
        {
            var (result, _) = await lifecycle.ChangeStatusAsync(id, BotStatus.PickupDelayed, null, null, cancellationToken);
            marked += result == StatusChangeResult.Applied ? 1 : 0;
        }

        return marked;
    }
}

/// <summary>data-retention-deletion-job: deletes the artifacts of bots that ended more than DATA_RETENTION_DAYS ago.</summary>
public sealed class DataRetentionJob(ParleyDbContextFactory databases, IArtifactStore storage, ApiOptions options, TimeProvider time) : IParleyJob
{
    public string Name => "data-retention-deletion-job";

    public bool Enabled => true;

    /// <summary>Checked hourly: "daily" retention then never lags more than an hour behind its deadline.</summary>
    public DateTime NextRun(DateTime now, DateTime? lastRun) => lastRun is null ? now : lastRun.Value + TimeSpan.FromHours(1);

    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var before = time.GetUtcNow().UtcDateTime - TimeSpan.FromDays(options.DataRetentionDays);
        await using var db = databases.CreateDbContext();
        var ids = await db.Bots.AsNoTracking().Where(b => b.ExitedAt != null && b.ExitedAt < before && !b.ArtifactsDeleted)
            .OrderBy(b => b.ExitedAt).Select(b => b.Id).Take(1000).ToListAsync(cancellationToken);
        foreach (var id in ids)
        {
            await ArtifactKeys.DeleteAllAsync(storage, id, cancellationToken);
            await db.Bots.Where(b => b.Id == id).ExecuteUpdateAsync(s => s.SetProperty(b => b.ArtifactsDeleted, true), cancellationToken);
        }

        return ids.Count;
    }
}

/// <summary>
/// team-permanent-deletion-job (multi-tenant only, daily at 09:00 UTC): removes teams soft-deleted more than
/// TEAM_DELETION_GRACE_DAYS ago, with their bots, artifacts, keys, webhooks and scheduled bots.
/// </summary>
public sealed class TeamPermanentDeletionJob(ParleyDbContextFactory databases, IArtifactStore storage, ApiOptions options, FeatureOptions features, TimeProvider time) : IParleyJob
{
    public string Name => "team-permanent-deletion-job";

    public bool Enabled => features.MultiTenant;

    public DateTime NextRun(DateTime now, DateTime? lastRun)
    {
        var today = now.Date.AddHours(9);
        return today > now ? today : today.AddDays(1);
    }

    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var before = time.GetUtcNow().UtcDateTime - TimeSpan.FromDays(options.TeamDeletionGraceDays);
        await using var db = databases.CreateDbContext();
        var teams = await db.Teams.AsNoTracking().Where(t => t.DeletedAt != null && t.DeletedAt < before).Select(t => t.Id).ToListAsync(cancellationToken);
        foreach (var team in teams)
        {
            var botIds = await db.Bots.Where(b => b.TeamId == team).Select(b => b.Id).ToListAsync(cancellationToken);
            foreach (var botId in botIds)
            {
                await ArtifactKeys.DeleteAllAsync(storage, botId, cancellationToken);
            }

            // Children first; one transaction so that a crash leaves the team either whole or gone.
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await db.WebhookDeliveries.Where(d => d.TeamId == team).ExecuteDeleteAsync(cancellationToken);
            await db.WebhookEndpoints.Where(e => e.TeamId == team).ExecuteDeleteAsync(cancellationToken);
            await db.ScheduledBots.Where(b => b.TeamId == team).ExecuteDeleteAsync(cancellationToken);
            await db.BotStatusHistory.Where(h => botIds.Contains(h.BotId)).ExecuteDeleteAsync(cancellationToken);
            await db.BotArtifacts.Where(a => botIds.Contains(a.BotId)).ExecuteDeleteAsync(cancellationToken);
            await db.Bots.Where(b => b.TeamId == team).ExecuteDeleteAsync(cancellationToken);
            await db.ApiKeys.Where(k => k.TeamId == team).ExecuteDeleteAsync(cancellationToken);
            await db.Teams.Where(t => t.Id == team).ExecuteDeleteAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        return teams.Count;
    }
}
