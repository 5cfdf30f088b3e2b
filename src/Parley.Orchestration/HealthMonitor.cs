using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Parley.Core.Bots;
using Parley.Data;

namespace Parley.Orchestration;

/// <summary>
/// The health of deployed bots. A live bot silent for BOT_HEARTBEAT_TIMEOUT_MS fails with
/// HEARTBEAT_TIMEOUT; a bot handed to a platform that has not reported joining within
/// BOT_DEPLOY_TIMEOUT_MS fails with DEPLOYMENT_FAILED. The status change goes first (with its webhooks),
/// then the platform resource is removed, so the crash detection that a kill triggers finds the bot
/// already ended and does not fail it a second time. Reconciliation removes resources whose bot has ended.
/// </summary>
public sealed partial class HealthMonitor(
    ParleyDbContextFactory databases, PlatformChain chain, IBotStatusChanges statuses, OrchestratorOptions options, TimeProvider time, ILogger<HealthMonitor> logger)
{
    /// <summary>A bot that reported its end is given this long to exit by itself before its resource is removed.</summary>
    private static readonly TimeSpan ExitGrace = TimeSpan.FromSeconds(30);

    private const int Batch = 200;

    /// <returns>How many bots were failed or resources removed.</returns>
    public async Task<int> CheckAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var silentSince = now - TimeSpan.FromMilliseconds(options.HeartbeatTimeoutMs);
        var deployingSince = now - TimeSpan.FromMilliseconds(options.DeployTimeoutMs);
        List<Candidate> silent, stuck;
        await using (var db = databases.CreateDbContext())
        {
            var live = db.Bots.AsNoTracking().Where(b => b.DeploymentPlatform != null && b.Status != BotStatus.Completed && b.Status != BotStatus.Failed);
            silent = await live.Where(b => b.Status != BotStatus.Queued && b.Status != BotStatus.PickupDelayed && (b.LastHeartbeatAt ?? b.UpdatedAt) < silentSince)
                .Select(b => new Candidate(b.Id, b.DeploymentPlatform!, b.DeploymentIdentifier)).Take(Batch).ToListAsync(cancellationToken);
            stuck = await live.Where(b => (b.Status == BotStatus.Queued || b.Status == BotStatus.PickupDelayed) && b.UpdatedAt < deployingSince)
                .Select(b => new Candidate(b.Id, b.DeploymentPlatform!, b.DeploymentIdentifier)).Take(Batch).ToListAsync(cancellationToken);
        }

        // Resources are released together: a local bot gets LOCAL_BOT_STOP_GRACE_MS after SIGTERM, and
        // waiting for each in turn would hold up the queue expiry and drain of this tick.
        var releases = new List<Task>();
        foreach (var bot in silent)
        {
            await FailAsync(bot, BotErrorCode.HeartbeatTimeout, $"No heartbeat for {options.HeartbeatTimeoutMs} ms (BOT_HEARTBEAT_TIMEOUT_MS).", releases, cancellationToken);
        }

        foreach (var bot in stuck)
        {
            await FailAsync(bot, BotErrorCode.DeploymentFailed, $"The bot did not start within {options.DeployTimeoutMs} ms of its deployment (BOT_DEPLOY_TIMEOUT_MS).", releases, cancellationToken);
        }

        await Task.WhenAll(releases);
        return releases.Count + await ReconcileAsync(cancellationToken);
    }

    private async Task FailAsync(Candidate bot, string errorCode, string message, List<Task> releases, CancellationToken cancellationToken)
    {
        var result = await statuses.ChangeStatusAsync(bot.Id, BotStatus.Failed, errorCode, message, cancellationToken);
        if (result != StatusChangeResult.Applied)
        {
            return;
        }

        LogFailed(logger, bot.Id, errorCode);
        var platform = chain.Find(bot.Platform);
        releases.Add(platform is null ? Task.CompletedTask : platform.CancelAsync(bot.Id, bot.Identifier ?? "", cancellationToken));
    }

    /// <summary>Removes resources whose bot ended (after a grace to exit by itself), is gone, or now runs elsewhere.</summary>
    public async Task<int> ReconcileAsync(CancellationToken cancellationToken)
    {
        var removals = new List<Task>();
        var graceCutoff = time.GetUtcNow().UtcDateTime - ExitGrace;
        foreach (var platform in chain.All)
        {
            var resources = await platform.ListAsync(cancellationToken);
            if (resources.Count == 0)
            {
                continue;
            }

            var ids = resources.Select(r => r.BotId).ToList();
            await using var db = databases.CreateDbContext();
            var bots = await db.Bots.AsNoTracking().Where(b => ids.Contains(b.Id))
                .Select(b => new { b.Id, b.Status, b.ExitedAt, b.DeploymentPlatform, b.DeploymentIdentifier })
                .ToDictionaryAsync(b => b.Id, cancellationToken);
            foreach (var resource in resources)
            {
                var orphan = !bots.TryGetValue(resource.BotId, out var bot)
                    || BotStatus.IsTerminal(bot.Status) && (bot.ExitedAt is null || bot.ExitedAt < graceCutoff)
                    || bot.DeploymentPlatform != platform.Name
                    || bot.DeploymentIdentifier is not null && bot.DeploymentIdentifier != resource.Identifier;
                if (orphan)
                {
                    LogOrphan(logger, resource.BotId, platform.Name, resource.Identifier);
                    removals.Add(platform.CancelAsync(resource.BotId, resource.Identifier, cancellationToken));
                }
            }
        }

        await Task.WhenAll(removals);
        return removals.Count;
    }

    private sealed record Candidate(string Id, string Platform, string? Identifier);

    [LoggerMessage(EventId = 4020, Level = LogLevel.Warning, Message = "Bot {BotId}: failed with {ErrorCode}; releasing its platform resource")]
    private static partial void LogFailed(ILogger logger, string botId, string errorCode);

    [LoggerMessage(EventId = 4021, Level = LogLevel.Information, Message = "Bot {BotId}: removing {Platform} resource {Identifier} (the bot has ended or moved)")]
    private static partial void LogOrphan(ILogger logger, string botId, string platform, string identifier);
}
