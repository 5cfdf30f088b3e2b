using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Parley.Core.Storage;

/// <summary>One file of a fallback entry: what it becomes in artifact storage (bots/{bot_id}/{name}).</summary>
public sealed record FallbackFile(string Kind, string Name, string ContentType, long SizeBytes);

/// <summary>The manifest a bot writes last into its fallback entry (<see cref="FallbackStore.ManifestFileName"/>).</summary>
public sealed record FallbackManifest(int Version, string BotId, DateTime CreatedAt, string? Reason, IReadOnlyList<FallbackFile> Files);

/// <summary>A directory found in the fallback root: its manifest when the entry is complete, else why it is not.</summary>
public sealed record FallbackEntry(string Name, string Path, FallbackManifest? Manifest, string? Problem);

/// <summary>
/// The layout of PARLEY_FALLBACK_STORAGE_DIR, shared by the bot that writes an entry and the jobs role's
/// fallback-upload-job that uploads it. The directory may be NFS or EFS with several writers and several
/// readers, so every state change is one rename, which NFS and local file systems both do atomically:
/// <code>
/// .incoming~{guid}~{bot_id}/            a bot is copying files in: never read
/// {bot_id}/  ({bot_id}~{guid} if taken) complete: the files, then parley-fallback.json written last
/// .claimed~{unix_s}~{guid}~{entry}/     one job run took it (the rename succeeds for one replica only);
///                                        older than the claim timeout: the run died, the entry is put back
/// </code>
/// An entry is uploaded only when its manifest parses and every file it lists is there with the listed size,
/// so that a directory still being copied by hand (rsync, an operator restoring a backup) waits until it is whole.
/// </summary>
public sealed class FallbackStore(string root, TimeProvider time)
{
    public const string ManifestFileName = "parley-fallback.json";
    public const int ManifestVersion = 1;

    /// <summary>The sentence a bot puts in error_message when its recording went to fallback storage; the job
    /// removes it once the files are stored (so a bot that is whole again does not keep saying it is not).</summary>
    public const string PendingNote = "Artifact storage was unavailable: the recording is kept in fallback storage and uploaded by fallback-upload-job; bot.completed is sent again when it is stored.";

    private const string IncomingPrefix = ".incoming~";
    private const string ClaimedPrefix = ".claimed~";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>
    /// Copies <paramref name="files"/> into a new entry for <paramref name="botId"/> and makes it visible with one
    /// rename once everything, manifest last, is on disk. Returns the entry's directory.
    /// </summary>
    /// <exception cref="IOException">The fallback directory cannot be written; nothing was made visible.</exception>
    public async Task<string> WriteAsync(string botId, IReadOnlyList<(string SourcePath, string Kind, string ContentType)> files, string? reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(files);
        CheckBotId(botId);
        Directory.CreateDirectory(Root);
        var incoming = Path.Combine(Root, $"{IncomingPrefix}{Guid.NewGuid():N}~{botId}");
        Directory.CreateDirectory(incoming);
        try
        {
            var listed = new List<FallbackFile>();
            foreach (var (source, kind, contentType) in files)
            {
                var name = Path.GetFileName(source);
                if (!IsSafeName(name) || listed.Any(f => f.Name == name))
                {
                    throw new ArgumentException($"'{name}' cannot be a fallback file name (unsafe, reserved or listed twice).", nameof(files));
                }

                var size = await CopyDurablyAsync(source, Path.Combine(incoming, name), cancellationToken).ConfigureAwait(false);
                listed.Add(new FallbackFile(kind, name, contentType, size));
            }

            var manifest = new FallbackManifest(ManifestVersion, botId, time.GetUtcNow().UtcDateTime, reason, listed);
            await WriteDurablyAsync(Path.Combine(incoming, ManifestFileName), JsonSerializer.SerializeToUtf8Bytes(manifest, Json), cancellationToken).ConfigureAwait(false);
            return Publish(incoming, botId);
        }
        catch
        {
            TryDelete(incoming);
            throw;
        }
    }

    /// <summary>The visible entries (not being written, not claimed), oldest name first, each with its manifest or its problem.</summary>
    public IReadOnlyList<FallbackEntry> ListReady()
    {
        if (!Directory.Exists(Root))
        {
            return [];
        }

        return [.. Directory.EnumerateDirectories(Root)
            .Select(Path.GetFileName)
            .Where(n => n is not null && !n.StartsWith('.'))
            .Order(StringComparer.Ordinal)
            .Select(n => Inspect(n!, Path.Combine(Root, n!)))];
    }

    /// <summary>Takes the entry for this run; null when another run took it (or it vanished) first.</summary>
    public FallbackClaim? TryClaim(FallbackEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var unix = time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var claimed = Path.Combine(Root, $"{ClaimedPrefix}{unix}~{Guid.NewGuid():N}~{entry.Name}");
        try
        {
            Directory.Move(entry.Path, claimed);
        }
        catch (Exception ex) when (ex is DirectoryNotFoundException or IOException)
        {
            return null;
        }

        // Re-read after the rename: what was checked before belonged to a directory another process could still change.
        var inspected = Inspect(entry.Name, claimed);
        return new FallbackClaim(this, entry.Name, claimed, inspected.Manifest, inspected.Problem);
    }

