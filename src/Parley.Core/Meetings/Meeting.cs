using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Parley.Core.Meetings;

/// <summary>
/// A meeting on Parley's own SFU (API.md "Meetings (Parley's own)"). Created through `POST /v2/meetings`,
/// or ad hoc when a guest opens `/meet/{id}` for an id nobody created (PARLEY_ADHOC_MEETINGS). The SFU
/// holds the room; this row holds the rules and whether the meeting is still open.
/// </summary>
public sealed class Meeting
{
    /// <summary>`abc-defg-hij` for created meetings; whatever the URL said for ad-hoc ones.</summary>
    public required string Id { get; init; }

    public required string TeamId { get; init; }

    public string? Name { get; init; }

    /// <summary>Null: the server's MAX_PARTICIPANTS at the time of the join.</summary>
    public int? MaxParticipants { get; init; }

    public int TtlSeconds { get; init; }

    /// <summary>Joiners who are not hosts wait until a host admits them.</summary>
    public bool Lobby { get; init; }

    /// <summary>Anyone with the link may get a guest token at `POST /meet/{id}/guest-token`.</summary>
    public bool AllowGuests { get; init; } = true;

    /// <summary>Created by the first guest of an unknown id rather than through the API.</summary>
    public bool Adhoc { get; init; }

    public DateTime CreatedAt { get; init; }

    /// <summary>CreatedAt + TtlSeconds: the meeting closes then whatever happens.</summary>
    public DateTime EndsAt { get; init; }

    public DateTime? ClosedAt { get; set; }

    /// <summary><see cref="MeetingCloseReason"/>: ttl, empty or deleted.</summary>
    public string? CloseReason { get; set; }

    /// <summary>Closed explicitly, or past its end time.</summary>
    public bool IsClosedAt(DateTime now) => ClosedAt is not null || EndsAt <= now;
}

/// <summary>Why a meeting closed (the `reason` of the signaling `meeting_closed` message).</summary>
public static class MeetingCloseReason
{
    public const string Ttl = "ttl";
    public const string Empty = "empty";
    public const string Deleted = "deleted";

    public static readonly IReadOnlyList<string> All = [Ttl, Empty, Deleted];
}

/// <summary>Meeting ids: the ones Parley makes and the ones it accepts from a URL.</summary>
public static partial class MeetingIds
{
    public const int MaxLength = 64;

    /// <summary>
    /// A readable random id like `abc-defg-hij` (the Google Meet shape people are used to reading out).
    /// Ten letters: 26^10 ≈ 1.4e14 ids, so an id cannot be guessed while guests are allowed in.
    /// </summary>
    public static string NewId()
    {
        Span<char> id = stackalloc char[12];
        for (var i = 0; i < id.Length; i++)
        {
            id[i] = i is 3 or 8 ? '-' : (char)('a' + RandomNumberGenerator.GetInt32(26));
        }

        return new string(id);
    }

    /// <summary>What `/meet/{id}` accepts (the same rule as a Parley meeting URL of a bot).</summary>
    public static bool IsValid(string? id) => id is not null && ValidId().IsMatch(id);

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex ValidId();
}
