using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Parley.Core.Queues;

namespace Parley.Data.Queues;

/// <summary>
/// The queue of embedded mode: a database table with SQS semantics (visibility timeout, receive count,
/// dead-lettering), so that nothing but the database is needed and a restart loses nothing. Receiving
/// claims a row with a conditional update on its receipt handle, which makes concurrent consumers (several
/// orchestrators on PostgreSQL) safe without row locks.
/// </summary>
public sealed class EmbeddedBotJobQueue(ParleyDbContextFactory databases, TimeProvider time, int maxReceives) : IBotJobQueue
{
    public const string QueueName = "bots";

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly SemaphoreSlim _arrived = new(0, int.MaxValue);

    public string Kind => "embedded";

    public async Task EnqueueAsync(BotJob job, CancellationToken cancellationToken)
    {
        await using var db = databases.CreateDbContext();
        Stage(db, job);
        await db.SaveChangesAsync(cancellationToken);
        Notify();
    }

    /// <summary>
    /// Adds the message to the caller's unit of work. The embedded queue lives in the same database as the
    /// bots, so a bot and its queue message can commit in one transaction and need no outbox hop: that
    /// halves the writes per created bot. Call <see cref="Notify"/> after the commit.
    /// </summary>
    public void Stage(ParleyDbContext db, BotJob job)
    {
        ArgumentNullException.ThrowIfNull(db);
        var now = time.GetUtcNow().UtcDateTime;
        db.QueueMessages.Add(new QueueMessage { Queue = QueueName, Body = JsonSerializer.Serialize(job, Json), EnqueuedAt = now, VisibleAt = now });
    }

    /// <summary>Wakes receivers in this process.</summary>
    public void Notify() => _arrived.Release();

    public async Task<IReadOnlyList<ReceivedBotJob>> ReceiveAsync(int maxMessages, TimeSpan visibilityTimeout, TimeSpan waitTime, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessages, 1);
        var deadline = time.GetUtcNow() + waitTime;
        while (true)
        {
            var received = await TryReceiveAsync(maxMessages, visibilityTimeout, cancellationToken);
            var remaining = deadline - time.GetUtcNow();
            if (received.Count > 0 || remaining <= TimeSpan.Zero)
            {
                return received;
            }

            // Woken at once by an enqueue in this process; other processes' messages are seen at the next poll.
            await _arrived.WaitAsync(remaining < PollInterval ? remaining : PollInterval, cancellationToken);
        }
    }

    private async Task<List<ReceivedBotJob>> TryReceiveAsync(int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = databases.CreateDbContext();
        var candidates = await db.QueueMessages.AsNoTracking()
            .Where(m => m.Queue == QueueName && m.DeadLetteredAt == null && m.VisibleAt <= now)
            .OrderBy(m => m.Id)
            .Take(maxMessages * 2)
            .Select(m => new { m.Id, m.ReceiptHandle, m.ReceiveCount, m.Body, m.VisibleAt })
            .ToListAsync(cancellationToken);

        var result = new List<ReceivedBotJob>();
        foreach (var candidate in candidates)
        {
            if (result.Count == maxMessages)
            {
                break;
            }

            var previous = candidate.ReceiptHandle;
            if (candidate.ReceiveCount >= maxReceives)
            {
                // Received too often without being deleted: park it where an operator can look at it.
                await db.QueueMessages
                    .Where(m => m.Id == candidate.Id && m.ReceiptHandle == previous && m.DeadLetteredAt == null)
                    .ExecuteUpdateAsync(s => s.SetProperty(m => m.DeadLetteredAt, now), cancellationToken);
                continue;
            }

            var handle = $"{candidate.Id}:{Guid.NewGuid():N}";
            var claimed = await db.QueueMessages
                .Where(m => m.Id == candidate.Id && m.ReceiptHandle == previous && m.VisibleAt <= now && m.DeadLetteredAt == null)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(m => m.ReceiptHandle, handle)
                    .SetProperty(m => m.VisibleAt, now + visibilityTimeout)
                    .SetProperty(m => m.ReceiveCount, m => m.ReceiveCount + 1), cancellationToken);
            if (claimed == 1)
            {
                var job = JsonSerializer.Deserialize<BotJob>(candidate.Body, Json)!;
                result.Add(new ReceivedBotJob(job, handle, candidate.ReceiveCount + 1, QueueName));
            }
        }

        return result;
    }

    public async Task DeleteAsync(ReceivedBotJob message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        await using var db = databases.CreateDbContext();
        var id = IdOf(message.ReceiptHandle);
        await db.QueueMessages.Where(m => m.Id == id && m.ReceiptHandle == message.ReceiptHandle).ExecuteDeleteAsync(cancellationToken);
    }

    public async Task ReleaseAsync(ReceivedBotJob message, TimeSpan delay, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var visibleAt = time.GetUtcNow().UtcDateTime + delay;
        await using var db = databases.CreateDbContext();
        var id = IdOf(message.ReceiptHandle);
        await db.QueueMessages.Where(m => m.Id == id && m.ReceiptHandle == message.ReceiptHandle)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.VisibleAt, visibleAt), cancellationToken);
    }

    public async Task<QueueDepth> GetDepthAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = databases.CreateDbContext();
        var live = db.QueueMessages.Where(m => m.Queue == QueueName && m.DeadLetteredAt == null);
        var visible = await live.LongCountAsync(m => m.VisibleAt <= now, cancellationToken);
        var inFlight = await live.LongCountAsync(m => m.VisibleAt > now, cancellationToken);
        var dead = await db.QueueMessages.LongCountAsync(m => m.Queue == QueueName && m.DeadLetteredAt != null, cancellationToken);
        return new QueueDepth(visible, inFlight, dead);
    }

    private static long IdOf(string receiptHandle)
    {
        var colon = receiptHandle.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && long.TryParse(receiptHandle.AsSpan(0, colon), out var id) ? id : -1;
    }
}
