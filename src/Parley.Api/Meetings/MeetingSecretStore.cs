using System.Security.Cryptography;
using System.Text;

namespace Parley.Api.Meetings;

/// <summary>The key that signs and verifies join tokens, and where it came from.</summary>
public sealed class MeetingSigningKey(byte[] key, string? filePath, bool generated)
{
    /// <summary>The UTF-8 bytes of JWT_SECRET (or of the stored secret), used as the HMAC key as they are.</summary>
    public ReadOnlyMemory<byte> Key { get; } = key;

    /// <summary>The data-directory file holding a secret Parley generated; null when JWT_SECRET is set.</summary>
    public string? FilePath { get; } = filePath;

    /// <summary>True for the process that generated the secret (the first one to need it).</summary>
    public bool Generated { get; } = generated;
}

/// <summary>
/// Embedded mode's zero-configuration JWT_SECRET, handled like the generated API key: 32 random bytes as hex,
/// written once to the data directory readable by the owner only, read back by every later start so that
/// join tokens stay valid across restarts. The hex text is the secret (its UTF-8 bytes are the key), so an
/// operator can copy the file's content into JWT_SECRET of another replica and both accept the same tokens.
/// </summary>
public static class MeetingSecretStore
{
    public const string FileName = "jwt-secret";

    public static MeetingSigningKey Resolve(string? configuredSecret, string dataDirectory)
    {
        if (!string.IsNullOrEmpty(configuredSecret))
        {
            return new MeetingSigningKey(Encoding.UTF8.GetBytes(configuredSecret), null, generated: false);
        }

        var path = Path.GetFullPath(Path.Combine(dataDirectory, FileName));
        if (TryRead(path) is { } stored)
        {
            if (Encoding.UTF8.GetByteCount(stored) < Core.Meetings.MeetingOptions.MinimumSecretBytes)
            {
                throw new InvalidOperationException($"{path} holds a secret shorter than {Core.Meetings.MeetingOptions.MinimumSecretBytes} characters; delete the file (a new one is generated) or set JWT_SECRET.");
            }

            return new MeetingSigningKey(Encoding.UTF8.GetBytes(stored), path, generated: false);
        }

        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        Directory.CreateDirectory(dataDirectory);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using var stream = new FileStream(path, options);
            using var writer = new StreamWriter(stream);
            writer.WriteLine(secret);
        }
        catch (IOException) when (TryRead(path) is { } raced)
        {
            // Another process of the same data directory (a second `serve`, a `job run`) wrote it first: one
            // secret for both, or each would refuse the other's tokens.
            return new MeetingSigningKey(Encoding.UTF8.GetBytes(raced), path, generated: false);
        }
        catch (IOException) when (File.Exists(path) && new FileInfo(path).Length == 0)
        {
            // An empty file left by a crash between create and write: replace it.
            File.WriteAllText(path, secret + "\n");
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return new MeetingSigningKey(Encoding.UTF8.GetBytes(secret), path, generated: true);
    }

    private static string? TryRead(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        var text = File.ReadAllText(path).Trim();
        return text.Length > 0 ? text : null;
    }
}
