namespace Parley.Data.Queues;

/// <summary>
/// A message of the embedded queue, modelled on SQS: invisible for a visibility timeout once received,
/// visible again unless deleted, dead-lettered after too many receives.
/// </summary>
public sealed class QueueMessage
{
    public long Id { get; init; }

    public required string Queue { get; init; }

    public required string Body { get; init; }

    public DateTime EnqueuedAt { get; init; }

    public DateTime VisibleAt { get; set; }

    public int ReceiveCount { get; set; }

    /// <summary>Changes on every receive, so a consumer whose visibility expired cannot delete a message another consumer now holds.</summary>
    public string? ReceiptHandle { get; set; }

    public DateTime? DeadLetteredAt { get; set; }
}
