namespace Parley.Core.Storage;

/// <summary>The buckets of the Meeting BaaS layout: recordings and their derivatives, and bot logs.</summary>
public enum StorageBucket
{
    Artifacts,
    Logs,
}

/// <summary>An object opened for reading.</summary>
public sealed record StoredObject(Stream Content, long Length, string ContentType) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Content.DisposeAsync();
}

/// <summary>
/// Where artifacts live: a local directory (embedded mode) or an S3-compatible bucket. Keys are relative,
/// '/'-separated paths such as "bots/{botId}/video.mp4"; implementations refuse keys that would escape
/// their root ("..", absolute paths).
/// </summary>
public interface IArtifactStore
{
    /// <summary>"local" or "s3", reported by /health.</summary>
    string Kind { get; }

    Task PutAsync(StorageBucket bucket, string key, Stream content, string contentType, CancellationToken cancellationToken);

    Task<bool> ExistsAsync(StorageBucket bucket, string key, CancellationToken cancellationToken);

    /// <summary>Null when the object does not exist.</summary>
    Task<StoredObject?> OpenReadAsync(StorageBucket bucket, string key, CancellationToken cancellationToken);

    /// <summary>Deletes every object whose key starts with the prefix; returns how many were deleted.</summary>
    Task<int> DeletePrefixAsync(StorageBucket bucket, string prefix, CancellationToken cancellationToken);

    /// <summary>
    /// A download link valid for <paramref name="validFor"/> (API.md: 4 hours): presigned for S3, an
    /// HMAC-signed `/v2/artifacts/...` link served by the API for local storage.
    /// </summary>
    Uri GetDownloadUrl(StorageBucket bucket, string key, TimeSpan validFor);

    /// <summary>Cheap reachability check for /health (bucket exists / directory writable).</summary>
    Task<bool> IsHealthyAsync(CancellationToken cancellationToken);
}
