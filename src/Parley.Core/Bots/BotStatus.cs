namespace Parley.Core.Bots;

/// <summary>
/// The status codes of API.md ("Bot status codes"), as the strings clients see, and the transitions
/// between them. A bot reports its progress through these; the API refuses an impossible transition
/// (and logs it) rather than storing a history that cannot have happened.
/// </summary>
public static class BotStatus
{
    // Lifecycle
    public const string Queued = "queued";
    public const string PickupDelayed = "pickup_delayed";
    public const string Transcribing = "transcribing";
    public const string Completed = "completed";
    public const string Failed = "failed";

    // In call
    public const string JoiningCall = "joining_call";
    public const string InWaitingRoom = "in_waiting_room";
    public const string InWaitingForHost = "in_waiting_for_host";
    public const string InCallNotRecording = "in_call_not_recording";
    public const string InCallRecording = "in_call_recording";
    public const string RecordingPaused = "recording_paused";
    public const string RecordingResumed = "recording_resumed";
    public const string CallEnded = "call_ended";
    public const string RecordingSucceeded = "recording_succeeded";
    public const string RecordingFailed = "recording_failed";

    // Reasons that precede the end
    public const string ApiRequestStop = "api_request_stop";
    public const string BotRejected = "bot_rejected";
    public const string BotRemoved = "bot_removed";
    public const string BotRemovedTooEarly = "bot_removed_too_early";
    public const string WaitingRoomTimeout = "waiting_room_timeout";
    public const string InvalidMeetingUrl = "invalid_meeting_url";
    public const string MeetingError = "meeting_error";

    private static readonly string[] WaitingStates = [InWaitingRoom, InWaitingForHost];
    private static readonly string[] InCallStates = [InCallNotRecording, InCallRecording, RecordingPaused, RecordingResumed];
    private static readonly string[] EndReasons = [ApiRequestStop, BotRejected, BotRemoved, BotRemovedTooEarly, WaitingRoomTimeout, InvalidMeetingUrl, MeetingError];
    private static readonly string[] AfterCall = [CallEnded, RecordingSucceeded, RecordingFailed, Transcribing, Completed, Failed];

    /// <summary>Every status code, in lifecycle order.</summary>
    public static readonly IReadOnlyList<string> All =
    [
        Queued, PickupDelayed, JoiningCall, InWaitingRoom, InWaitingForHost, InCallNotRecording, InCallRecording,
        RecordingPaused, RecordingResumed, ApiRequestStop, BotRejected, BotRemoved, BotRemovedTooEarly, WaitingRoomTimeout,
        InvalidMeetingUrl, MeetingError, CallEnded, RecordingSucceeded, RecordingFailed, Transcribing, Completed, Failed,
    ];

    private static readonly Dictionary<string, HashSet<string>> Transitions = BuildTransitions();

    public static bool IsKnown(string code) => Transitions.ContainsKey(code);

    public static bool IsTerminal(string code) => code is Completed or Failed;

    /// <summary>In the meeting (recording or not): chat can be sent, recording can be paused.</summary>
    public static bool IsInCall(string code) => Array.IndexOf(InCallStates, code) >= 0;

    /// <summary>Whether <paramref name="to"/> may follow <paramref name="from"/>.</summary>
    public static bool CanTransition(string from, string to) =>
        Transitions.TryGetValue(from, out var next) && next.Contains(to);

    private static Dictionary<string, HashSet<string>> BuildTransitions()
    {
        var map = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        void Allow(string from, params IEnumerable<string>[] targets)
        {
            if (!map.TryGetValue(from, out var set))
            {
                map[from] = set = new HashSet<string>(StringComparer.Ordinal);
            }

            foreach (var group in targets)
            {
                set.UnionWith(group);
            }
        }

        // Any non-terminal status may fail (crash, heartbeat lost, deployment failed).
        Allow(Queued, [PickupDelayed, JoiningCall, ApiRequestStop, Completed, Failed]);
        Allow(PickupDelayed, [JoiningCall, ApiRequestStop, Completed, Failed]);
        Allow(JoiningCall, WaitingStates, InCallStates, EndReasons, [CallEnded, Completed, Failed]);
        foreach (var waiting in WaitingStates)
        {
            Allow(waiting, WaitingStates.Where(w => w != waiting), InCallStates, EndReasons, [CallEnded, Completed, Failed]);
        }

        Allow(InCallNotRecording, [InCallRecording], EndReasons, [CallEnded, RecordingFailed, Completed, Failed]);
        Allow(InCallRecording, [RecordingPaused, InCallNotRecording], EndReasons, [CallEnded, RecordingSucceeded, RecordingFailed, Completed, Failed]);
        Allow(RecordingPaused, [RecordingResumed, InCallRecording], EndReasons, [CallEnded, RecordingSucceeded, RecordingFailed, Completed, Failed]);
        Allow(RecordingResumed, [RecordingPaused, InCallRecording], EndReasons, [CallEnded, RecordingSucceeded, RecordingFailed, Completed, Failed]);
        foreach (var reason in EndReasons)
        {
            Allow(reason, EndReasons.Where(r => r != reason), AfterCall);
        }

        Allow(CallEnded, [RecordingSucceeded, RecordingFailed, Transcribing, Completed, Failed]);
        Allow(RecordingSucceeded, [Transcribing, Completed, Failed]);
        Allow(RecordingFailed, [Transcribing, Completed, Failed]);
        Allow(Transcribing, [Completed, Failed]);
        Allow(Completed);
        Allow(Failed);
        return map;
    }
}