    /// <summary>Puts back the entries whose claim is older than <paramref name="timeout"/> (their run died); returns how many.</summary>
    public int ReclaimStale(TimeSpan timeout)
    {
        if (!Directory.Exists(Root))
        {
            return 0;
        }

        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var count = 0;
        foreach (var path in Directory.EnumerateDirectories(Root, ClaimedPrefix + "*"))
        {
            var parts = Path.GetFileName(path).Split('~', 4);
            if (parts.Length != 4 || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var at) || now - at < timeout.TotalSeconds)
            {
                continue;
            }

            count += TryMoveBack(path, parts[3]) ? 1 : 0;
        }

        return count;
    }

    internal bool TryMoveBack(string claimed, string entryName)
    {
        var target = Path.Combine(Root, entryName);
        if (Directory.Exists(target))
        {
            target = Path.Combine(Root, $"{entryName}~{Guid.NewGuid():N}");
        }

        try
        {
            Directory.Move(claimed, target);
            return true;
        }
        catch (Exception ex) when (ex is DirectoryNotFoundException or IOException)
        {
            // Another run moved it first.
            return false;
        }
    }

    internal static void TryDelete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    private static FallbackEntry Inspect(string name, string path)
    {
        var manifestPath = Path.Combine(path, ManifestFileName);
        if (!File.Exists(manifestPath))
        {
            return new FallbackEntry(name, path, null, $"no {ManifestFileName} yet");
        }

        FallbackManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<FallbackManifest>(File.ReadAllBytes(manifestPath), Json);
        }
        catch (Exception ex) when (ex is JsonException or IOException or NotSupportedException)
        {
            return new FallbackEntry(name, path, null, $"{ManifestFileName} is not readable yet ({ex.Message})");
        }

        if (manifest is not { Version: ManifestVersion, BotId: { Length: > 0 }, Files: not null } || !IsSafeBotId(manifest.BotId))
        {
            return new FallbackEntry(name, path, null, $"{ManifestFileName} is not a version {ManifestVersion} manifest with a bot_id and files");
        }

        foreach (var file in manifest.Files)
        {
            if (file is null || !IsSafeName(file.Name))
            {
                return new FallbackEntry(name, path, null, $"{ManifestFileName} lists an unsafe file name");
            }

            var info = new FileInfo(Path.Combine(path, file.Name));
            if (!info.Exists || info.Length != file.SizeBytes)
            {
                return new FallbackEntry(name, path, null, $"{file.Name} is {(info.Exists ? $"{info.Length} of {file.SizeBytes}" : $"missing (0 of {file.SizeBytes})")} bytes: still being copied");
            }
        }

        return new FallbackEntry(name, path, manifest, null);
    }

    private string Publish(string incoming, string botId)
    {
        var target = Path.Combine(Root, botId);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                Directory.Move(incoming, target);
                return target;
            }
            catch (IOException) when (attempt < 3 && Directory.Exists(target))
            {
                // A bot run twice (queue redelivery) may leave a second entry: keep both, the job uploads each.
                target = Path.Combine(Root, $"{botId}~{Guid.NewGuid():N}");
            }
        }
    }

    private static async Task<long> CopyDurablyAsync(string source, string destination, CancellationToken cancellationToken)
    {
        await using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous);
        await input.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        // On NFS a close flushes; on a local disk this is what makes "kept" survive a power cut.
        output.Flush(flushToDisk: true);
        return output.Length;
    }

    private static async Task WriteDurablyAsync(string path, byte[] content, CancellationToken cancellationToken)
    {
        await using var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous);
        await output.WriteAsync(content, cancellationToken).ConfigureAwait(false);
        output.Flush(flushToDisk: true);
    }

    private static void CheckBotId(string botId)
    {
        if (!IsSafeBotId(botId))
        {
            throw new ArgumentException($"'{botId}' is not a bot id usable as a directory name.", nameof(botId));
        }
    }

    private static bool IsSafeBotId(string botId) =>
        botId.Length is > 0 and <= 100 && botId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static bool IsSafeName(string? name) =>
        name is { Length: > 0 and <= 128 } && name != ManifestFileName && !name.StartsWith('.')
        && name.IndexOfAny(['/', '\\', '~']) < 0 && !name.Contains("..", StringComparison.Ordinal) && !name.Any(char.IsControl);
}

/// <summary>An entry taken by one job run: <see cref="Complete"/> deletes it, <see cref="Release"/> puts it back.</summary>
public sealed class FallbackClaim
{
    private readonly FallbackStore _store;

    internal FallbackClaim(FallbackStore store, string entryName, string path, FallbackManifest? manifest, string? problem)
    {
        _store = store;
        EntryName = entryName;
        Path = path;
        Manifest = manifest;
        Problem = problem;
    }

    public string EntryName { get; }

    public string Path { get; }

    /// <summary>Null when the entry turned out incomplete after the claim (<see cref="Problem"/> says why): release it.</summary>
    public FallbackManifest? Manifest { get; }

    public string? Problem { get; }

    public string FileOf(FallbackFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return System.IO.Path.Combine(Path, file.Name);
    }

    /// <summary>Everything is stored: the entry goes.</summary>
    public void Complete() => FallbackStore.TryDelete(Path);

    /// <summary>Not done (storage still down, the bot still running): visible again for the next run.</summary>
    public void Release() => _store.TryMoveBack(Path, EntryName);
}
