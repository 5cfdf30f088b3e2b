using Parley.Core.Bots;

namespace Parley.Bots.Runtime;

/// <summary>
/// How a bot ends: an optional reason status (api_request_stop, bot_removed, waiting_room_timeout...), then
/// the terminal status with its error code. One table, so that every path to the end is reviewed in one place.
/// </summary>
public sealed record BotEnding(string? ReasonStatus, string Terminal, string? ErrorCode, string? Message)
{
    public bool Failed => Terminal == BotStatus.Failed;

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

    public static BotEnding MeetingFailed(string errorCode, string message, string? reason) => new(reason, BotStatus.Failed, errorCode, message);

    public static BotEnding InternalError(string message) =>
        new(null, BotStatus.Failed, BotErrorCode.InternalError, message.Length <= 1900 ? message : message[..1900]);
}

/// <summary>What `parley bot run` learned: whether the bot's terminal status was reported, and which.</summary>
public sealed record BotRunResult(bool TerminalReported, string? FinalStatus, string? ErrorCode, string? Problem);
