using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Parley.Api.Bots;
using Parley.Api.Internal;
using Parley.Api.Webhooks;
using Parley.Core.Bots;
using Parley.Core.Configuration;
using Parley.Core.Storage;
using Parley.Data;

namespace Parley.Api.Jobs;

/// <summary>
/// fallback-upload-job: uploads the recordings bots left in PARLEY_FALLBACK_STORAGE_DIR when artifact storage was
/// down (<see cref="FallbackStore"/>; the bot side is NativeRecordingDelivery). For each complete entry of an
/// ended bot it claims the entry with one rename (so two replicas, or a CronJob and the jobs role, never upload the
/// same entry twice at once), stores every file under bots/{bot_id}/, registers the artifacts, and deletes the
/// entry. A bot that ended <c>completed</c> then has its pending note removed from error_message and its
/// bot.completed sent again, now with the signed links: a client that waited for the links gets them the same
/// way it got the first event. A failed bot gets its files registered but no second bot.failed.
/// <para>
/// Waits for the bot to end: until then its own terminal report may be building bot.completed, and artifacts
/// registered in between would be missing from it with nothing to send them later. Re-running is harmless:
/// storage puts overwrite, a registration that exists is not added twice, and a run that dies with an entry
/// claimed leaves it to be put back after PARLEY_FALLBACK_CLAIM_TIMEOUT_SECONDS.
/// </para>
/// </summary>
public sealed partial class FallbackUploadJob(
    ParleyDbContextFactory databases,
    IArtifactStore storage,
    WebhookPublisher webhooks,
    FallbackStorageOptions options,
    ServerOptions server,
    TimeProvider time,
    ILogger<FallbackUploadJob> logger) : IParleyJob
{
    public string Name => "fallback-upload-job";

    public bool Enabled => true;

    public DateTime NextRun(DateTime now, DateTime? lastRun) => lastRun is null ? now : lastRun.Value + TimeSpan.FromSeconds(options.UploadIntervalSeconds);

    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var store = new FallbackStore(options.ResolveDirectory(server.DataDirectory), time);
        var reclaimed = store.ReclaimStale(TimeSpan.FromSeconds(options.ClaimTimeoutSeconds));
        if (reclaimed > 0)
        {
            LogReclaimed(logger, reclaimed, store.Root);
        }

        var handled = 0;
        foreach (var entry in store.ListReady())
        {
            if (entry.Manifest is not { } manifest)
            {
                LogIncomplete(logger, entry.Name, entry.Problem ?? "incomplete");
                continue;
            }

            var state = await BotStateAsync(manifest.BotId, cancellationToken);
            if (state == BotState.Running)
            {
                continue;
            }

            if (store.TryClaim(entry) is not { } claim)
            {
                continue;
            }

            if (claim.Manifest is null)
            {
                claim.Release();
                continue;
            }

            if (state is BotState.Gone or BotState.DataDeleted)
            {
                // Nobody may have these any more: the bot or its team was deleted, or delete-data / retention ran.
                LogDiscarded(logger, entry.Name, manifest.BotId, state.ToString());
                claim.Complete();
                handled++;
                continue;
            }

            try
            {
                await UploadAsync(claim, claim.Manifest, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Storage is still down: put the entry back and stop here; the next run tries again. The run is
                // reported failed so parley_job_runs_total{result="failed"} shows it.
                claim.Release();
                LogStillDown(logger, entry.Name, ex.Message);
                throw;
            }
            catch (OperationCanceledException)
            {
                claim.Release();
                throw;
            }

            claim.Complete();
            handled++;
        }

        return handled;
    }

    private async Task<BotState> BotStateAsync(string botId, CancellationToken cancellationToken)
    {
        await using var db = databases.CreateDbContext();
        var bot = await db.Bots.AsNoTracking().Where(b => b.Id == botId).Select(b => new { b.Status, b.ArtifactsDeleted }).FirstOrDefaultAsync(cancellationToken);
        return bot switch
        {
            null => BotState.Gone,
            { ArtifactsDeleted: true } => BotState.DataDeleted,
            _ when !BotStatus.IsTerminal(bot.Status) => BotState.Running,
            _ => BotState.Ended,
        };
    }

    private async Task UploadAsync(FallbackClaim claim, FallbackManifest manifest, CancellationToken cancellationToken)
    {
        var botId = manifest.BotId;
        var stored = new List<BotArtifact>();
        var now = time.GetUtcNow().UtcDateTime;
        foreach (var file in manifest.Files)
        {
            var kind = InternalBotEndpoints.ArtifactKinds.Contains(file.Kind) ? file.Kind : "track";
            var key = ArtifactKeys.Prefix(botId) + file.Name;
            await using (var content = File.OpenRead(claim.FileOf(file)))
            {
                await storage.PutAsync(kind == "log" ? StorageBucket.Logs : StorageBucket.Artifacts, key, content, file.ContentType, cancellationToken);
            }

            stored.Add(new BotArtifact { BotId = botId, Kind = kind, StorageKey = key, ContentType = file.ContentType, SizeBytes = file.SizeBytes, CreatedAt = now });
        }

        await using var db = databases.CreateDbContext();
        var bot = await db.Bots.Include(b => b.Artifacts).Include(b => b.StatusHistory).AsSplitQuery().FirstOrDefaultAsync(b => b.Id == botId, cancellationToken);
        if (bot is null)
        {
            return;
        }

        var known = bot.Artifacts.Select(a => a.StorageKey).ToHashSet(StringComparer.Ordinal);
        foreach (var artifact in stored.Where(a => known.Add(a.StorageKey)))
        {
            // Added to the bot, not only to the set: the bot.completed built below reads bot.Artifacts.
            bot.Artifacts.Add(artifact);
        }

        if (bot.ErrorMessage?.Contains(FallbackStore.PendingNote, StringComparison.Ordinal) == true)
        {
            var rest = bot.ErrorMessage.Replace(FallbackStore.PendingNote, "", StringComparison.Ordinal).Trim();
            bot.ErrorMessage = rest.Length == 0 ? null : rest;
        }

        if (bot.Status == BotStatus.Completed && webhooks.FinalEvent(bot) is { } final)
        {
            await webhooks.AddAsync(db, bot, final.Event, final.Data, cancellationToken);
        }

        await db.SaveChangesAsync(cancellationToken);
        LogUploaded(logger, claim.EntryName, botId, stored.Count);
    }

    private enum BotState
    {
        Running,
        Ended,
        Gone,
        DataDeleted,
    }

    [LoggerMessage(EventId = 4500, Level = LogLevel.Information, Message = "Fallback entry {Entry}: {Count} file(s) of bot {BotId} stored and registered")]
    private static partial void LogUploaded(ILogger logger, string entry, string botId, int count);

    [LoggerMessage(EventId = 4501, Level = LogLevel.Information, Message = "Fallback entry {Entry} not uploaded yet: {Problem}")]
    private static partial void LogIncomplete(ILogger logger, string entry, string problem);

    [LoggerMessage(EventId = 4502, Level = LogLevel.Warning, Message = "Fallback entry {Entry} put back, storage still failing: {Reason}")]
    private static partial void LogStillDown(ILogger logger, string entry, string reason);

    [LoggerMessage(EventId = 4503, Level = LogLevel.Warning, Message = "Fallback entry {Entry} of bot {BotId} discarded ({State})")]
    private static partial void LogDiscarded(ILogger logger, string entry, string botId, string state);

    [LoggerMessage(EventId = 4504, Level = LogLevel.Warning, Message = "{Count} fallback upload(s) claimed by a run that did not finish put back in {Root}")]
    private static partial void LogReclaimed(ILogger logger, int count, string root);
}
