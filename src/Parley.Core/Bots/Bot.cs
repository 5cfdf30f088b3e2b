namespace Parley.Core.Bots;

/// <summary>
/// A meeting bot: what the client asked for, where it runs and what it produced. The create body is kept
/// as submitted (JSON) so that the bot runtime receives exactly what the client sent; the fields the API
/// filters and sorts on are columns.
/// </summary>
public sealed class Bot
{
    public required string Id { get; init; }

    public required string TeamId { get; init; }

    public required string BotName { get; set; }

    public required string MeetingUrl { get; init; }

    /// <summary>The platform-specific normal form used to detect duplicate bots for one meeting.</summary>
    public required string NormalizedMeetingUrl { get; init; }

    public required string MeetingPlatform { get; init; }

    public string RecordingMode { get; set; } = "speaker_view";

    public string Status { get; set; } = BotStatus.Queued;

    public DateTime CreatedAt { get; init; }

    public DateTime UpdatedAt { get; set; }

    public DateTime? JoinedAt { get; set; }

    public DateTime? ExitedAt { get; set; }

    public string? ErrorCode { get; set; }

    public string? ErrorMessage { get; set; }

    public string? DeduplicationKey { get; init; }

    /// <summary>The create body as submitted, JSON.</summary>
    public required string CreateBody { get; init; }

    /// <summary>`extra`, JSON object; echoed in details and webhooks, shallow-merged by update-config.</summary>
    public string? Extra { get; set; }

    /// <summary>Set when the bot came from a scheduled bot (the calendar event id stays null until calendars land).</summary>
    public string? EventId { get; init; }

    public string? DeploymentPlatform { get; set; }

    public string? DeploymentIdentifier { get; set; }

    public DateTime? LastHeartbeatAt { get; set; }

    /// <summary>SHA-256 of the bot token minted at deployment; the token itself is never stored.</summary>
    public string? BotTokenHash { get; set; }

    public bool LeaveRequested { get; set; }

    public bool RecordingPaused { get; set; }

    /// <summary>JSON array of chat messages asked for by send-chat-message, handed to the bot at its next heartbeat.</summary>
    public string? PendingChatMessages { get; set; }

    public bool ArtifactsDeleted { get; set; }

    /// <summary>JSON array of {id, name, display_name?, profile_picture?}.</summary>
    public string? Participants { get; set; }

    /// <summary>JSON array, same shape as participants.</summary>
    public string? Speakers { get; set; }

    /// <summary>Optimistic concurrency: two status reports for one bot cannot overwrite each other.</summary>
    public int Version { get; set; }

    public List<BotStatusChange> StatusHistory { get; init; } = [];

    public List<BotArtifact> Artifacts { get; init; } = [];

    public bool IsEnded => BotStatus.IsTerminal(Status);

    /// <summary>
    /// Applies a status change when the transition is allowed. Reporting the current status again is
    /// accepted and changes nothing (bots retry their calls); anything else impossible is refused.
    /// </summary>
    public StatusChangeResult ChangeStatus(string code, DateTime now, string? errorCode = null, string? errorMessage = null)
    {
        if (!BotStatus.IsKnown(code))
        {
            return StatusChangeResult.UnknownStatus;
        }

        if (code == Status)
        {
            return StatusChangeResult.Unchanged;
        }

        if (!BotStatus.CanTransition(Status, code))
        {
            return StatusChangeResult.NotAllowed;
        }

        Status = code;
        UpdatedAt = now;
        Version++;
        if (errorCode is not null)
        {
            ErrorCode = errorCode;
        }

        if (errorMessage is not null)
        {
            ErrorMessage = errorMessage;
        }

        if (JoinedAt is null && BotStatus.IsInCall(code))
        {
            JoinedAt = now;
        }

        if (BotStatus.IsTerminal(code))
        {
            ExitedAt ??= now;
            BotTokenHash = null;
            if (code == BotStatus.Failed && ErrorCode is null)
            {
                ErrorCode = BotErrorCode.UnknownError;
            }
        }

        StatusHistory.Add(new BotStatusChange { BotId = Id, Code = code, CreatedAt = now, ErrorMessage = errorMessage });
        return StatusChangeResult.Applied;
    }

    public double? DurationSeconds => JoinedAt is { } joined && ExitedAt is { } exited ? Math.Max(0, (exited - joined).TotalSeconds) : null;
}

public enum StatusChangeResult
{
    Applied,
    Unchanged,
    NotAllowed,
    UnknownStatus,
}

/// <summary>One row of a bot's status history.</summary>
public sealed class BotStatusChange
{
    public long Id { get; init; }

    public required string BotId { get; init; }

    public required string Code { get; init; }

    public DateTime CreatedAt { get; init; }

    public string? ErrorMessage { get; init; }
}

/// <summary>A file a bot produced: video, audio, diarization, chat_messages, per-participant tracks, log.</summary>
public sealed class BotArtifact
{
    public long Id { get; init; }

    public required string BotId { get; init; }

    /// <summary>video, audio, diarization, transcription, raw_transcription, chat_messages, track, log.</summary>
    public required string Kind { get; init; }

    public required string StorageKey { get; init; }

    public string ContentType { get; init; } = "application/octet-stream";

    public long SizeBytes { get; init; }

    public DateTime CreatedAt { get; init; }
}
