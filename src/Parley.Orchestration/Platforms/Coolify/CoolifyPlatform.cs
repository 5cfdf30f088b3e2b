using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Parley.Core.Bots;
using Parley.Core.Locks;

namespace Parley.Orchestration.Platforms.Coolify;

/// <summary>
/// Meeboter's Coolify pool: bots run in pre-created slot applications. Deploying takes the least recently
/// used IDLE slot (DEPLOYING), gives it the bot's environment plus POOL_SLOT_UUID, starts it (BUSY); the slot
/// returns to IDLE when the bot is cancelled or its container exits. Slot states live in Coolify (see
/// <see cref="SlotRecord"/>) and every change of state that picks a slot runs under one distributed lock,
/// so replicas never hand a slot to two bots. A recovery pass every COOLIFY_RECOVERY_INTERVAL_MS (run from
/// <see cref="ListAsync"/>, which reconciliation calls) repairs or replaces ERROR slots.
/// </summary>
public sealed partial class CoolifyPlatform(
    CoolifyApiClient api, CoolifyOptions options, int limit, TimeSpan deploymentTimeout, IDistributedLock locks, TimeProvider time, ILogger<CoolifyPlatform> logger)
    : IBotPlatform, IPoolStatsSource, IDisposable
{
    public const string PlatformName = "coolify";

    private const string LockKey = "coolify-pool";

    /// <summary>A slot that failed this many recoveries in a row is deleted and replaced.</summary>
    private const int MaxFailures = 3;

    private static readonly TimeSpan LockTimeToLive = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(60);

    /// <summary>Coolify reports a freshly started container as exited until it runs; not an end before this.</summary>
    private static readonly TimeSpan ExitGrace = TimeSpan.FromSeconds(60);

    private DateTimeOffset _nextRecovery = time.GetUtcNow() + TimeSpan.FromMilliseconds(options.RecoveryIntervalMs);

    public string Name => PlatformName;

    public event Action<PlatformResourceEnded>? ResourceEnded;

    public async Task<string> DeployAsync(BotDeploymentRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var slot = await TakeSlotAsync(request.BotId, cancellationToken);
        try
        {
            var environment = new Dictionary<string, string>(request.Environment, StringComparer.Ordinal) { ["POOL_SLOT_UUID"] = slot };
            await api.SetEnvironmentAsync(slot, environment, cancellationToken);
            await api.StartAsync(slot, cancellationToken);
            var now = time.GetUtcNow();
            await api.SetRecordAsync(slot, new SlotRecord(SlotState.Busy, request.BotId, now, now), cancellationToken);
            LogDeployed(logger, request.BotId, slot);
            return slot;
        }
        catch (Exception ex)
        {
            LogSlotFailed(logger, slot, ex.Message);
            await MarkErrorAsync(slot, 1);
            throw;
        }
    }

    /// <summary>Under the pool lock: LRU idle slot → DEPLOYING for this bot; creates one when none is idle and the pool is below the limit.</summary>
    private async Task<string> TakeSlotAsync(string botId, CancellationToken cancellationToken)
    {
        await using var handle = await locks.TryAcquireAsync(LockKey, LockTimeToLive, LockWait, cancellationToken)
            ?? throw new TimeoutException("The Coolify pool lock is busy.");
        var slots = await api.ListSlotsAsync(cancellationToken);
        var now = time.GetUtcNow();
        var deploying = new SlotRecord(SlotState.Deploying, botId, now, now);
        var idle = slots.Where(s => s.Record.State == SlotState.Idle).OrderBy(s => s.Record.LastUsedAt).ThenBy(s => s.Uuid, StringComparer.Ordinal).ToList();
        string uuid;
        var total = slots.Count;
        if (idle.Count > 0)
        {
            uuid = idle[0].Uuid;
            await api.SetRecordAsync(uuid, deploying with { LastUsedAt = idle[0].Record.LastUsedAt }, cancellationToken);
        }
        else if (total < limit)
        {
            uuid = await CreateSlotAsync(deploying, cancellationToken);
            total++;
        }
        else
        {
            throw new InvalidOperationException($"The Coolify pool has no idle slot ({total} slots, limit {limit}).");
        }

        // Keeps one idle slot ready while below the limit, so the next bot does not wait for a creation.
        if (idle.Count <= 1 && total < limit)
        {
            await CreateSlotAsync(new SlotRecord(SlotState.Idle, null, now, now), cancellationToken);
        }

        return uuid;
    }

    private async Task<string> CreateSlotAsync(SlotRecord record, CancellationToken cancellationToken)
    {
        var name = CoolifyApiClient.SlotNamePrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5));
        var uuid = await api.CreateSlotAsync(name, record, cancellationToken);
        LogCreated(logger, name, uuid);
        return uuid;
    }

    public async Task CancelAsync(string botId, string identifier, CancellationToken cancellationToken)
    {
        var slots = await api.ListSlotsAsync(cancellationToken);
        // An empty identifier (a timed-out deployment) is found by the bot id; a slot already handed to
        // another bot is not touched.
        var slot = slots.FirstOrDefault(s => s.Record.BotId == botId && (identifier.Length == 0 || s.Uuid == identifier));
        if (slot is not null)
        {
            await ReleaseAsync(slot, cancellationToken);
        }
    }

    /// <summary>Stops the slot's container and puts it back as the most recently used IDLE slot.</summary>
    private async Task ReleaseAsync(CoolifySlot slot, CancellationToken cancellationToken)
    {
        try
        {
            await api.StopAsync(slot.Uuid, cancellationToken);
            var now = time.GetUtcNow();
            await api.SetRecordAsync(slot.Uuid, new SlotRecord(SlotState.Idle, null, now, now), cancellationToken);
            LogReleased(logger, slot.Record.BotId ?? "", slot.Uuid);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogSlotFailed(logger, slot.Uuid, ex.Message);
            await MarkErrorAsync(slot.Uuid, slot.Record.Failures + 1);
        }
    }

    public async Task<IReadOnlyList<PlatformResource>> ListAsync(CancellationToken cancellationToken)
    {
        if (time.GetUtcNow() >= _nextRecovery)
        {
            _nextRecovery = time.GetUtcNow() + TimeSpan.FromMilliseconds(options.RecoveryIntervalMs);
            await RecoverAsync(cancellationToken);
        }

        var slots = await api.ListSlotsAsync(cancellationToken);
        var now = time.GetUtcNow();
        var resources = new List<PlatformResource>();
        foreach (var slot in slots)
        {
            if (slot.Record.BotId is not { } botId || slot.Record.State is not (SlotState.Busy or SlotState.Deploying))
            {
                continue;
            }

            if (slot.Record.State == SlotState.Busy && now - slot.Record.Since > ExitGrace && slot.Status?.StartsWith("exited", StringComparison.Ordinal) == true)
            {
                // The bot's container ended by itself: the meeting is over (or the bot crashed, which the
                // orchestrator decides from the bot's status). The slot is free again.
                await ReleaseAsync(slot, cancellationToken);
                ResourceEnded?.Invoke(new PlatformResourceEnded(PlatformName, botId, slot.Uuid, true, "slot container " + slot.Status));
                continue;
            }

            resources.Add(new PlatformResource(botId, slot.Uuid));
        }

        return resources;
    }

    /// <summary>
    /// Recovers ERROR slots (stop, back to IDLE), replaces those that keep failing or cannot be stopped,
    /// turns DEPLOYING slots stuck past the deployment timeout (a replica died mid-deployment) into ERROR
    /// first, and keeps one idle slot while below the limit.
    /// </summary>
    /// <returns>How many slots were recovered or replaced.</returns>
    public async Task<int> RecoverAsync(CancellationToken cancellationToken)
    {
        await using var handle = await locks.TryAcquireAsync(LockKey, LockTimeToLive, LockWait, cancellationToken);
        if (handle is null)
        {
            return 0;
        }

        var repaired = 0;
        var now = time.GetUtcNow();
        var slots = (await api.ListSlotsAsync(cancellationToken)).ToList();
        var total = slots.Count;
        foreach (var slot in slots)
        {
            var stuck = slot.Record.State == SlotState.Deploying && now - slot.Record.Since > deploymentTimeout + TimeSpan.FromMinutes(1);
            if (slot.Record.State != SlotState.Error && !stuck)
            {
                continue;
            }

            var recovered = false;
            if (slot.Record.Failures < MaxFailures)
            {
                try
                {
                    await api.StopAsync(slot.Uuid, cancellationToken);
                    await api.SetRecordAsync(slot.Uuid, new SlotRecord(SlotState.Idle, null, now, slot.Record.LastUsedAt), cancellationToken);
                    recovered = true;
                    LogRecovered(logger, slot.Uuid);
                }
                catch (HttpRequestException ex)
                {
                    LogSlotFailed(logger, slot.Uuid, ex.Message);
                }
            }

            if (!recovered)
            {
                try
                {
                    await api.DeleteAsync(slot.Uuid, cancellationToken);
                    total--;
                    LogReplaced(logger, slot.Uuid);
                    if (total < limit)
                    {
                        await CreateSlotAsync(new SlotRecord(SlotState.Idle, null, now, now), cancellationToken);
                        total++;
                    }
                }
                catch (HttpRequestException ex)
                {
                    LogSlotFailed(logger, slot.Uuid, ex.Message);
                    await MarkErrorAsync(slot.Uuid, slot.Record.Failures + 1);
                    continue;
                }
            }

            repaired++;
        }

        var current = await api.ListSlotsAsync(cancellationToken);
        if (current.Count < limit && !current.Any(s => s.Record.State == SlotState.Idle))
        {
            await CreateSlotAsync(new SlotRecord(SlotState.Idle, null, now, now), cancellationToken);
        }

        return repaired;
    }

    private async Task MarkErrorAsync(string uuid, int failures)
    {
        try
        {
            var now = time.GetUtcNow();
            await api.SetRecordAsync(uuid, new SlotRecord(SlotState.Error, null, now, now, failures), CancellationToken.None);
        }
        catch (HttpRequestException ex)
        {
            // Coolify itself is unreachable: the slot keeps its last state and recovery sees it later.
            LogSlotFailed(logger, uuid, ex.Message);
        }
    }

    public async Task<PoolSlotCounts> GetAsync(CancellationToken cancellationToken) => Count(await api.ListSlotsAsync(cancellationToken));

    public static PoolSlotCounts Count(IReadOnlyList<CoolifySlot> slots)
    {
        ArgumentNullException.ThrowIfNull(slots);
        return new PoolSlotCounts(
            slots.Count,
            slots.Count(s => s.Record.State == SlotState.Idle),
            slots.Count(s => s.Record.State is SlotState.Busy or SlotState.Deploying),
            slots.Count(s => s.Record.State == SlotState.Error));
    }

    public void Dispose() => api.Dispose();


    [LoggerMessage(EventId = 4400, Level = LogLevel.Information, Message = "Bot {BotId}: started in Coolify slot {Slot}")]
    private static partial void LogDeployed(ILogger logger, string botId, string slot);

    [LoggerMessage(EventId = 4401, Level = LogLevel.Information, Message = "Coolify pool: created slot {Name} ({Slot})")]
    private static partial void LogCreated(ILogger logger, string name, string slot);

    [LoggerMessage(EventId = 4402, Level = LogLevel.Information, Message = "Bot {BotId}: Coolify slot {Slot} stopped and idle again")]
    private static partial void LogReleased(ILogger logger, string botId, string slot);

    [LoggerMessage(EventId = 4403, Level = LogLevel.Warning, Message = "Coolify slot {Slot} failed: {Error}")]
    private static partial void LogSlotFailed(ILogger logger, string slot, string error);

    [LoggerMessage(EventId = 4404, Level = LogLevel.Information, Message = "Coolify slot {Slot} recovered from ERROR")]
    private static partial void LogRecovered(ILogger logger, string slot);

    [LoggerMessage(EventId = 4405, Level = LogLevel.Warning, Message = "Coolify slot {Slot} could not be recovered; deleted and replaced")]
    private static partial void LogReplaced(ILogger logger, string slot);
}
