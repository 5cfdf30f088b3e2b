using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Parley.Api.Webhooks;
using Parley.Core.Bots;
using Parley.Core.Webhooks;
using Parley.Data;

namespace Parley.Api.Bots;

/// <summary>
/// Applies status changes to bots: the transition rules of <see cref="BotStatus"/>, the history row and the
/// webhooks, in one transaction. Concurrent reports for one bot are serialised by the bot's version column.
/// </summary>
public sealed partial class BotLifecycle(ParleyDbContextFactory databases, WebhookPublisher webhooks, TimeProvider time, ILogger<BotLifecycle> logger)
{
    private const int MaxConflictRetries = 5;

    public async Task<(StatusChangeResult Result, Bot? Bot)> ChangeStatusAsync(
        string botId, string code, string? errorCode, string? errorMessage, CancellationToken cancellationToken, Action<Bot>? alsoApply = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            await using var db = databases.CreateDbContext();
            var bot = await db.Bots.Include(b => b.Artifacts).FirstOrDefaultAsync(b => b.Id == botId, cancellationToken);
            if (bot is null)
            {
                return (StatusChangeResult.NotAllowed, null);
            }

            var now = time.GetUtcNow().UtcDateTime;
            var from = bot.Status;
            var result = bot.ChangeStatus(code, now, errorCode, errorMessage);
            if (result == StatusChangeResult.NotAllowed)
            {
                LogRefused(logger, botId, from, code);
            }

            if (result != StatusChangeResult.Applied)
            {
                return (result, bot);
            }

            alsoApply?.Invoke(bot);
            var change = bot.StatusHistory[^1];
            await webhooks.AddAsync(db, bot, WebhookEvent.StatusChange, webhooks.StatusChangeData(bot, change), cancellationToken);
            if (webhooks.FinalEvent(bot) is { } final)
            {
                await webhooks.AddAsync(db, bot, final.Event, final.Data, cancellationToken);
            }

            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return (result, bot);
            }
            catch (DbUpdateConcurrencyException) when (attempt < MaxConflictRetries)
            {
                // Another report changed the bot first; re-read and decide again.
            }
        }
    }

    [LoggerMessage(EventId = 3000, Level = LogLevel.Warning, Message = "Bot {BotId}: refused status change {From} -> {To}")]
    private static partial void LogRefused(ILogger logger, string botId, string from, string to);
}
