using System.Text.Json;
using System.Text.Json.Serialization;

namespace Parley.Sfu.Client;

// The objects of docs/signaling.md as a client reads them (snake_case on the wire).

/// <summary>One published track of a participant.</summary>
public sealed record TrackInfo(
    [property: JsonPropertyName("track_id")] string TrackId,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("muted")] bool Muted,
    [property: JsonPropertyName("codec")] string? Codec,
    [property: JsonPropertyName("layers")] IReadOnlyList<string>? Layers);

/// <summary>A participant as the SFU describes it.</summary>
public sealed record ParticipantInfo(
    [property: JsonPropertyName("participant_id")] string ParticipantId,
    [property: JsonPropertyName("identity")] string? Identity,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("is_bot")] bool IsBot,
    [property: JsonPropertyName("is_host")] bool IsHost,
    [property: JsonPropertyName("hand_raised")] bool HandRaised,
    [property: JsonPropertyName("state")] string? State,
    [property: JsonPropertyName("tracks")] IReadOnlyList<TrackInfo>? Tracks);

/// <summary>A chat message of the meeting.</summary>
public sealed record ChatMessageInfo(
    [property: JsonPropertyName("message_id")] string MessageId,
    [property: JsonPropertyName("participant_id")] string ParticipantId,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("sent_at")] DateTimeOffset SentAt);

public sealed record MeetingInfo(
    [property: JsonPropertyName("meeting_id")] string MeetingId,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("max_participants")] int MaxParticipants,
    [property: JsonPropertyName("lobby")] bool Lobby);

public sealed record IceServerInfo(
    [property: JsonPropertyName("urls")] IReadOnlyList<string> Urls,
    [property: JsonPropertyName("username")] string? Username,
    [property: JsonPropertyName("credential")] string? Credential);

/// <summary>The `joined` message: who we are, who else is here, the chat so far.</summary>
public sealed record JoinedInfo(
    [property: JsonPropertyName("participant_id")] string ParticipantId,
    [property: JsonPropertyName("resume_token")] string ResumeToken,
    [property: JsonPropertyName("meeting")] MeetingInfo Meeting,
    [property: JsonPropertyName("participants")] IReadOnlyList<ParticipantInfo> Participants,
    [property: JsonPropertyName("chat")] IReadOnlyList<ChatMessageInfo> Chat,
    [property: JsonPropertyName("ice_servers")] IReadOnlyList<IceServerInfo> IceServers,
    [property: JsonPropertyName("you")] ParticipantInfo You,
    [property: JsonPropertyName("recording")] bool Recording);

/// <summary>One section of a `subscribe_offer`: what it carries (<see cref="TrackId"/> null when unused).</summary>
public sealed record SubscribeTrackInfo(
    [property: JsonPropertyName("mid")] string Mid,
    [property: JsonPropertyName("track_id")] string? TrackId,
    [property: JsonPropertyName("participant_id")] string? ParticipantId,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("source")] string? Source);

/// <summary>A participant's loudness in an `active_speaker` message (0..1).</summary>
public sealed record SpeakerLevel(
    [property: JsonPropertyName("participant_id")] string ParticipantId,
    [property: JsonPropertyName("level")] double Level);

/// <summary>A track this client receives on its subscribe connection.</summary>
public sealed class SubscribedTrack
{
    internal SubscribedTrack(string mid, string trackId, string participantId, string kind, string? source, uint? ssrc, int clockRate, string? codec)
    {
        Mid = mid;
        TrackId = trackId;
        ParticipantId = participantId;
        Kind = kind;
        Source = source;
        Ssrc = ssrc;
        ClockRate = clockRate;
        Codec = codec;
    }

    /// <summary>The section of the subscribe connection that carries it.</summary>
    public string Mid { get; }

    public string TrackId { get; }

    /// <summary>Whose track it is.</summary>
    public string ParticipantId { get; }

    /// <summary>audio or video.</summary>
    public string Kind { get; }

    /// <summary>microphone, camera or screen.</summary>
    public string? Source { get; }

    /// <summary>The SSRC the SFU announced for it (a=ssrc), if any.</summary>
    public uint? Ssrc { get; }

    /// <summary>The RTP clock rate of its first codec (48000 for Opus, 90000 for video).</summary>
    public int ClockRate { get; }

    /// <summary>The first codec the section offers (opus, VP8, H264).</summary>
    public string? Codec { get; }

    /// <summary>Free for the caller: per-track state such as receive statistics or a recorder.</summary>
    public object? Tag { get; set; }

    public override string ToString() => $"{Kind} {TrackId} of {ParticipantId} (mid {Mid})";
}

/// <summary>A refusal from the SFU (`error` message) or a protocol failure of the client.</summary>
public sealed class MeetingClientException : Exception
{
    public MeetingClientException()
    {
        Code = "CLIENT_ERROR";
    }

    public MeetingClientException(string message)
        : base(message)
    {
        Code = "CLIENT_ERROR";
    }

    public MeetingClientException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = "CLIENT_ERROR";
    }

    public MeetingClientException(string code, string message)
        : base($"{code}: {message}")
    {
        Code = code;
    }

    /// <summary>A code of docs/signaling.md (for example ROOM_FULL), or CLIENT_ERROR / CONNECTION_CLOSED.</summary>
    public string Code { get; }
}

internal static class ClientJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };
}
