using Microsoft.Extensions.Logging;
using Parley.Core.Storage;

namespace Parley.Infrastructure.Storage;

/// <summary>
/// Embedded-mode storage: objects are plain files under <c>{data}/artifacts</c> and <c>{data}/logs</c>, so an
/// operator can browse and back them up with ordinary tools. The content type given at upload is kept in a
/// parallel tree, <c>{data}/artifact-metadata/{bucket}/{key}</c>, rather than beside the file, so that no
/// key can collide with a metadata file.
/// </summary>
public sealed partial class LocalArtifactStore : IArtifactStore
{
    public const string MetadataDirectoryName = "artifact-metadata";
    private const string TemporarySuffix = ".tmp";
    private const string DefaultContentType = "application/octet-stream";

    private static readonly EnumerationOptions Recursive = new()
    {
        RecurseSubdirectories = true,
        // A symbolic link inside the tree must not lead a prefix delete outside of it.
        AttributesToSkip = FileAttributes.ReparsePoint,
        IgnoreInaccessible = true,
    };

    private readonly string _dataDirectory;
    private readonly LocalUrlSigner _signer;
    private readonly ILogger<LocalArtifactStore> _logger;

    public LocalArtifactStore(string dataDirectory, LocalUrlSigner signer, ILogger<LocalArtifactStore> logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        _dataDirectory = Path.GetFullPath(dataDirectory);
        _signer = signer ?? throw new ArgumentNullException(nameof(signer));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    public string Kind => "local";

    /// <summary>Signs and checks this store's download links (the API's /v2/artifacts endpoint uses it).</summary>
    public LocalUrlSigner Signer => _signer;

    /// <summary>The directory holding a bucket's files.</summary>
    public string RootOf(StorageBucket bucket) => Path.Combine(_dataDirectory, ArtifactKeys.Name(bucket));

    /// <summary>The file of an object (which may not exist); refuses keys that would leave the bucket's directory.</summary>
    public string PathOf(StorageBucket bucket, string key) => Resolve(RootOf(bucket), key);

    public async Task PutAsync(StorageBucket bucket, string key, Stream content, string contentType, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        var path = PathOf(bucket, key);
        var metadata = MetadataPathOf(bucket, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        Directory.CreateDirectory(Path.GetDirectoryName(metadata)!);

        // Temp file in the same directory, then a rename: readers see the old object or the whole new one,
        // and a crash mid-upload leaves a stray temp file instead of a truncated recording.
        var temporary = TemporaryPathFor(path);
        try
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Options = FileOptions.Asynchronous,
                BufferSize = 81920,
            };
            await using (var file = new FileStream(temporary, options))
            {
                await content.CopyToAsync(file, cancellationToken);
                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
            }

            await WriteAtomicallyAsync(metadata, string.IsNullOrWhiteSpace(contentType) ? DefaultContentType : contentType.Trim(), cancellationToken);
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    public Task<bool> ExistsAsync(StorageBucket bucket, string key, CancellationToken cancellationToken) =>
        Task.FromResult(File.Exists(PathOf(bucket, key)));

    public async Task<StoredObject?> OpenReadAsync(StorageBucket bucket, string key, CancellationToken cancellationToken)
    {
        var path = PathOf(bucket, key);
        FileStream stream;
        try
        {
            stream = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                // Deleting (retention) while someone downloads must not fail either side.
                Share = FileShare.Read | FileShare.Delete,
                Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
            });
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (UnauthorizedAccessException) when (Directory.Exists(path))
        {
            // A directory ("bots/1" while "bots/1/video.mp4" exists) is not an object.
            return null;
        }

        var contentType = await ReadContentTypeAsync(bucket, key, cancellationToken) ?? GuessContentType(key);
        return new StoredObject(stream, stream.Length, contentType);
    }

    public Task<int> DeletePrefixAsync(StorageBucket bucket, string prefix, CancellationToken cancellationToken)
    {
        ArtifactKeys.ValidatePrefix(prefix);
        var deleted = DeleteMatching(RootOf(bucket), prefix, countObjects: true, cancellationToken);
        DeleteMatching(MetadataRootOf(bucket), prefix, countObjects: false, cancellationToken);
        LogDeletedPrefix(_logger, ArtifactKeys.Name(bucket), prefix, deleted);
        return Task.FromResult(deleted);
    }

    public Uri GetDownloadUrl(StorageBucket bucket, string key, TimeSpan validFor) => _signer.CreateUrl(bucket, key, validFor);

    public async Task<bool> IsHealthyAsync(CancellationToken cancellationToken)
    {
        try
        {
            foreach (var bucket in Enum.GetValues<StorageBucket>())
            {
                var root = RootOf(bucket);
                Directory.CreateDirectory(root);
                var probe = Path.Combine(root, $".health-{Guid.NewGuid():N}{TemporarySuffix}");
                await File.WriteAllBytesAsync(probe, [1], cancellationToken);
                File.Delete(probe);
            }

            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogUnhealthy(_logger, _dataDirectory, ex.Message);
            return false;
        }
    }

    private string MetadataRootOf(StorageBucket bucket) => Path.Combine(_dataDirectory, MetadataDirectoryName, ArtifactKeys.Name(bucket));

    private string MetadataPathOf(StorageBucket bucket, string key) => Resolve(MetadataRootOf(bucket), key);

    private static string Resolve(string root, string key)
    {
        ArtifactKeys.Validate(key);
        var path = Path.GetFullPath(Path.Combine(root, key.Replace('/', Path.DirectorySeparatorChar)));
        // The key rules already exclude every way out; this is the belt to those braces.
        if (!path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Invalid storage key '{key}': it leaves the bucket.", nameof(key));
        }

        return path;
    }

    private static string TemporaryPathFor(string path) =>
        Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}{TemporarySuffix}");

