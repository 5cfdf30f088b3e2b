namespace Parley.Core.Bots;

/// <summary>The `error_code` values of API.md: why a bot ended, normally or not.</summary>
public static class BotErrorCode
{
    // Normal ends
    public const string BotRemoved = "BOT_REMOVED";
    public const string NoAttendees = "NO_ATTENDEES";
    public const string NoSpeaker = "NO_SPEAKER";
    public const string RecordingTimeout = "RECORDING_TIMEOUT";
    public const string ApiRequest = "API_REQUEST";

    // Failures
    public const string BotNotAccepted = "BOT_NOT_ACCEPTED";
    public const string TimeoutWaitingToStart = "TIMEOUT_WAITING_TO_START";
    public const string CannotJoinMeeting = "CANNOT_JOIN_MEETING";
    public const string BotRemovedTooEarly = "BOT_REMOVED_TOO_EARLY";
    public const string InvalidMeetingUrl = "INVALID_MEETING_URL";
    public const string StreamingSetupFailed = "STREAMING_SETUP_FAILED";
    public const string LoginRequired = "LOGIN_REQUIRED";
    public const string InternalError = "INTERNAL_ERROR";
    public const string HeartbeatTimeout = "HEARTBEAT_TIMEOUT";
    public const string DeploymentFailed = "DEPLOYMENT_FAILED";
    public const string PickupTimeout = "PICKUP_TIMEOUT";
    public const string UploadFailed = "UPLOAD_FAILED";
    public const string TranscriptionFailed = "TRANSCRIPTION_FAILED";
    public const string UnknownError = "UNKNOWN_ERROR";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        BotRemoved, NoAttendees, NoSpeaker, RecordingTimeout, ApiRequest, BotNotAccepted, TimeoutWaitingToStart,
        CannotJoinMeeting, BotRemovedTooEarly, InvalidMeetingUrl, StreamingSetupFailed, LoginRequired, InternalError,
        HeartbeatTimeout, DeploymentFailed, PickupTimeout, UploadFailed, TranscriptionFailed, UnknownError,
    };

    public static bool IsKnown(string code) => All.Contains(code);
}
