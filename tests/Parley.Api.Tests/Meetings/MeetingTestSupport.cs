using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using Parley.Api.Meetings;

namespace Parley.Api.Tests.Meetings;

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;

    public void Advance(TimeSpan by) => Now += by;
}

internal static class Jwt
{
    public const string Secret = "0123456789abcdef0123456789abcdef-test-secret";

    public static MeetingSigningKey Key(string secret = Secret) => new(Encoding.UTF8.GetBytes(secret), null, generated: false);

    /// <summary>The payload of a JWT, decoded by hand (what any client library would see).</summary>
    public static JsonElement Payload(string token) => Part(token, 1);

    public static JsonElement Header(string token) => Part(token, 0);

    private static JsonElement Part(string token, int index)
    {
        var parts = token.Split('.');
        Assert.Equal(3, parts.Length);
        using var document = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[index]));
        return document.RootElement.Clone();
    }

    public static string Encode(object value) => Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(value));
}
