using Parley.Core.Bots;

namespace Parley.Bots.Runtime;

/// <summary>
/// How a bot ends: an optional reason status (api_request_stop, bot_removed, waiting_room_timeout...), then
/// the terminal status with its error code. One table, so that every path to the end is reviewed in one place.
/// </summary>
public sealed record BotEnding(string? ReasonStatus, string Terminal, string? ErrorCode, string? Message)
{
    /// <summary>The most the API takes in error_message (POST /internal/bots/{id}/status).</summary>
    public const int MaxReportLength = 2000;

    public bool Failed => Terminal == BotStatus.Failed;

    /// <summary>
    /// What the recording's delivery said (the adapter's <see cref="Adapters.IMeetingEventSink.RecordingDelivered"/>):
    /// artifacts ffmpeg could not make, an upload deferred to the fallback directory. The bot still completes, so
    /// error_message is the only place a user learns why the MP4 is missing or the links come later.
    /// </summary>
    public string? RecordingMessage { get; init; }

    /// <summary>The delivery after the call failed: the history says call_ended, recording_failed, failed.</summary>
    public bool RecordingFailed { get; init; }

    /// <summary>
    /// error_message of the terminal report: why the bot left, then what became of the recording, within the API's
    /// limit. Cut from the end: the reason comes first and is short; a long composer message loses its tail.
    /// </summary>
    public string? Report
    {
        get
        {
            var text = (Message, RecordingMessage) switch
            {
                (null or "", null or "") => null,
                (null or "", var recording) => recording,
                (var reason, null or "") => reason,
                (var reason, var recording) => $"{reason} {recording}",
            };
            return text is { Length: > MaxReportLength } ? text[..(MaxReportLength - 1)] + "…" : text;
        }
    }

    /// <summary>
    /// The call ended as this ending says, but the recording could not be delivered (UPLOAD_FAILED and the fallback
    /// directory missing or not writable): the bot fails with that code and message. The reason status stays, so a
    /// bot told to leave still shows api_request_stop before call_ended.
    /// </summary>
    public BotEnding WithRecordingFailure(string errorCode, string message) =>
        this with { Terminal = BotStatus.Failed, ErrorCode = errorCode, Message = message, RecordingMessage = null, RecordingFailed = true };

    public static BotEnding LeaveRequested() =>
        new(BotStatus.ApiRequestStop, BotStatus.Completed, BotErrorCode.ApiRequest, "Left the meeting on API request.");

    /// <summary>SIGTERM/SIGINT: the platform (orchestrator cancel, pod eviction, scale-in) stopped the process.
    /// Treated as a stop request that the bot honours cleanly, like POST /v2/bots/{id}/leave: the recording up to
    /// that point is kept, so it is `completed` with API_REQUEST, and the message says it was a signal.</summary>
    public static BotEnding Signal(string signal) =>
        new(BotStatus.ApiRequestStop, BotStatus.Completed, BotErrorCode.ApiRequest, $"Stopped by {signal}: the platform stopped the bot process.");

    public static BotEnding Timeout(TimeoutKind kind, TimeoutConfig config) => kind switch
    {
        TimeoutKind.WaitingRoom => new(BotStatus.WaitingRoomTimeout, BotStatus.Failed, BotErrorCode.TimeoutWaitingToStart,
            $"Not admitted from the waiting room within waiting_room_timeout ({config.WaitingRoomSeconds} s)."),
        TimeoutKind.NoOneJoined => new(null, BotStatus.Completed, BotErrorCode.NoAttendees,
            $"Nobody joined within no_one_joined_timeout ({config.NoOneJoinedSeconds} s)."),
        TimeoutKind.EveryoneLeft => new(null, BotStatus.Completed, BotErrorCode.NoAttendees,
            $"Everyone left; alone for everyone_left_timeout ({config.EveryoneLeftSeconds} s)."),
        _ => new(null, BotStatus.Completed, BotErrorCode.NoSpeaker,
            $"Nobody spoke for silence_timeout ({config.SilenceSeconds} s)."),
    };

    public static BotEnding CallEnded() => new(null, BotStatus.Completed, null, null);

    public static BotEnding Removed() => new(BotStatus.BotRemoved, BotStatus.Completed, BotErrorCode.BotRemoved, "Removed from the meeting.");

    /// <summary>An adapter's <see cref="Adapters.MeetingFailedException"/>; one whose reason is recording_failed is a
    /// failed delivery after the call (<see cref="WithRecordingFailure"/>), not a reason that precedes call_ended.</summary>
    public static BotEnding MeetingFailed(string errorCode, string message, string? reason) =>
        reason == BotStatus.RecordingFailed
            ? CallEnded().WithRecordingFailure(errorCode, message)
            : new(reason, BotStatus.Failed, errorCode, message);

    public static BotEnding InternalError(string message) =>
        new(null, BotStatus.Failed, BotErrorCode.InternalError, message.Length <= 1900 ? message : message[..1900]);
}

/// <summary>What `parley bot run` learned: whether the bot's terminal status was reported, and which.</summary>
public sealed record BotRunResult(bool TerminalReported, string? FinalStatus, string? ErrorCode, string? Problem);
