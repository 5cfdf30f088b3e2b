using System.Security.Cryptography;
using System.Text;
using Parley.Api.Meetings;

namespace Parley.Api.Tests.Meetings;

public sealed class MeetingTokenServiceTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    private readonly ManualTimeProvider _time = new(Start);

    private MeetingTokenService Service(string secret = Jwt.Secret) => new(Jwt.Key(secret), _time);

    private static readonly MeetingTokenClaims Alice = new("abc-defg-hij", "alice", "Alice", CanPublish: false, CanSubscribe: true, IsHost: true, IsBot: false);

    [Fact]
    public async Task A_token_carries_every_claim_and_validates_into_the_grant()
    {
        var service = Service();
        var issued = service.Issue(Alice, Start.AddHours(1));

        var header = Jwt.Header(issued.Token);
        Assert.Equal("HS256", header.GetProperty("alg").GetString());
        var payload = Jwt.Payload(issued.Token);
        Assert.Equal("alice", payload.GetProperty("sub").GetString());
        Assert.Equal("abc-defg-hij", payload.GetProperty("meeting").GetString());
        Assert.Equal("Alice", payload.GetProperty("name").GetString());
        Assert.False(payload.GetProperty("can_publish").GetBoolean());
        Assert.True(payload.GetProperty("can_subscribe").GetBoolean());
        Assert.True(payload.GetProperty("host").GetBoolean());
        Assert.False(payload.GetProperty("bot").GetBoolean());
        Assert.Equal("parley", payload.GetProperty("iss").GetString());
        Assert.Equal("parley-meeting", payload.GetProperty("aud").GetString());
        Assert.Equal(Start.ToUnixTimeSeconds(), payload.GetProperty("iat").GetInt64());
        Assert.Equal(Start.AddHours(1).ToUnixTimeSeconds(), payload.GetProperty("exp").GetInt64());
        Assert.Equal(issued.TokenId, payload.GetProperty("jti").GetString());

        var validation = await service.ValidateAsync(issued.Token);
        Assert.True(validation.IsValid, validation.ErrorMessage);
        var grant = validation.Grant!;
        Assert.Equal("abc-defg-hij", grant.MeetingId);
        Assert.Equal("alice", grant.Identity);
        Assert.Equal("Alice", grant.Name);
        Assert.False(grant.CanPublish);
        Assert.True(grant.CanSubscribe);
        Assert.True(grant.IsHost);
        Assert.False(grant.IsBot);
        Assert.Equal(Start.AddHours(1), grant.ExpiresAt);
    }

    [Fact]
    public async Task Two_tokens_have_different_ids()
    {
        var service = Service();
        var a = service.Issue(Alice, Start.AddHours(1));
        var b = service.Issue(Alice, Start.AddHours(1));
        Assert.NotEqual(a.TokenId, b.TokenId);
        Assert.True((await service.ValidateAsync(b.Token)).IsValid);
    }

    [Fact]
    public async Task An_expired_token_is_TOKEN_EXPIRED_after_the_clock_skew()
    {
        var service = Service();
        var issued = service.Issue(Alice, Start.AddMinutes(10));

        _time.Advance(TimeSpan.FromMinutes(10) + MeetingTokenService.ClockSkew - TimeSpan.FromSeconds(1));
        Assert.True((await service.ValidateAsync(issued.Token)).IsValid);

        _time.Advance(TimeSpan.FromSeconds(2));
        var validation = await service.ValidateAsync(issued.Token);
        Assert.False(validation.IsValid);
        Assert.Equal("TOKEN_EXPIRED", validation.ErrorCode);
    }

    [Fact]
    public async Task A_token_signed_with_another_secret_is_INVALID_TOKEN_even_when_expired()
    {
        var other = Service("another-secret-another-secret-another-secret");
        var issued = other.Issue(Alice, Start.AddHours(1));
        var validation = await Service().ValidateAsync(issued.Token);
        Assert.Equal("INVALID_TOKEN", validation.ErrorCode);

        // Expired and forged: "ask for a new one" would be the wrong advice.
        _time.Advance(TimeSpan.FromHours(2));
        Assert.Equal("INVALID_TOKEN", (await Service().ValidateAsync(issued.Token)).ErrorCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("not-a-jwt")]
    [InlineData("a.b.c")]
    [InlineData("a.b")]
    [InlineData("....")]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.eyJ9.sig")]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.%%%.sig")]
    public async Task Garbage_is_INVALID_TOKEN_and_never_throws(string token)
    {
        var validation = await Service().ValidateAsync(token);
        Assert.False(validation.IsValid);
        Assert.Equal("INVALID_TOKEN", validation.ErrorCode);
        Assert.False(string.IsNullOrEmpty(validation.ErrorMessage));
    }

    [Fact]
    public async Task A_huge_or_null_token_is_INVALID_TOKEN()
    {
        Assert.Equal("INVALID_TOKEN", (await Service().ValidateAsync(null)).ErrorCode);
        Assert.Equal("INVALID_TOKEN", (await Service().ValidateAsync(new string('a', 100_000))).ErrorCode);
    }

    [Fact]
    public async Task An_unsigned_token_is_refused()
    {
        var payload = Jwt.Payload(Service().Issue(Alice, Start.AddHours(1)).Token);
        var unsigned = Jwt.Encode(new { alg = "none", typ = "JWT" }) + "." + Jwt.Encode(payload) + ".";
        Assert.Equal("INVALID_TOKEN", (await Service().ValidateAsync(unsigned)).ErrorCode);
    }

    [Fact]
    public async Task A_changed_payload_breaks_the_signature()
    {
        var token = Service().Issue(Alice with { IsHost = false }, Start.AddHours(1)).Token;
        var parts = token.Split('.');
        var claims = Jwt.Payload(token).EnumerateObject().ToDictionary(p => p.Name, p => (object)p.Value);
        claims["host"] = true;
        var forged = parts[0] + "." + Jwt.Encode(claims) + "." + parts[2];
        Assert.Equal("INVALID_TOKEN", (await Service().ValidateAsync(forged)).ErrorCode);
    }

    [Fact]
    public async Task A_correctly_signed_JWT_that_is_not_a_join_token_is_refused()
    {
        // Right key, but the wrong audience, or no meeting claim: e.g. a token a user's own backend made for something else.
        Assert.Equal("INVALID_TOKEN", (await Service().ValidateAsync(Sign(new { iss = "parley", aud = "elsewhere", sub = "a", meeting = "m", name = "n", can_publish = true, can_subscribe = true, host = false, bot = false, exp = Start.AddHours(1).ToUnixTimeSeconds() }))).ErrorCode);
        Assert.Equal("INVALID_TOKEN", (await Service().ValidateAsync(Sign(new { iss = "parley", aud = "parley-meeting", sub = "a", name = "n", can_publish = true, can_subscribe = true, host = false, bot = false, exp = Start.AddHours(1).ToUnixTimeSeconds() }))).ErrorCode);
        Assert.Equal("INVALID_TOKEN", (await Service().ValidateAsync(Sign(new { iss = "parley", aud = "parley-meeting", sub = "a", meeting = "m", name = "n", can_publish = "yes", can_subscribe = true, host = false, bot = false, exp = Start.AddHours(1).ToUnixTimeSeconds() }))).ErrorCode);
        Assert.Equal("INVALID_TOKEN", (await Service().ValidateAsync(Sign(new { iss = "parley", aud = "parley-meeting", sub = "a", meeting = "m", name = "n", can_publish = true, can_subscribe = true, host = false, bot = false }))).ErrorCode);

        // And the same by hand, complete, is accepted: the format is the documented one, not the library's.
        var valid = await Service().ValidateAsync(Sign(new { iss = "parley", aud = "parley-meeting", sub = "a", meeting = "m", name = "n", can_publish = true, can_subscribe = false, host = false, bot = true, exp = Start.AddHours(1).ToUnixTimeSeconds() }));
        Assert.True(valid.IsValid, valid.ErrorMessage);
        Assert.True(valid.Grant!.IsBot);
        Assert.False(valid.Grant.CanSubscribe);
    }

    /// <summary>A JWT signed with HS256 and the test secret, built without the library.</summary>
    private static string Sign(object payload)
    {
        var signingInput = Jwt.Encode(new { alg = "HS256", typ = "JWT" }) + "." + Jwt.Encode(payload);
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(Jwt.Secret), Encoding.ASCII.GetBytes(signingInput));
        return signingInput + "." + System.Buffers.Text.Base64Url.EncodeToString(signature);
    }
}
