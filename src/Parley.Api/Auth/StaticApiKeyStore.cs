using System.Security.Cryptography;

namespace Parley.Api.Auth;

/// <summary>The outcome of resolving the single-tenant key: the key, where it lives, whether it is new.</summary>
public sealed record StaticApiKey(string Value, string? FilePath, bool Generated);

/// <summary>
/// Embedded mode's zero-configuration key: generated on first start (32 random bytes as hex, the
/// `openssl rand -hex 32` of the Meeting BaaS guide), written to the data directory readable by the owner
/// only, and read back on later starts so that clients keep working across restarts.
/// </summary>
public static class StaticApiKeyStore
{
    public const string FileName = "api-key";

    public static StaticApiKey Resolve(string? configuredKey, string dataDirectory)
    {
        if (!string.IsNullOrEmpty(configuredKey))
        {
            return new StaticApiKey(configuredKey, null, Generated: false);
        }

        var path = Path.GetFullPath(Path.Combine(dataDirectory, FileName));
        if (File.Exists(path))
        {
            var stored = File.ReadAllText(path).Trim();
            if (stored.Length > 0)
            {
                return new StaticApiKey(stored, path, Generated: false);
            }
        }

        var key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        Directory.CreateDirectory(dataDirectory);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.WriteLine(key);
        }

        if (!OperatingSystem.IsWindows())
        {
            // UnixCreateMode only applies to a file that did not exist (an empty one may have).
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return new StaticApiKey(key, path, Generated: true);
    }
}
