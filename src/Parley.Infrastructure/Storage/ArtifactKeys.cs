using Parley.Core.Storage;

namespace Parley.Infrastructure.Storage;

/// <summary>
/// The one rule for object keys, shared by every store so that a key accepted by local storage is also
/// accepted by S3 and the reverse: relative, '/'-separated, no empty, "." or ".." segment, no backslash
/// and no control character. Keys come from our own code ("bots/{id}/video.mp4"), so a refusal is a bug
/// or an attack, never something to repair silently.
/// </summary>
public static class ArtifactKeys
{
    /// <summary>S3's limit on key length (bytes of UTF-8); local storage keeps the same.</summary>
    public const int MaxLength = 1024;

    /// <summary>The name of a bucket in download links and on disk.</summary>
    public static string Name(StorageBucket bucket) => bucket switch
    {
        StorageBucket.Artifacts => "artifacts",
        StorageBucket.Logs => "logs",
        _ => throw new ArgumentOutOfRangeException(nameof(bucket), bucket, "unknown storage bucket"),
    };

    public static bool TryParseBucket(string? name, out StorageBucket bucket)
    {
        switch (name)
        {
            case "artifacts":
                bucket = StorageBucket.Artifacts;
                return true;
            case "logs":
                bucket = StorageBucket.Logs;
                return true;
            default:
                bucket = default;
                return false;
        }
    }

    /// <exception cref="ArgumentException">The key is not a safe relative key.</exception>
    public static void Validate(string key, string parameterName = "key")
    {
        if (!IsValid(key, allowTrailingSlash: false, out var problem))
        {
            throw new ArgumentException($"Invalid storage key '{Printable(key)}': {problem}.", parameterName);
        }
    }

    /// <summary>A prefix follows the key rules but may end with '/' ("bots/123/").</summary>
    /// <exception cref="ArgumentException">The prefix is empty or not a safe relative key.</exception>
    public static void ValidatePrefix(string prefix, string parameterName = "prefix")
    {
        if (!IsValid(prefix, allowTrailingSlash: true, out var problem))
        {
            throw new ArgumentException($"Invalid storage prefix '{Printable(prefix)}': {problem}.", parameterName);
        }
    }

    public static bool IsValid(string? key) => IsValid(key, allowTrailingSlash: false, out _);

    private static bool IsValid(string? key, bool allowTrailingSlash, out string problem)
    {
        if (string.IsNullOrEmpty(key))
        {
            // An empty prefix would mean "everything": deleting a whole bucket must not be one typo away.
            problem = "it is empty";
            return false;
        }

        if (System.Text.Encoding.UTF8.GetByteCount(key) > MaxLength)
        {
            problem = $"it is longer than {MaxLength} bytes";
            return false;
        }

        if (key[0] == '/' || Path.IsPathRooted(key))
        {
            problem = "it is an absolute path";
            return false;
        }

        foreach (var c in key)
        {
            if (c == '\\')
            {
                problem = "it contains a backslash";
                return false;
            }

            if (char.IsControl(c))
            {
                problem = "it contains a control character";
                return false;
            }
        }

        var body = allowTrailingSlash && key[^1] == '/' ? key[..^1] : key;
        foreach (var segment in body.Split('/'))
        {
            switch (segment)
            {
                case "":
                    problem = "it has an empty segment ('//' or a trailing '/')";
                    return false;
                case "." or "..":
                    problem = "it has a '.' or '..' segment";
                    return false;
            }
        }

        problem = "";
        return true;
    }

    private static string Printable(string? key) =>
        key is null ? "" : new string([.. key.Take(200).Select(c => char.IsControl(c) ? '?' : c)]);
}
