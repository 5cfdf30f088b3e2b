namespace Parley.Core.Queues;

/// <summary>
/// A request to run one bot. Consumers are idempotent on <see cref="BotId"/>: queues deliver at least once.
/// </summary>
public sealed record BotJob(string BotId, string TeamId, string MeetingPlatform, DateTime EnqueuedAt);

/// <summary>A job taken from the queue; invisible to other consumers until its visibility timeout passes.</summary>
public sealed record ReceivedBotJob(BotJob Job, string ReceiptHandle, int ReceiveCount, string QueueName);

/// <summary>Messages waiting, being worked on, and given up on.</summary>
public sealed record QueueDepth(long Visible, long InFlight, long DeadLettered);

/// <summary>
/// The bot job queue: an embedded database table by default, SQS when configured (one queue per meeting
/// platform family, as Meeting BaaS does). A message that is received more than the configured number of
/// times without being deleted is dead-lettered.
/// </summary>
public interface IBotJobQueue
{
    /// <summary>"embedded" or "sqs".</summary>
    string Kind { get; }

    Task EnqueueAsync(BotJob job, CancellationToken cancellationToken);

    /// <summary>Waits up to <paramref name="waitTime"/> for at least one message (long polling).</summary>
    Task<IReadOnlyList<ReceivedBotJob>> ReceiveAsync(int maxMessages, TimeSpan visibilityTimeout, TimeSpan waitTime, CancellationToken cancellationToken);

    /// <summary>Removes a message for good: call only when the job reached a final state.</summary>
    Task DeleteAsync(ReceivedBotJob message, CancellationToken cancellationToken);

    /// <summary>Makes a message visible again after <paramref name="delay"/> (for example: no capacity now).</summary>
    Task ReleaseAsync(ReceivedBotJob message, TimeSpan delay, CancellationToken cancellationToken);

    Task<QueueDepth> GetDepthAsync(CancellationToken cancellationToken);
}
