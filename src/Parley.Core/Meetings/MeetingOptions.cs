using System.Text;
using Parley.Core.Configuration;

namespace Parley.Core.Meetings;

/// <summary>Parley's own meetings: join tokens, limits and lifetimes (the meeting service's names where it had them).</summary>
public sealed class MeetingOptions : ISettingsValidation
{
    public const string SectionName = "Meetings";

    /// <summary>HS256 needs a key of at least 256 bits; a shorter one is refused by the token library.</summary>
    public const int MinimumSecretBytes = 32;

    [Setting("JWT_SECRET", Description = "Secret that signs and verifies meeting join tokens (HS256). Generated and saved in the data directory on first use when unset.", Secret = true)]
    public string? JwtSecret { get; set; }

    [Setting("MAX_PARTICIPANTS", Description = "Participants per meeting unless the meeting sets max_participants.", Min = 1, Max = 1000)]
    public int MaxParticipants { get; set; } = 50;

    [Setting("MEETING_TTL", Description = "Seconds a meeting lasts from its creation unless it sets ttl_seconds.", Min = 60, Max = 604800)]
    public int MeetingTtlSeconds { get; set; } = 14400;

    [Setting("PARLEY_EMPTY_MEETING_TIMEOUT", Description = "Seconds a meeting's room stays open after the last participant left.", Min = 0, Max = 86400)]
    public int EmptyMeetingTimeoutSeconds { get; set; } = 300;

    [Setting("PARLEY_ADHOC_MEETINGS", Description = "A guest who opens /meet/{id} for an id nobody created starts that meeting (single-tenant mode only).")]
    public bool AdhocMeetings { get; set; } = true;

    [Setting("PARLEY_MEETING_TOKEN_TTL", Description = "Seconds a join token is valid unless the request sets ttl_seconds (never past the meeting's end).", Min = 60, Max = 2592000)]
    public int TokenTtlSeconds { get; set; } = 86400;

    public void Validate(SettingsValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (JwtSecret is { } secret && Encoding.UTF8.GetByteCount(secret) < MinimumSecretBytes)
        {
            context.Add("JWT_SECRET", secret, $"expected at least {MinimumSecretBytes} characters (generate one with `openssl rand -hex 32`)", secret: true);
        }
    }
}
