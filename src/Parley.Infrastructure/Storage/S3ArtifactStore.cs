using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using Parley.Core.Storage;
using Parley.Infrastructure.Aws;

namespace Parley.Infrastructure.Storage;

/// <summary>
/// Artifacts in S3 or an S3-compatible server. Logs go to <c>AWS_S3_LOGS_BUCKET</c>, or to the artifacts
/// bucket under <c>logs/</c> when that is unset, so one bucket is enough to start.
/// </summary>
public sealed partial class S3ArtifactStore : IArtifactStore, IDisposable
{
    /// <summary>SigV4 presigned URLs cannot live longer (AWS documentation, "Sharing objects with presigned URLs").</summary>
    public static readonly TimeSpan MaxLinkLifetime = TimeSpan.FromDays(7);

    internal const string SharedLogsPrefix = "logs/";


    private readonly IAmazonS3 _client;
    private readonly string _artifactsBucket;
    private readonly string? _logsBucket;
    private readonly Protocol _protocol;
    private readonly bool _ownsClient;
    private readonly ILogger<S3ArtifactStore> _logger;

    public S3ArtifactStore(IAmazonS3 client, string artifactsBucket, string? logsBucket, ILogger<S3ArtifactStore> logger, bool ownsClient = false)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        ArgumentException.ThrowIfNullOrEmpty(artifactsBucket);
        _artifactsBucket = artifactsBucket;
        _logsBucket = string.IsNullOrEmpty(logsBucket) ? null : logsBucket;
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _ownsClient = ownsClient;
        // Presigned links default to https; a plain-http endpoint (a local MinIO, moto) would then be unreachable.
        _protocol = client.Config.ServiceURL is { } url && url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? Protocol.HTTP : Protocol.HTTPS;
    }

    public string Kind => "s3";

    /// <summary>Keys listed and deleted per request: 1,000 is the most either S3 call accepts.</summary>
    internal int PageSize { get; init; } = 1000;

    /// <summary>A client for the configured account, region, endpoint and addressing style.</summary>
    public static AmazonS3Client CreateClient(AwsOptions aws, StorageOptions storage)
    {
        ArgumentNullException.ThrowIfNull(aws);
        ArgumentNullException.ThrowIfNull(storage);
        var config = new AmazonS3Config
        {
            ForcePathStyle = storage.ForcePathStyle,
            // The SDK's default trailing CRC checksums are not understood by many S3-compatible servers;
            // send and verify checksums only where the API requires them (DeleteObjects).
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        AwsClientSettings.Apply(config, aws.Region, aws.EndpointUrl);
        return AwsClientSettings.Credentials(aws.AccessKeyId, aws.SecretAccessKey) is { } credentials
            ? new AmazonS3Client(credentials, config)
            : new AmazonS3Client(config);
    }

    public async Task PutAsync(StorageBucket bucket, string key, Stream content, string contentType, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        var (bucketName, objectKey) = Locate(bucket, key);
        // PutObject needs the length up front; a pipe or network stream is spooled to a temporary file
        // rather than to memory (a recording can be gigabytes).
        Stream? spooled = null;
        try
        {
            var body = content;
            if (!content.CanSeek)
            {
                spooled = new FileStream(Path.GetTempFileName(), FileMode.Create, FileAccess.ReadWrite, FileShare.None, 81920, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
                await content.CopyToAsync(spooled, cancellationToken);
                spooled.Position = 0;
                body = spooled;
            }

            await _client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = bucketName,
                Key = objectKey,
                InputStream = body,
                AutoCloseStream = false,
                ContentType = string.IsNullOrWhiteSpace(contentType) ? "application/octet-stream" : contentType.Trim(),
            }, cancellationToken);
        }
        finally
        {
            if (spooled is not null)
            {
                await spooled.DisposeAsync();
            }
        }
    }

    public async Task<bool> ExistsAsync(StorageBucket bucket, string key, CancellationToken cancellationToken)
    {
        var (bucketName, objectKey) = Locate(bucket, key);
        try
        {
            await _client.GetObjectMetadataAsync(bucketName, objectKey, cancellationToken);
            return true;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    public async Task<StoredObject?> OpenReadAsync(StorageBucket bucket, string key, CancellationToken cancellationToken)
    {
        var (bucketName, objectKey) = Locate(bucket, key);
        try
        {
            var response = await _client.GetObjectAsync(bucketName, objectKey, cancellationToken);
            var contentType = string.IsNullOrEmpty(response.Headers.ContentType) ? "application/octet-stream" : response.Headers.ContentType;
            // Disposing the response stream releases the HTTP connection.
            return new StoredObject(response.ResponseStream, response.ContentLength, contentType);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<int> DeletePrefixAsync(StorageBucket bucket, string prefix, CancellationToken cancellationToken)
    {
        ArtifactKeys.ValidatePrefix(prefix);
        var (bucketName, objectPrefix) = LocatePrefix(bucket, prefix);
        var deleted = 0;
        string? continuation = null;
        do
        {
            var page = await _client.ListObjectsV2Async(new ListObjectsV2Request
            {
                BucketName = bucketName,
                Prefix = objectPrefix,
                ContinuationToken = continuation,
                MaxKeys = PageSize,
            }, cancellationToken);
            var keys = page.S3Objects?.Select(o => o.Key).ToList() ?? [];
            if (keys.Count > 0)
            {
                var result = await _client.DeleteObjectsAsync(new DeleteObjectsRequest
                {
                    BucketName = bucketName,
                    Objects = [.. keys.Select(k => new KeyVersion { Key = k })],
                    Quiet = true,
                }, cancellationToken);
                var errors = result.DeleteErrors ?? [];
                if (errors.Count > 0)
                {
                    // Retention must not mark a bot's data deleted while objects remain.
                    throw new IOException($"S3 refused to delete {errors.Count} object(s) under '{objectPrefix}' in '{bucketName}': " +
                        string.Join("; ", errors.Take(5).Select(e => $"{e.Key}: {e.Code} {e.Message}")));
                }

                deleted += keys.Count;
            }

            continuation = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (continuation is not null);

        LogDeletedPrefix(_logger, bucketName, objectPrefix, deleted);
        return deleted;
    }

    public Uri GetDownloadUrl(StorageBucket bucket, string key, TimeSpan validFor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(validFor, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(validFor, MaxLinkLifetime);
        var (bucketName, objectKey) = Locate(bucket, key);
        var url = _client.GetPreSignedURL(new GetPreSignedUrlRequest
        {
            BucketName = bucketName,
            Key = objectKey,
            Verb = HttpVerb.GET,
            Expires = DateTime.UtcNow.Add(validFor),
            Protocol = _protocol,
        });
        return new Uri(url);
    }

    public async Task<bool> IsHealthyAsync(CancellationToken cancellationToken)
    {
        foreach (var bucketName in new[] { _artifactsBucket, _logsBucket }.OfType<string>().Distinct(StringComparer.Ordinal))
        {
            try
            {
                await _client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucketName, MaxKeys = 1 }, cancellationToken);
            }
            catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException or IOException
                || ex is OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                LogUnhealthy(_logger, bucketName, ex.Message);
                return false;
            }
        }

        return true;
    }

    public void Dispose()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }

    private (string Bucket, string Key) Locate(StorageBucket bucket, string key)
    {
        ArtifactKeys.Validate(key);
        return LocatePrefix(bucket, key);
    }

    private (string Bucket, string Key) LocatePrefix(StorageBucket bucket, string key) => bucket switch
    {
        StorageBucket.Artifacts => (_artifactsBucket, key),
        StorageBucket.Logs when _logsBucket is not null => (_logsBucket, key),
        StorageBucket.Logs => (_artifactsBucket, SharedLogsPrefix + key),
        _ => throw new ArgumentOutOfRangeException(nameof(bucket), bucket, "unknown storage bucket"),
    };

    [LoggerMessage(EventId = 3011, Level = LogLevel.Information, Message = "Deleted {Count} object(s) with prefix {Prefix} from S3 bucket {Bucket}")]
    private static partial void LogDeletedPrefix(ILogger logger, string bucket, string prefix, int count);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Warning, Message = "S3 bucket {Bucket} is not reachable: {Reason}")]
    private static partial void LogUnhealthy(ILogger logger, string bucket, string reason);
}
