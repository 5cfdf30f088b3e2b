namespace Parley.Data.Outbox;

/// <summary>
/// A message committed in the same transaction as the change it announces, published afterwards by the
/// dispatcher. A process that dies between commit and publish loses nothing: the row is still there.
/// </summary>
public sealed class OutboxMessage
{
    public long Id { get; init; }

    /// <summary>What to do with the payload, e.g. "bot_job".</summary>
    public required string Kind { get; init; }

    public required string Payload { get; init; }

    public DateTime CreatedAt { get; init; }

    public DateTime? PublishedAt { get; set; }

    public int Attempts { get; set; }

    public string? LastError { get; set; }

    /// <summary>Earliest time of the next publish attempt (backoff after a failure).</summary>
    public DateTime AvailableAt { get; set; }
}
