using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Parley.Core.Storage;

namespace Parley.Infrastructure.Storage;

/// <summary>What a download link turned out to be.</summary>
public enum SignedLinkStatus
{
    Valid,

    /// <summary>Signature missing, malformed or not ours (a changed key, bucket or expiry).</summary>
    Invalid,

    /// <summary>Signed by us, but its time is up.</summary>
    Expired,
}

/// <summary>
/// Download links for local storage: <c>{base}/v2/artifacts/{bucket}/{key}?expires={unix}&amp;signature={hex}</c>,
/// where the signature is HMAC-SHA256 over "bucket\nkey\nexpires". The key cannot contain a newline
/// (control characters are refused), so the signed string is unambiguous. The link is its own authorization,
/// the way an S3 presigned URL is: whoever holds it may download until it expires.
/// </summary>
public sealed class LocalUrlSigner
{
    private readonly byte[] _key;
    private readonly string _baseUrl;
    private readonly TimeProvider _time;

    public LocalUrlSigner(byte[] key, Uri baseUrl, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(baseUrl);
        if (key.Length < 16)
        {
            throw new ArgumentException("A signing key needs at least 16 bytes.", nameof(key));
        }

        _key = key;
        // A base with a path (https://example.com/parley/) keeps it: the API may sit behind a path prefix.
        _baseUrl = baseUrl.AbsoluteUri.TrimEnd('/');
        _time = time ?? TimeProvider.System;
    }

    public Uri CreateUrl(StorageBucket bucket, string key, TimeSpan validFor)
    {
        ArtifactKeys.Validate(key);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(validFor, TimeSpan.Zero);
        var bucketName = ArtifactKeys.Name(bucket);
        var expires = _time.GetUtcNow().Add(validFor).ToUnixTimeSeconds();
        var path = string.Join('/', key.Split('/').Select(Uri.EscapeDataString));
        var signature = Sign(bucketName, key, expires);
        return new Uri(string.Create(CultureInfo.InvariantCulture, $"{_baseUrl}/v2/artifacts/{bucketName}/{path}?expires={expires}&signature={signature}"));
    }

    /// <summary>Lowercase hex HMAC-SHA256 of the link's bucket, key and expiry.</summary>
    public string Sign(string bucketName, string key, long expires) =>
        Convert.ToHexStringLower(Compute(bucketName, key, expires));

    /// <summary>
    /// Checks a link as received. The signature is checked first and in constant time, so an expired
    /// link with a forged expiry reads as invalid, not as "try a later time".
    /// </summary>
    public SignedLinkStatus Verify(string bucketName, string key, string? expires, string? signature)
    {
        if (!long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var expiresAt)
            || signature is null || signature.Length != 64)
        {
            return SignedLinkStatus.Invalid;
        }

        Span<byte> given = stackalloc byte[32];
        if (Convert.FromHexString(signature, given, out _, out var written) != System.Buffers.OperationStatus.Done || written != 32)
        {
            return SignedLinkStatus.Invalid;
        }

        if (!CryptographicOperations.FixedTimeEquals(given, Compute(bucketName, key, expiresAt)))
        {
            return SignedLinkStatus.Invalid;
        }

        return _time.GetUtcNow().ToUnixTimeSeconds() > expiresAt ? SignedLinkStatus.Expired : SignedLinkStatus.Valid;
    }

    private byte[] Compute(string bucketName, string key, long expires) =>
        HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{bucketName}\n{key}\n{expires}")));
}

/// <summary>
/// The signing key: <c>PARLEY_ARTIFACT_SIGNING_KEY</c> when set, else 32 random bytes generated on the first
/// start and kept in the data directory (mode 0600) so that links stay valid across restarts.
/// </summary>
public static class ArtifactSigningKey
{
    public const string FileName = "artifact-signing-key";

    public static byte[] Resolve(string? configuredKey, string dataDirectory)
    {
        if (!string.IsNullOrEmpty(configuredKey))
        {
            return Encoding.UTF8.GetBytes(configuredKey);
        }

        var path = Path.GetFullPath(Path.Combine(dataDirectory, FileName));
        if (TryRead(path) is { } stored)
        {
            return stored;
        }

        var replaceUnusable = File.Exists(path);

        Directory.CreateDirectory(dataDirectory);
        var key = RandomNumberGenerator.GetBytes(32);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        // Written beside the final name and moved into place: a process starting at the same moment reads
        // either no file or a whole key, never half of one.
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        using (var stream = new FileStream(temporary, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.WriteLine(Convert.ToHexStringLower(key));
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        try
        {
            File.Move(temporary, path, overwrite: replaceUnusable);
            return key;
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process won the race: everyone must sign with the same key.
            File.Delete(temporary);
            return TryRead(path) ?? key;
        }
    }

    private static byte[]? TryRead(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        var text = File.ReadAllText(path).Trim();
        if (text.Length == 64 && text.All(char.IsAsciiHexDigit))
        {
            return Convert.FromHexString(text);
        }

        // An operator may have put a key of their own there; a short or empty file is regenerated.
        return text.Length >= StorageOptions.MinimumSigningKeyLength ? Encoding.UTF8.GetBytes(text) : null;
    }
}
