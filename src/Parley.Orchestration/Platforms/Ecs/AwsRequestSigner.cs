using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Parley.Orchestration.Platforms.Ecs;

/// <summary>Keys a request is signed with; <see cref="SessionToken"/> comes with temporary (role) credentials.</summary>
internal sealed record AwsSigningCredentials(string AccessKeyId, string SecretAccessKey, string? SessionToken);

/// <summary>
/// AWS Signature Version 4 ("Authenticating requests", AWS General Reference). The ECS SDK package is not
/// available to us, and AWSSDK.Core's signer works only on the SDK's internal request objects, so the ECS
/// client signs its few JSON calls itself:
/// <code>
/// canonical request = METHOD \n path \n query \n (name:value\n)* \n signed;names \n hex(sha256(body))
/// string to sign    = AWS4-HMAC-SHA256 \n yyyyMMddTHHmmssZ \n date/region/service/aws4_request \n hex(sha256(canonical))
/// signing key       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")
/// </code>
/// Header names are lower-cased and sorted, values trimmed with inner runs of spaces collapsed.
/// </summary>
internal static class AwsRequestSigner
{
    public const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>The value of the `Authorization` header.</summary>
    /// <param name="headers">Every header to sign, including `host` and `x-amz-date` (names in any case).</param>
    /// <param name="payloadHash">Lower-case hex SHA-256 of the body.</param>
    public static string Authorization(
        string method, string path, string query, IReadOnlyDictionary<string, string> headers, string payloadHash,
        AwsSigningCredentials credentials, string region, string service, DateTimeOffset time)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(credentials);
        var sorted = headers
            .Select(h => (Name: h.Key.ToLowerInvariant(), Value: CollapseSpaces(h.Value.Trim())))
            .OrderBy(h => h.Name, StringComparer.Ordinal)
            .ToList();
        var signedHeaders = string.Join(';', sorted.Select(h => h.Name));
        var canonical = new StringBuilder()
            .Append(method).Append('\n')
            .Append(path.Length == 0 ? "/" : path).Append('\n')
            .Append(query).Append('\n');
        foreach (var (name, value) in sorted)
        {
            canonical.Append(name).Append(':').Append(value).Append('\n');
        }

        canonical.Append('\n').Append(signedHeaders).Append('\n').Append(payloadHash);

        var date = time.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var scope = $"{date}/{region}/{service}/aws4_request";
        var stringToSign = $"{Algorithm}\n{AmzDate(time)}\n{scope}\n{Sha256Hex(canonical.ToString())}";

        var key = Hmac(Encoding.UTF8.GetBytes("AWS4" + credentials.SecretAccessKey), date);
        key = Hmac(key, region);
        key = Hmac(key, service);
        key = Hmac(key, "aws4_request");
        var signature = Convert.ToHexStringLower(Hmac(key, stringToSign));
        return $"{Algorithm} Credential={credentials.AccessKeyId}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}";
    }

    /// <summary>The `x-amz-date` form of a time: ISO 8601 basic, UTC.</summary>
    public static string AmzDate(DateTimeOffset time) => time.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

    public static string Sha256Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    public static string Sha256Hex(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));

    private static string CollapseSpaces(string value)
    {
        if (!value.Contains("  ", StringComparison.Ordinal))
        {
            return value;
        }

        var builder = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            if (c != ' ' || builder.Length == 0 || builder[^1] != ' ')
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
