using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Parley.Sfu.Meetings;

namespace Parley.Api.Meetings;

/// <summary>What a join token says about its holder (the claims besides the times).</summary>
public sealed record MeetingTokenClaims(string MeetingId, string Identity, string Name, bool CanPublish = true, bool CanSubscribe = true, bool IsHost = false, bool IsBot = false);

/// <summary>A signed token, its id (`jti`) and when it expires (whole seconds, as `exp` says).</summary>
public sealed record IssuedMeetingToken(string Token, string TokenId, DateTimeOffset ExpiresAt);

/// <summary>The outcome of checking a token: the grant, or TOKEN_EXPIRED / INVALID_TOKEN with a message.</summary>
public sealed record MeetingTokenValidation(JoinGrant? Grant, string? ErrorCode, string? ErrorMessage)
{
    public bool IsValid => Grant is not null;
}

/// <summary>
/// Join tokens: JWT (RFC 7519) signed with HS256 and JWT_SECRET. Claims: `sub` (identity), `meeting`,
/// `name`, `can_publish`, `can_subscribe`, `host`, `bot`, `iat`, `nbf`, `exp`, `jti`, `iss` "parley",
/// `aud` "parley-meeting". Validation accepts HS256 only (no `alg: none`, no key confusion) and never
/// throws for what a client sent.
/// </summary>
public sealed class MeetingTokenService
{
    public const string Issuer = "parley";
    public const string Audience = "parley-meeting";
    public const string InvalidToken = "INVALID_TOKEN";
    public const string TokenExpired = "TOKEN_EXPIRED";

    /// <summary>Tolerance for the clocks of several nodes; a token is expired this long after its `exp`.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);

    /// <summary>A JWT longer than this is not one of ours; refused before parsing.</summary>
    private const int MaxTokenLength = 8 * 1024;

    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly SymmetricSecurityKey _key;
    private readonly TimeProvider _time;
    private readonly TokenValidationParameters _parameters;

    public MeetingTokenService(MeetingSigningKey signingKey, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(signingKey);
        _key = new SymmetricSecurityKey(signingKey.Key.ToArray());
        _time = time;
        _parameters = new TokenValidationParameters
        {
            ValidIssuer = Issuer,
            ValidAudience = Audience,
            IssuerSigningKey = _key,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,
            // Times are checked below against the injected clock (the library reads the system clock).
            ValidateLifetime = false,
        };
    }

    public IssuedMeetingToken Issue(MeetingTokenClaims claims, DateTimeOffset expiresAt)
    {
        ArgumentNullException.ThrowIfNull(claims);
        var now = DateTimeOffset.FromUnixTimeSeconds(_time.GetUtcNow().ToUnixTimeSeconds());
        // `exp` is whole seconds; what the caller is told must be what the token says.
        var expires = DateTimeOffset.FromUnixTimeSeconds(expiresAt.ToUnixTimeSeconds());
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.HmacSha256),
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = claims.Identity,
                [JwtRegisteredClaimNames.Jti] = id,
                ["meeting"] = claims.MeetingId,
                ["name"] = claims.Name,
                ["can_publish"] = claims.CanPublish,
                ["can_subscribe"] = claims.CanSubscribe,
                ["host"] = claims.IsHost,
                ["bot"] = claims.IsBot,
            },
        });
        return new IssuedMeetingToken(token, id, expires);
    }

    public async ValueTask<MeetingTokenValidation> ValidateAsync(string? token)
    {
        if (string.IsNullOrWhiteSpace(token) || token.Length > MaxTokenLength)
        {
            return Invalid("the token is missing or too long");
        }

        TokenValidationResult result;
        try
        {
            result = await _handler.ValidateTokenAsync(token, _parameters);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or SecurityTokenException or System.Text.Json.JsonException)
        {
            // The handler reports problems in its result; this is a guard against a parser path that throws.
            return Invalid("the token is not a valid JWT");
        }

        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            return Invalid("the token's signature, issuer or audience is not valid");
        }

        // Only a token that is ours in every other respect is called expired: "ask for a new one" is then the
        // right advice, which it is not for a forged one.
        var now = _time.GetUtcNow().UtcDateTime;
        if (jwt.ValidTo == DateTime.MinValue)
        {
            return Invalid("the token has no expiry");
        }

        if (jwt.ValidTo + ClockSkew <= now)
        {
            return new MeetingTokenValidation(null, TokenExpired, "The join token has expired; ask for a new one.");
        }

        if (jwt.ValidFrom != DateTime.MinValue && jwt.ValidFrom - ClockSkew > now)
        {
            return Invalid("the token is not valid yet");
        }

        if (!jwt.TryGetPayloadValue<string>("meeting", out var meetingId) || string.IsNullOrEmpty(meetingId)
            || string.IsNullOrEmpty(jwt.Subject)
            || !jwt.TryGetPayloadValue<string>("name", out var name) || name is null
            || !TryGetFlag(jwt, "can_publish", out var canPublish)
            || !TryGetFlag(jwt, "can_subscribe", out var canSubscribe)
            || !TryGetFlag(jwt, "host", out var host)
            || !TryGetFlag(jwt, "bot", out var bot))
        {
            return Invalid("the token lacks a claim of a join token");
        }

        return new MeetingTokenValidation(
            new JoinGrant
            {
                MeetingId = meetingId,
                Identity = jwt.Subject,
                Name = name,
                CanPublish = canPublish,
                CanSubscribe = canSubscribe,
                IsHost = host,
                IsBot = bot,
                ExpiresAt = new DateTimeOffset(DateTime.SpecifyKind(jwt.ValidTo, DateTimeKind.Utc)),
            },
            null,
            null);
    }

    private static bool TryGetFlag(JsonWebToken jwt, string claim, out bool value)
    {
        value = false;
        try
        {
            return jwt.TryGetPayloadValue(claim, out value);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException or System.Text.Json.JsonException)
        {
            return false;
        }
    }

    private static MeetingTokenValidation Invalid(string problem) => new(null, InvalidToken, $"The join token is not valid: {problem}.");
}
