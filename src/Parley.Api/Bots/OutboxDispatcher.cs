using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Parley.Core.Queues;
using Parley.Data;

namespace Parley.Api.Bots;

/// <summary>
/// Publishes committed outbox rows to the bot job queue. A row is claimed by moving its availability time
/// forward with a conditional update, so several dispatchers (api replicas) share the work; a dispatcher
/// that dies after claiming leaves the row to be claimed again when the claim lapses. Queues are
/// at-least-once and consumers idempotent on bot id, so a rare double publish is harmless.
/// </summary>
public sealed partial class OutboxDispatcher(
    ParleyDbContextFactory databases,
    IBotJobQueue queue,
    OutboxSignals signals,
    TimeProvider time,
    ILogger<OutboxDispatcher> logger) : BackgroundService
{
    private static readonly TimeSpan ClaimFor = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            int published;
            try
            {
                published = await DispatchBatchAsync(50, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogBatchFailed(logger, ex.Message);
                published = 0;
            }

            if (published == 0)
            {
                try
                {
                    await signals.WaitAsync(IdlePoll, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Publishes up to <paramref name="max"/> due rows; returns how many were published.</summary>
    public async Task<int> DispatchBatchAsync(int max, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = databases.CreateDbContext();
        var due = await db.Outbox.AsNoTracking()
            .Where(m => m.PublishedAt == null && m.AvailableAt <= now)
            .OrderBy(m => m.Id).Take(max).ToListAsync(cancellationToken);
        var published = 0;
        foreach (var message in due)
        {
            var claimedUntil = now + ClaimFor;
            var previous = message.AvailableAt;
            var claimed = await db.Outbox.Where(m => m.Id == message.Id && m.PublishedAt == null && m.AvailableAt == previous)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.AvailableAt, claimedUntil), cancellationToken);
            if (claimed == 0)
            {
                continue;
            }

            try
            {
                if (message.Kind == OutboxSignals.BotJobKind)
                {
                    await queue.EnqueueAsync(OutboxSignals.ReadBotJob(message), cancellationToken);
                }

                var at = time.GetUtcNow().UtcDateTime;
                await db.Outbox.Where(m => m.Id == message.Id)
                    .ExecuteUpdateAsync(s => s.SetProperty(m => m.PublishedAt, at).SetProperty(m => m.Attempts, m => m.Attempts + 1), cancellationToken);
                published++;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Back off exponentially up to 5 minutes; the row stays until the queue takes it.
                var attempts = message.Attempts + 1;
                var retryAt = time.GetUtcNow().UtcDateTime + TimeSpan.FromSeconds(Math.Min(300, Math.Pow(2, attempts)));
                var error = ex.Message.Length > 2000 ? ex.Message[..2000] : ex.Message;
                await db.Outbox.Where(m => m.Id == message.Id)
                    .ExecuteUpdateAsync(s => s.SetProperty(m => m.AvailableAt, retryAt).SetProperty(m => m.Attempts, attempts).SetProperty(m => m.LastError, error), CancellationToken.None);
                LogPublishFailed(logger, message.Id, attempts, ex.Message);
            }
        }

        return published;
    }

    [LoggerMessage(EventId = 3100, Level = LogLevel.Warning, Message = "Outbox message {Id}: publish attempt {Attempt} failed: {Error}")]
    private static partial void LogPublishFailed(ILogger logger, long id, int attempt, string error);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Error, Message = "Outbox dispatch failed: {Error}")]
    private static partial void LogBatchFailed(ILogger logger, string error);
}
