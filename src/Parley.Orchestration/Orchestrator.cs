using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Parley.Core.Bots;
using Parley.Core.Queues;
using Parley.Data;
using Parley.Orchestration.Platforms;

namespace Parley.Orchestration;

/// <summary>
/// The orchestrator role. Takes bot jobs from the queue and deploys them down the platform chain; bots
/// that find every platform full wait in the global queue (the bots table: pickup_delayed and no platform,
/// highest `extra.priority` first, then oldest; see <see cref="GlobalQueue"/>) and are deployed as soon as
/// capacity frees. The queue message is deleted once the bot is deployed, ended or waiting, because from
/// then on the bot row is the durable record. Every step is idempotent on the bot id (queues deliver at
/// least once) and safe with several replicas: the capacity reservation is also the claim on the bot.
/// </summary>
public sealed partial class Orchestrator(
    IBotJobQueue queue,
    ParleyDbContextFactory databases,
    PlatformChain chain,
    BotDeployer deployer,
    IBotStatusChanges statuses,
    HealthMonitor health,
    OrchestratorOptions options,
    TimeProvider time,
    ILogger<Orchestrator> logger) : BackgroundService
{
    private static readonly TimeSpan ReceiveWait = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _slots = new(options.DeploymentQueueMaxConcurrent, options.DeploymentQueueMaxConcurrent);
    private readonly SemaphoreSlim _draining = new(1, 1);
    private readonly SemaphoreSlim _capacityFreed = new(0, int.MaxValue);

    /// <summary>Wakes the drain loop: a bot ended or a resource went away on this replica.</summary>
    public void SignalCapacityFreed() => _capacityFreed.Release();

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var skipped in chain.Skipped)
        {
            LogPlatformSkipped(logger, skipped.Name, skipped.Reason);
        }

        if (chain.Links.Count == 0)
        {
            LogNoPlatform(logger);
        }

        foreach (var platform in chain.All)
        {
            platform.ResourceEnded += ended => _ = OnResourceEndedAsync(ended);
        }

        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var ticks = TickLoopAsync(stoppingToken);
        var drains = DrainLoopAsync(stoppingToken);
        try
        {
            await ReceiveLoopAsync(stoppingToken);
        }
        finally
        {
            await Task.WhenAll(ticks, drains).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task ReceiveLoopAsync(CancellationToken stoppingToken)
    {
        // Long enough for a bot to go down the whole chain; a replica that dies mid-deployment hands the
        // message back to the others after this.
        var visibility = chain.Links.Aggregate(TimeSpan.FromMinutes(1), (sum, link) => sum + link.DeploymentTimeout);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _slots.WaitAsync(stoppingToken);
                var free = 1 + _slots.CurrentCount;
                IReadOnlyList<ReceivedBotJob> messages;
                try
                {
                    messages = await queue.ReceiveAsync(free, visibility, ReceiveWait, stoppingToken);
                }
                finally
                {
                    _slots.Release();
                }

                foreach (var message in messages)
                {
                    await _slots.WaitAsync(stoppingToken);
                    _ = HandleAsync(message, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogLoopFailed(logger, "receive", ex.Message);
                await Delay(RetryDelay, stoppingToken);
            }
        }
    }

    /// <summary>One message; holds a deployment slot until done.</summary>
    private async Task HandleAsync(ReceivedBotJob message, CancellationToken stoppingToken)
    {
        try
        {
            var botId = message.Job.BotId;
            await using (var db = databases.CreateDbContext())
            {
                var bot = await db.Bots.AsNoTracking().Where(b => b.Id == botId)
                    .Select(b => new { b.Status, b.DeploymentPlatform }).FirstOrDefaultAsync(stoppingToken);
                if (bot is null || BotStatus.IsTerminal(bot.Status) || bot.DeploymentPlatform is not null)
                {
                    await queue.DeleteAsync(message, stoppingToken);
                    return;
                }

                // Bots ahead of this one in queue order (higher priority, or same priority and older) already
                // wait: it queues behind them instead of taking freed capacity first.
                var behind = await GlobalQueue.AnyAheadOfAsync(db, databases.Target.Provider, botId, stoppingToken);
                if (behind)
                {
                    await EnterGlobalQueueAsync(botId, stoppingToken);
                    await queue.DeleteAsync(message, stoppingToken);
                    SignalCapacityFreed();
                    return;
                }
            }

            var outcome = await deployer.DeployAsync(botId, message.Job.MeetingPlatform, stoppingToken);
            if (outcome == DeployOutcome.AllFull)
            {
                await EnterGlobalQueueAsync(botId, stoppingToken);
            }

            await queue.DeleteAsync(message, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The message becomes visible again after its timeout; another replica or the next start takes it.
        }
        catch (Exception ex)
        {
            LogLoopFailed(logger, "deploy " + message.Job.BotId, ex.Message);
            await queue.ReleaseAsync(message, RetryDelay, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>
    /// pickup_delayed marks the bot as waiting. The API's pickup-delayed job may have marked it already;
    /// the transition is applied once either way (a second attempt is "unchanged"), so one webhook is sent.
    /// </summary>
    private async Task EnterGlobalQueueAsync(string botId, CancellationToken cancellationToken)
    {
        await statuses.ChangeStatusAsync(botId, BotStatus.PickupDelayed, null, null, cancellationToken);
        LogQueued(logger, botId);
    }

    private async Task DrainLoopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _capacityFreed.WaitAsync(stoppingToken);
                await DrainAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogLoopFailed(logger, "drain", ex.Message);
                await Delay(RetryDelay, stoppingToken);
            }
        }
    }

    /// <summary>Deploys waiting bots in queue order (priority, then arrival) until one finds every platform full.</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        if (!await _draining.WaitAsync(0, cancellationToken))
        {
            return;
        }

        try
        {
            while (true)
            {
                List<(string Id, string MeetingPlatform)> batch;
                await using (var db = databases.CreateDbContext())
                {
                    batch = (await GlobalQueue.NextAsync(db, databases.Target.Provider, 16, cancellationToken))
                        .Select(b => (b.Id, b.MeetingPlatform)).ToList();
                }

                if (batch.Count == 0)
                {
                    return;
                }

                foreach (var (id, meetingPlatform) in batch)
                {
                    await _slots.WaitAsync(cancellationToken);
                    DeployOutcome outcome;
                    try
                    {
                        outcome = await deployer.DeployAsync(id, meetingPlatform, cancellationToken);
                    }
                    finally
                    {
                        _slots.Release();
                    }

                    if (outcome == DeployOutcome.AllFull)
                    {
                        return;
                    }
                }
            }
        }
        finally
        {
            _draining.Release();
        }
    }

    /// <summary>Health, queue expiry and reconciliation; also drains, for capacity freed on other replicas.</summary>
    private async Task TickLoopAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromMilliseconds(options.CheckIntervalMs);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var freed = await health.CheckAsync(stoppingToken);
                await ExpireWaitingAsync(stoppingToken);
                SignalCapacityFreed();
                if (freed > 0)
                {
                    LogFreed(logger, freed);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogLoopFailed(logger, "health check", ex.Message);
            }

            await Delay(interval, stoppingToken);
        }
    }

    /// <summary>Bots that waited longer than GLOBAL_QUEUE_TIMEOUT_MS since they were marked pickup_delayed fail with PICKUP_TIMEOUT.</summary>
    public async Task<int> ExpireWaitingAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow().UtcDateTime - TimeSpan.FromMilliseconds(options.GlobalQueueTimeoutMs);
        await using var db = databases.CreateDbContext();
        var expired = await PlatformStatusSource.Waiting(db)
            .Where(b => db.BotStatusHistory.Where(h => h.BotId == b.Id && h.Code == BotStatus.PickupDelayed).Min(h => (DateTime?)h.CreatedAt) < cutoff)
            .OrderBy(b => b.CreatedAt).Select(b => b.Id).Take(500).ToListAsync(cancellationToken);
        foreach (var id in expired)
        {
            var result = await statuses.ChangeStatusAsync(id, BotStatus.Failed, BotErrorCode.PickupTimeout,
                $"No deployment platform had capacity within {options.GlobalQueueTimeoutMs} ms (GLOBAL_QUEUE_TIMEOUT_MS).", cancellationToken);
            if (result == StatusChangeResult.Applied)
            {
                LogPickupTimeout(logger, id);
            }
        }

        return expired.Count;
    }

    /// <summary>
    /// A resource stopped on its own. If its bot has not ended, it crashed: failed with DEPLOYMENT_FAILED
    /// when it never reported a status, INTERNAL_ERROR otherwise. Either way capacity is free now.
    /// </summary>
    private async Task OnResourceEndedAsync(PlatformResourceEnded ended)
    {
        try
        {
            await using (var db = databases.CreateDbContext())
            {
                var bot = await db.Bots.AsNoTracking().Where(b => b.Id == ended.BotId)
                    .Select(b => new { b.Status, b.DeploymentPlatform, b.DeploymentIdentifier }).FirstOrDefaultAsync();
                var ours = bot is not null && bot.DeploymentPlatform == ended.Platform
                    && (bot.DeploymentIdentifier is null || bot.DeploymentIdentifier == ended.Identifier);
                if (ours && !BotStatus.IsTerminal(bot!.Status))
                {
                    var neverStarted = bot.Status is BotStatus.Queued or BotStatus.PickupDelayed;
                    var message = neverStarted
                        ? $"The bot process on {ended.Platform} ended ({ended.Detail}) before the bot started."
                        : $"The bot process on {ended.Platform} ended ({ended.Detail}) without reporting an end.";
                    await statuses.ChangeStatusAsync(ended.BotId, BotStatus.Failed,
                        neverStarted ? BotErrorCode.DeploymentFailed : BotErrorCode.InternalError, message, CancellationToken.None);
                    LogCrashed(logger, ended.BotId, ended.Platform, ended.Detail);
                }
            }
        }
        catch (Exception ex)
        {
            LogLoopFailed(logger, "exit of " + ended.BotId, ex.Message);
        }

        SignalCapacityFreed();
    }

    private static async Task Delay(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    [LoggerMessage(EventId = 4010, Level = LogLevel.Warning, Message = "Platform {Platform} in PLATFORM_PRIORITY is skipped: {Reason}")]
    private static partial void LogPlatformSkipped(ILogger logger, string platform, string reason);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Warning, Message = "No deployment platform can take bots (see PLATFORM_PRIORITY and the *_BOT_LIMIT settings): bots will wait and fail with PICKUP_TIMEOUT")]
    private static partial void LogNoPlatform(ILogger logger);

    [LoggerMessage(EventId = 4012, Level = LogLevel.Information, Message = "Bot {BotId}: every platform is full; waiting in the global queue")]
    private static partial void LogQueued(ILogger logger, string botId);

    [LoggerMessage(EventId = 4013, Level = LogLevel.Warning, Message = "Bot {BotId}: failed with PICKUP_TIMEOUT")]
    private static partial void LogPickupTimeout(ILogger logger, string botId);

    [LoggerMessage(EventId = 4014, Level = LogLevel.Warning, Message = "Bot {BotId}: its {Platform} resource ended ({Detail}) before the bot did; failed")]
    private static partial void LogCrashed(ILogger logger, string botId, string platform, string detail);

    [LoggerMessage(EventId = 4015, Level = LogLevel.Error, Message = "Orchestrator {Step} failed: {Error}")]
    private static partial void LogLoopFailed(ILogger logger, string step, string error);

    [LoggerMessage(EventId = 4016, Level = LogLevel.Information, Message = "Health check released {Count} platform resource(s)")]
    private static partial void LogFreed(ILogger logger, int count);
}
