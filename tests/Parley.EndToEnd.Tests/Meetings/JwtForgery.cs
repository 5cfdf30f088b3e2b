using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Parley.EndToEnd.Tests.Meetings;

/// <summary>
/// Join tokens changed after minting (expired, or signed with another key), to see the client refuse them
/// the way users would meet them. HS256 with JWT_SECRET (RFC 7519, RFC 7518 §3.2); the helper first checks
/// that it reproduces the server's own signature, so a changed signing scheme fails loudly, not oddly.
/// </summary>
internal static class JwtForgery
{
    public static string Expired(string token, string secret) =>
        Resign(token, Encoding.UTF8.GetBytes(secret), payload =>
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            payload["exp"] = now - 600;
            payload["iat"] = now - 3600;
            if (payload["nbf"] is not null)
            {
                payload["nbf"] = now - 3600;
            }
        });

    public static string SignedWithAnotherKey(string token) =>
        Resign(token, Encoding.UTF8.GetBytes("not-the-server-secret-0123456789abcdef0123"), _ => { }, verify: false);

    private static string Resign(string token, byte[] key, Action<JsonObject> change, bool verify = true)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            throw new InvalidOperationException($"The minted token is not a JWS compact serialization: {token}");
        }

        var header = JsonNode.Parse(Decode(parts[0]))!.AsObject();
        if ((string?)header["alg"] != "HS256")
        {
            throw new InvalidOperationException($"The join token uses alg {(string?)header["alg"]}; this test forges HS256 tokens only.");
        }

        if (verify && Sign($"{parts[0]}.{parts[1]}", key) != parts[2])
        {
            throw new InvalidOperationException("Re-signing the minted token with JWT_SECRET (UTF-8 bytes, HMAC-SHA256) does not reproduce its signature: the server signs differently.");
        }

        var payload = JsonNode.Parse(Decode(parts[1]))!.AsObject();
        change(payload);
        var body = $"{parts[0]}.{Encode(Encoding.UTF8.GetBytes(payload.ToJsonString()))}";
        return $"{body}.{Sign(body, key)}";
    }

    private static string Sign(string input, byte[] key) => Encode(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(input)));

    private static string Encode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Decode(string text)
    {
        var base64 = text.Replace('-', '+').Replace('_', '/');
        base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
        return Encoding.UTF8.GetString(Convert.FromBase64String(base64));
    }
}
