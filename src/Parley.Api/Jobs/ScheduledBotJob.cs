using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Parley.Api.Bots;
using Parley.Api.Http;
using Parley.Api.ScheduledBots;
using Parley.Core.Bots;
using Parley.Data;

namespace Parley.Api.Jobs;

/// <summary>
/// scheduled-bot-job: turns scheduled bots into queued bots (same id) PARLEY_SCHEDULED_BOT_LEAD_SECONDS before
/// `join_at`. It looks every second and is woken by new scheduled bots, so a bot is handed over within a
/// second or two of its due time rather than at the next minute. A hand-over is claimed by setting
/// `dispatched_at` conditionally; a claim that never produced a bot (crash) is taken again after a minute.
/// </summary>
public sealed partial class ScheduledBotJob(
    ParleyDbContextFactory databases,
    BotCreator creator,
    ScheduledBotSignals signals,
    ApiOptions options,
    TimeProvider time,
    ILogger<ScheduledBotJob> logger) : IParleyJob, IWakeableJob
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan StaleClaim = TimeSpan.FromMinutes(1);

    public string Name => "scheduled-bot-job";

    public bool Enabled => true;

    public DateTime NextRun(DateTime now, DateTime? lastRun) => lastRun is null ? now : lastRun.Value + Interval;

    public async Task WaitAsync(TimeSpan delay, CancellationToken cancellationToken) => await signals.WaitAsync(delay, cancellationToken);

    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var dueBy = now + TimeSpan.FromSeconds(options.ScheduledBotLeadSeconds);
        var staleBefore = now - StaleClaim;
        await using var db = databases.CreateDbContext();
        var due = await db.ScheduledBots.AsNoTracking()
            .Where(b => b.Status == ScheduledBotStatus.Scheduled && b.JoinAt <= dueBy && (b.DispatchedAt == null || b.DispatchedAt < staleBefore))
            .OrderBy(b => b.JoinAt).Take(100).ToListAsync(cancellationToken);

        var handed = 0;
        foreach (var scheduled in due)
        {
            var previous = scheduled.DispatchedAt;
            var claimed = await db.ScheduledBots
                .Where(b => b.Id == scheduled.Id && b.Status == ScheduledBotStatus.Scheduled && b.DispatchedAt == previous)
                .ExecuteUpdateAsync(s => s.SetProperty(b => b.DispatchedAt, now), cancellationToken);
            if (claimed == 1 && await HandOverAsync(db, scheduled, cancellationToken))
            {
                handed++;
            }
        }

        return handed;
    }

    private async Task<bool> HandOverAsync(ParleyDbContext db, ScheduledBot scheduled, CancellationToken cancellationToken)
    {
        string status;
        string? error = null;
        if (await db.Teams.AnyAsync(t => t.Id == scheduled.TeamId && t.DeletedAt != null, cancellationToken))
        {
            // A soft-deleted team's keys no longer work; its scheduled bots must not start meetings either.
            status = ScheduledBotStatus.Cancelled;
            error = "The team was deleted before join_at.";
        }
        else if (await db.Bots.AnyAsync(b => b.Id == scheduled.Id, cancellationToken))
        {
            // A previous claim created the bot and died before recording it: the hand-over happened.
            status = ScheduledBotStatus.Completed;
        }
        else
        {
            var request = JsonSerializer.Deserialize<CreateBotRequest>(scheduled.CreateBody, ApiJson.Options)!;
            var (bot, problem) = await creator.CreateAsync(scheduled.TeamId, request, scheduled.CreateBody, scheduled.Id, null, cancellationToken);
            status = bot is not null ? ScheduledBotStatus.Completed : ScheduledBotStatus.Failed;
            error = problem?.Envelope.Message;
        }

        var now = time.GetUtcNow().UtcDateTime;
        await db.ScheduledBots.Where(b => b.Id == scheduled.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.Status, status).SetProperty(b => b.ErrorMessage, error).SetProperty(b => b.UpdatedAt, now), cancellationToken);
        LogHandedOver(logger, scheduled.Id, status, scheduled.JoinAt);
        return status == ScheduledBotStatus.Completed;
    }

    [LoggerMessage(EventId = 4100, Level = LogLevel.Information, Message = "Scheduled bot {BotId} (join_at {JoinAt:o}): {Status}")]
    private static partial void LogHandedOver(ILogger logger, string botId, string status, DateTime joinAt);
}
