using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Parley.Api.Http;
using Parley.Core.Bots;
using Parley.Core.Locks;
using Parley.Core.Queues;
using Parley.Data;
using Parley.Data.Outbox;
using Parley.Data.Queues;

namespace Parley.Api.Bots;

/// <summary>
/// Creates bots: validation, the duplicate rules (`allow_multiple_bots=false`, `deduplication_key`) under a
/// lock, and one transaction that writes the bot, its first history row and its hand-off to the queue: the
/// queue message itself for the embedded queue, else an outbox row that the dispatcher publishes (SQS).
/// Nothing a client submitted is lost between the 201 and the queue.
/// </summary>
public sealed class BotCreator(
    ParleyDbContextFactory databases,
    BotRequestValidator validator,
    IDistributedLock locks,
    OutboxSignals outbox,
    IBotJobQueue queue,
    TimeProvider time)
{
    /// <summary>API.md: a second bot for the same meeting within 5 minutes is a duplicate.</summary>
    public static readonly TimeSpan DuplicateWindow = TimeSpan.FromMinutes(5);

    private static readonly TimeSpan LockTimeToLive = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(10);

    public async Task<(Bot? Bot, ApiProblem? Error)> CreateAsync(string teamId, CreateBotRequest request, string rawBody, string? id, string? eventId, CancellationToken cancellationToken)
    {
        var (valid, error) = validator.Validate(request);
        if (valid is null)
        {
            return (null, error);
        }

        var locksHeld = new List<ILockHandle>();
        try
        {
            // One lock per rule, taken in a fixed order so that two creates cannot deadlock.
            if (!valid.AllowMultipleBots)
            {
                var handle = await locks.TryAcquireAsync($"bots:meeting:{teamId}:{valid.MeetingUrl.Normalized}", LockTimeToLive, LockWait, cancellationToken);
                if (handle is null)
                {
                    return (null, Busy());
                }

                locksHeld.Add(handle);
            }

            if (valid.DeduplicationKey is { } dedupKey)
            {
                var handle = await locks.TryAcquireAsync($"bots:dedup:{teamId}:{dedupKey}", LockTimeToLive, LockWait, cancellationToken);
                if (handle is null)
                {
                    return (null, Busy());
                }

                locksHeld.Add(handle);
            }

            await using var db = databases.CreateDbContext();
            var now = time.GetUtcNow().UtcDateTime;
            if (!valid.AllowMultipleBots)
            {
                var since = now - DuplicateWindow;
                var normalized = valid.MeetingUrl.Normalized;
                var existing = await db.Bots.AsNoTracking()
                    .Where(b => b.TeamId == teamId && b.NormalizedMeetingUrl == normalized && b.CreatedAt >= since
                        && b.Status != BotStatus.Completed && b.Status != BotStatus.Failed)
                    .Select(b => b.Id).FirstOrDefaultAsync(cancellationToken);
                if (existing is not null)
                {
                    return (null, ApiError.Conflict("BOT_ALREADY_EXISTS", "Bot already exists",
                        $"Bot {existing} is already in this meeting; send allow_multiple_bots=true to add another."));
                }
            }

            if (valid.DeduplicationKey is { } key)
            {
                var existing = await db.Bots.AsNoTracking()
                    .Where(b => b.TeamId == teamId && b.DeduplicationKey == key && b.Status != BotStatus.Completed && b.Status != BotStatus.Failed)
                    .Select(b => b.Id).FirstOrDefaultAsync(cancellationToken);
                if (existing is not null)
                {
                    return (null, ApiError.Conflict("BOT_ALREADY_EXISTS", "Bot already exists",
                        $"Bot {existing} with this deduplication_key has not ended yet."));
                }
            }

            var bot = new Bot
            {
                Id = id ?? Guid.CreateVersion7().ToString(),
                TeamId = teamId,
                BotName = request.BotName!.Trim(),
                MeetingUrl = valid.MeetingUrl.Original,
                NormalizedMeetingUrl = valid.MeetingUrl.Normalized,
                MeetingPlatform = valid.MeetingUrl.Platform,
                RecordingMode = valid.RecordingMode,
                Status = BotStatus.Queued,
                CreatedAt = now,
                UpdatedAt = now,
                DeduplicationKey = valid.DeduplicationKey,
                CreateBody = rawBody,
                Extra = valid.Extra,
                EventId = eventId,
            };
            bot.StatusHistory.Add(new BotStatusChange { BotId = bot.Id, Code = BotStatus.Queued, CreatedAt = now });
            db.Bots.Add(bot);
            var job = new BotJob(bot.Id, teamId, bot.MeetingPlatform, now);
            var embedded = queue as EmbeddedBotJobQueue;
            if (embedded is not null)
            {
                embedded.Stage(db, job);
            }
            else
            {
                db.Outbox.Add(OutboxSignals.BotJobMessage(job, now));
            }

            await db.SaveChangesAsync(cancellationToken);
            if (embedded is not null)
            {
                embedded.Notify();
            }
            else
            {
                outbox.Notify();
            }
            Operations.BotMetrics.BotsCreated.WithLabels(bot.MeetingPlatform).Inc();
            return (bot, null);
        }
        finally
        {
            for (var i = locksHeld.Count - 1; i >= 0; i--)
            {
                await locksHeld[i].DisposeAsync();
            }
        }
    }

    private static ApiProblem Busy() =>
        ApiError.Create(503, "LOCK_TIMEOUT", "Busy", "Another request for the same meeting is being processed; retry shortly.");
}

/// <summary>Builds outbox rows and wakes this process's dispatcher after a commit.</summary>
public sealed class OutboxSignals : WakeSignal
{
    public const string BotJobKind = "bot_job";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static OutboxMessage BotJobMessage(BotJob job, DateTime now) =>
        new() { Kind = BotJobKind, Payload = JsonSerializer.Serialize(job, Json), CreatedAt = now, AvailableAt = now };

    public static BotJob ReadBotJob(OutboxMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return JsonSerializer.Deserialize<BotJob>(message.Payload, Json)!;
    }
}