    private static bool IsTemporary(string path)
    {
        var name = Path.GetFileName(path);
        return name.StartsWith('.') && name.EndsWith(TemporarySuffix, StringComparison.Ordinal);
    }

    private static async Task WriteAtomicallyAsync(string path, string text, CancellationToken cancellationToken)
    {
        var temporary = TemporaryPathFor(path);
        try
        {
            await File.WriteAllTextAsync(temporary, text, cancellationToken);
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    private async Task<string?> ReadContentTypeAsync(StorageBucket bucket, string key, CancellationToken cancellationToken)
    {
        try
        {
            var text = (await File.ReadAllTextAsync(MetadataPathOf(bucket, key), cancellationToken)).Trim();
            return text.Length == 0 ? null : text;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            // Files copied in by hand (the upload fallback directory) have no metadata.
            return null;
        }
    }

    /// <summary>For files without metadata: the types of the artifacts API.md lists.</summary>
    internal static string GuessContentType(string key) => Path.GetExtension(key).ToUpperInvariant() switch
    {
        ".MP4" => "video/mp4",
        ".WEBM" => "video/webm",
        ".FLAC" => "audio/flac",
        ".OGG" or ".OPUS" => "audio/ogg",
        ".WAV" => "audio/wav",
        ".JSON" => "application/json",
        ".JSONL" => "application/jsonl",
        ".TXT" or ".LOG" => "text/plain; charset=utf-8",
        _ => DefaultContentType,
    };

    /// <summary>
    /// Deletes files whose key starts with <paramref name="prefix"/> (a string prefix, as in S3: "bots/12"
    /// also matches "bots/123/..."), then the directories it emptied.
    /// </summary>
    private static int DeleteMatching(string root, string prefix, bool countObjects, CancellationToken cancellationToken)
    {
        var lastSlash = prefix.LastIndexOf('/');
        var scan = lastSlash < 0 ? root : Path.Combine(root, prefix[..lastSlash].Replace('/', Path.DirectorySeparatorChar));
        if (!Directory.Exists(scan))
        {
            return 0;
        }

        var deleted = 0;
        var touched = new HashSet<string>(StringComparer.Ordinal);
        var failed = new List<string>();
        foreach (var file in Directory.EnumerateFiles(scan, "*", Recursive))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var key = Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
            if (!key.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            try
            {
                File.Delete(file);
                if (countObjects && !IsTemporary(file))
                {
                    deleted++;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Keep going, then say so: retention must not mark a bot's data deleted while files remain.
                failed.Add($"{key} ({ex.Message})");
            }

            touched.Add(Path.GetDirectoryName(file)!);
        }

        foreach (var directory in touched.OrderByDescending(d => d.Length))
        {
            RemoveEmptyDirectories(directory, root);
        }

        if (failed.Count > 0)
        {
            throw new IOException($"Could not delete {failed.Count} file(s) under '{prefix}': {string.Join("; ", failed.Take(5))}");
        }

        return deleted;
    }

    private static void RemoveEmptyDirectories(string directory, string root)
    {
        for (var current = directory; current.Length > root.Length && current.StartsWith(root, StringComparison.Ordinal); current = Path.GetDirectoryName(current)!)
        {
            try
            {
                if (Directory.EnumerateFileSystemEntries(current).Any())
                {
                    return;
                }

                Directory.Delete(current);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // An upload created something in it meanwhile: it is not ours to remove.
                return;
            }
        }
    }

    private static bool TryDelete(string path)
    {
        try
        {
            if (!File.Exists(path))
            {
                return false;
            }

            File.Delete(path);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Deleted {Count} object(s) with prefix {Prefix} from local bucket {Bucket}")]
    private static partial void LogDeletedPrefix(ILogger logger, string bucket, string prefix, int count);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Local artifact storage under {Directory} is not writable: {Reason}")]
    private static partial void LogUnhealthy(ILogger logger, string directory, string reason);
}
