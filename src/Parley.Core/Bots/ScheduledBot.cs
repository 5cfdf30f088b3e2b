namespace Parley.Core.Bots;

/// <summary>Statuses of a scheduled bot (API.md "Scheduled bots").</summary>
public static class ScheduledBotStatus
{
    public const string Scheduled = "scheduled";
    public const string Cancelled = "cancelled";
    public const string Completed = "completed";
    public const string Failed = "failed";
}

/// <summary>
/// A bot to create at <see cref="JoinAt"/>. When it is handed over it becomes a normal bot with the same
/// id; until then it can be changed or cancelled.
/// </summary>
public sealed class ScheduledBot
{
    public required string Id { get; init; }

    public required string TeamId { get; init; }

    public required string BotName { get; set; }

    public required string MeetingUrl { get; set; }

    public required string MeetingPlatform { get; set; }

    public DateTime JoinAt { get; set; }

    public string Status { get; set; } = ScheduledBotStatus.Scheduled;

    /// <summary>The create body as submitted (without join_at), JSON.</summary>
    public required string CreateBody { get; set; }

    public string? Extra { get; set; }

    public DateTime CreatedAt { get; init; }

    public DateTime UpdatedAt { get; set; }

    /// <summary>When the scheduled-bot job turned it into a bot.</summary>
    public DateTime? DispatchedAt { get; set; }

    public string? ErrorMessage { get; set; }
}
