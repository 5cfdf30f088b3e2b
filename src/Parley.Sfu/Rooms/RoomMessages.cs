namespace Parley.Sfu.Rooms;

// Server → client messages of docs/signaling.md. Serialized by the signaling session with snake_case
// names; the `type` field comes first.

/// <summary>A message the SFU sends to one client.</summary>
public abstract record ServerMessage([property: System.Text.Json.Serialization.JsonPropertyOrder(-1)] string Type);

public sealed record TrackView(string TrackId, string Kind, string Source, bool Muted, string? Codec, IReadOnlyList<string> Layers);

public sealed record ParticipantView(string ParticipantId, string Identity, string Name, bool IsBot, bool IsHost, bool HandRaised, string State, IReadOnlyList<TrackView> Tracks);

public sealed record ChatMessageView(string MessageId, string ParticipantId, string Name, string Text, DateTimeOffset SentAt);

public sealed record MeetingView(string MeetingId, string? Name, int MaxParticipants, bool Lobby);

public sealed record IceServerView(IReadOnlyList<string> Urls, string? Username, string? Credential);

public sealed record JoinedMessage(string ParticipantId, string ResumeToken, MeetingView Meeting, IReadOnlyList<ParticipantView> Participants,
    IReadOnlyList<ChatMessageView> Chat, IReadOnlyList<IceServerView> IceServers, ParticipantView You, bool Recording) : ServerMessage("joined");

public sealed record LobbyWaitingMessage() : ServerMessage("lobby_waiting");

public sealed record LobbyRequestMessage(LobbyParticipantView Participant) : ServerMessage("lobby_request");

public sealed record LobbyParticipantView(string ParticipantId, string Name);

public sealed record LobbyLeftMessage(string ParticipantId) : ServerMessage("lobby_left");

public sealed record ParticipantJoinedMessage(ParticipantView Participant) : ServerMessage("participant_joined");

public sealed record ParticipantUpdatedMessage(ParticipantView Participant) : ServerMessage("participant_updated");

public sealed record ParticipantLeftMessage(string ParticipantId, string Reason) : ServerMessage("participant_left");

public sealed record PublishAnswerMessage(long? Id, string Sdp) : ServerMessage("publish_answer");

public sealed record SubscribeTrackView(string Mid, string? TrackId, string? ParticipantId, string Kind, string? Source);

/// <summary><paramref name="OfferId"/> is echoed in `subscribe_answer`, so that a late answer to a replaced offer is recognised.</summary>
public sealed record SubscribeOfferMessage(string Sdp, IReadOnlyList<SubscribeTrackView> Tracks, long OfferId) : ServerMessage("subscribe_offer");

public sealed record SpeakerLevelView(string ParticipantId, double Level);

public sealed record ActiveSpeakerMessage(string? ParticipantId, IReadOnlyList<SpeakerLevelView> Levels) : ServerMessage("active_speaker");

public sealed record ChatMessage(ChatMessageView Message) : ServerMessage("chat");

public sealed record RecordingMessage(bool Active) : ServerMessage("recording");

public sealed record MeetingClosedMessage(string Reason) : ServerMessage("meeting_closed");

public sealed record ErrorMessage(long? Id, string Code, string Message) : ServerMessage("error");

public sealed record PongMessage(long? Id) : ServerMessage("pong");

/// <summary>Where a participant's messages go: its signaling session (replaced on resume).</summary>
public interface IParticipantSink
{
    /// <summary>Queues a message; never blocks (a slow client's queue is bounded and it is disconnected when full).</summary>
    void Send(ServerMessage message);

    /// <summary>Closes the signaling connection after the queued messages.</summary>
    void Close(string reason);
}

/// <summary>A signaling-level failure with a code from docs/signaling.md.</summary>
public sealed class SignalingException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
