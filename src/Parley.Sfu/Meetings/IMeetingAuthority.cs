namespace Parley.Sfu.Meetings;

/// <summary>What a join token grants (the JWT claims, already verified).</summary>
public sealed record JoinGrant
{
    public required string MeetingId { get; init; }

    /// <summary>Stable identity of the joiner (the token's subject); a second join with it replaces the first.</summary>
    public required string Identity { get; init; }

    public required string Name { get; init; }

    public bool CanPublish { get; init; } = true;

    public bool CanSubscribe { get; init; } = true;

    /// <summary>Hosts skip the lobby and may admit or deny others.</summary>
    public bool IsHost { get; init; }

    /// <summary>A recording bot: every client shows a notice while one is present.</summary>
    public bool IsBot { get; init; }

    public DateTimeOffset ExpiresAt { get; init; }
}

/// <summary>The meeting's rules, as stored (or the defaults of an ad-hoc meeting).</summary>
public sealed record MeetingPolicy
{
    public required string MeetingId { get; init; }

    public string? Name { get; init; }

    public int MaxParticipants { get; init; } = 50;

    /// <summary>Joiners who are not hosts wait until a host admits them.</summary>
    public bool Lobby { get; init; }

    /// <summary>When the meeting closes whatever happens (MEETING_TTL from its creation).</summary>
    public DateTimeOffset EndsAt { get; init; }

    /// <summary>How long the room stays open once the last participant left.</summary>
    public TimeSpan EmptyTimeout { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>The answer to a join: a grant and the meeting's policy, or an error code from docs/signaling.md.</summary>
public sealed record JoinAuthorization(JoinGrant? Grant, MeetingPolicy? Policy, string? ErrorCode, string? ErrorMessage)
{
    public static JoinAuthorization Allowed(JoinGrant grant, MeetingPolicy policy) => new(grant, policy, null, null);

    public static JoinAuthorization Refused(string code, string message) => new(null, null, code, message);

    public bool IsAllowed => Grant is not null && Policy is not null;
}

/// <summary>
/// The meetings side the SFU asks (implemented by the api role over the database and JWT_SECRET): whether
/// a token may join, and that a meeting has closed. The SFU holds no meeting records of its own.
/// </summary>
public interface IMeetingAuthority
{
    /// <summary>
    /// Verifies a join token and loads the meeting. Refusals use the codes INVALID_TOKEN, TOKEN_EXPIRED,
    /// MEETING_NOT_FOUND, MEETING_CLOSED. Never throws for a bad token.
    /// </summary>
    ValueTask<JoinAuthorization> AuthorizeAsync(string token, CancellationToken cancellationToken);

    /// <summary>The room closed (TTL, empty timeout, deleted); reason is "ttl", "empty" or "deleted".</summary>
    ValueTask MeetingClosedAsync(string meetingId, string reason, CancellationToken cancellationToken);
}
