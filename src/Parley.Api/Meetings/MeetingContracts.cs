namespace Parley.Api.Meetings;

/// <summary>`POST /v2/meetings`. Every field is optional; an explicit null means the default.</summary>
public sealed class CreateMeetingRequest
{
    public string? Name { get; set; }

    /// <summary>1–1000; default MAX_PARTICIPANTS.</summary>
    public int? MaxParticipants { get; set; }

    /// <summary>60–604800 seconds from creation; default MEETING_TTL.</summary>
    public int? TtlSeconds { get; set; }

    public bool? Lobby { get; set; }

    public bool? AllowGuests { get; set; }
}

/// <summary>`POST /v2/meetings/{id}/tokens`.</summary>
public sealed class CreateMeetingTokenRequest
{
    /// <summary>1–128 characters; a second join with the same identity replaces the first.</summary>
    public string? Identity { get; set; }

    /// <summary>Display name, 1–100 characters.</summary>
    public string? Name { get; set; }

    public bool? CanPublish { get; set; }

    public bool? CanSubscribe { get; set; }

    public bool? Host { get; set; }

    public bool? Bot { get; set; }

    /// <summary>60–2592000 seconds; default PARLEY_MEETING_TOKEN_TTL; never past the meeting's end.</summary>
    public int? TtlSeconds { get; set; }
}

/// <summary>`POST /meet/{id}/guest-token`.</summary>
public sealed class GuestTokenRequest
{
    public string? Name { get; set; }
}

/// <summary>
/// A meeting as the API shows it. `max_participants` is the limit in force (the meeting's own or
/// MAX_PARTICIPANTS); `status` is `closed` once it was closed or its `ends_at` passed.
/// </summary>
public record MeetingView
{
    public required string MeetingId { get; init; }

    public required string JoinUrl { get; init; }

    public string? Name { get; init; }

    public int MaxParticipants { get; init; }

    public int TtlSeconds { get; init; }

    public bool Lobby { get; init; }

    public bool AllowGuests { get; init; }

    public bool Adhoc { get; init; }

    /// <summary>`open` or `closed`.</summary>
    public required string Status { get; init; }

    public DateTime CreatedAt { get; init; }

    public DateTime EndsAt { get; init; }

    public DateTime? ClosedAt { get; init; }

    /// <summary>`ttl`, `empty` or `deleted` once closed (`ttl` for a meeting past its end that no room closed).</summary>
    public string? CloseReason { get; init; }
}

/// <summary>`GET /v2/meetings/{id}`: the meeting and who is in it now.</summary>
public sealed record MeetingDetails : MeetingView
{
    public int ParticipantCount { get; init; }
}

/// <summary>`POST /v2/meetings/{id}/tokens` answer; `join_url` carries the token (`?token=`).</summary>
public sealed record MeetingTokenView(string Token, DateTime ExpiresAt, string MeetingId, string JoinUrl);

/// <summary>`POST /meet/{id}/guest-token` answer.</summary>
public sealed record GuestTokenView(string Token, string MeetingId, DateTime ExpiresAt);

/// <summary>A page of meetings (the list envelope).</summary>
public sealed record MeetingListEnvelope(bool Success, IReadOnlyList<MeetingView> Data, string? Cursor, string? PrevCursor);
