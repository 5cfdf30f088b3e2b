namespace Parley.Bots.Adapters;

/// <summary>
/// One meeting platform as the bot runtime sees it. The runtime owns the bot's lifecycle (config, status
/// reports to the API, heartbeats, timeouts, the end); an adapter only knows its meeting: it joins, raises
/// what happens there through <see cref="IMeetingEventSink"/>, obeys commands, and returns when the bot is
/// out of the meeting. This split lets the native Parley adapter (WebRTC, recording) and the browser adapters
/// (Meet, Teams, Zoom) share every rule about statuses and timeouts instead of re-implementing them.
/// </summary>
public interface IMeetingAdapter : IAsyncDisposable
{
    /// <summary>Whether the adapter raises <see cref="IMeetingEventSink.AudioLevel"/>; the silence timeout needs it.</summary>
    bool ReportsAudioLevel { get; }

    /// <summary>
    /// Joins the meeting and stays until the meeting ends for the bot, then returns how it ended. The runtime
    /// has already reported <c>joining_call</c>; the adapter reports waiting-room and in-call statuses through
    /// the sink. A failure to join or a fatal error is a <see cref="MeetingFailedException"/> carrying an API
    /// error code; any other exception fails the bot with INTERNAL_ERROR. Cancellation means: stop at once
    /// (the runtime first asks politely with <see cref="LeaveAsync"/>).
    /// </summary>
    Task<MeetingEnd> RunAsync(IMeetingEventSink events, CancellationToken cancellationToken);

    /// <summary>Asks the adapter to leave; <see cref="RunAsync"/> then returns <see cref="MeetingEnd.Left"/>.</summary>
    Task LeaveAsync(CancellationToken cancellationToken);

    /// <summary>Posts a message in the meeting chat (pending_chat_messages of a heartbeat).</summary>
    Task SendChatMessageAsync(string text, CancellationToken cancellationToken);

    /// <summary>Pauses or resumes recording (recording_paused of a heartbeat); the adapter reports the status.</summary>
    Task SetRecordingPausedAsync(bool paused, CancellationToken cancellationToken);
}

/// <summary>What an adapter tells the runtime. Calls are cheap and never block: the runtime queues them.</summary>
public interface IMeetingEventSink
{
    /// <summary>A status of the meeting side: in_waiting_room, in_waiting_for_host, in_call_not_recording,
    /// in_call_recording, recording_paused, recording_resumed (the codes of BotStatus).</summary>
    void StatusChanged(string status);

    void ParticipantJoined(MeetingParticipant participant);

    void ParticipantLeft(MeetingParticipant participant);

    void ChatMessageReceived(MeetingParticipant sender, string text, string? messageId);

    void SpeakerChanged(MeetingParticipant speaker);

    /// <summary>Loudness of the meeting's mixed audio, 0 (silence) to 1.</summary>
    void AudioLevel(double level);

    /// <summary>
    /// After <c>call_ended</c>: the recording was delivered (the bot will complete), and <paramref name="message"/>
    /// says what a user should know about it, or null: artifacts that could not be made (no ffmpeg), an upload
    /// deferred to PARLEY_FALLBACK_STORAGE_DIR. The runtime adds it to the terminal report's error_message. Through
    /// the sink rather than an optional adapter interface: every adapter that records (native, browser) says it the
    /// same way, in order with its statuses. A delivery that fails throws a <see cref="MeetingFailedException"/>
    /// with reason recording_failed instead.
    /// </summary>
    void RecordingDelivered(string? message);
}

/// <summary>Someone in the meeting other than the bot. <see cref="Id"/> is stable for the meeting.</summary>
public sealed record MeetingParticipant(string Id, string Name, string? DisplayName = null, string? ProfilePicture = null);

/// <summary>How the meeting ended for the bot, when it was not a failure.</summary>
public enum MeetingEnd
{
    /// <summary>The bot left because the runtime asked it to (leave request, timeout, SIGTERM).</summary>
    Left,

    /// <summary>The meeting ended (host ended it, the call closed).</summary>
    CallEnded,

    /// <summary>Someone removed the bot from the meeting.</summary>
    Removed,
}

/// <summary>
/// The meeting could not be joined or broke: ends the bot as failed with <see cref="ErrorCode"/> (one of
/// BotErrorCode), after <see cref="ReasonStatus"/> when given (bot_rejected, invalid_meeting_url, meeting_error...).
/// </summary>
public sealed class MeetingFailedException : Exception
{
    public MeetingFailedException(string errorCode, string message, string? reasonStatus = null)
        : base(message)
    {
        ErrorCode = errorCode;
        ReasonStatus = reasonStatus;
    }

    public MeetingFailedException()
    {
        ErrorCode = Core.Bots.BotErrorCode.UnknownError;
    }

    public MeetingFailedException(string message)
        : base(message)
    {
        ErrorCode = Core.Bots.BotErrorCode.UnknownError;
    }

    public MeetingFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
        ErrorCode = Core.Bots.BotErrorCode.UnknownError;
    }

    public string ErrorCode { get; }

    public string? ReasonStatus { get; }
}
