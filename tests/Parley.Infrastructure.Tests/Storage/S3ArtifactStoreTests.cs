using System.Net;
using System.Text;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.Core.Storage;
using Parley.Infrastructure.Storage;

namespace Parley.Infrastructure.Tests.Storage;

/// <summary>Against the real S3 API of moto_server, with path-style addressing as S3-compatible servers need.</summary>
public sealed class S3ArtifactStoreTests : IDisposable
{
    private readonly AmazonS3Client _client = S3ArtifactStore.CreateClient(Moto.Aws, new StorageOptions { ForcePathStyle = true });

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task An_object_round_trips_with_its_content_type()
    {
        var store = await CreateStoreAsync(logsBucket: false);
        var bytes = Encoding.UTF8.GetBytes("fLaC-not-really");

        await store.PutAsync(StorageBucket.Artifacts, "bots/b1/audio.flac", new MemoryStream(bytes), "audio/flac", default);

        Assert.True(await store.ExistsAsync(StorageBucket.Artifacts, "bots/b1/audio.flac", default));
        Assert.False(await store.ExistsAsync(StorageBucket.Artifacts, "bots/b1/video.mp4", default));
        await using var stored = await store.OpenReadAsync(StorageBucket.Artifacts, "bots/b1/audio.flac", default);
        Assert.NotNull(stored);
        Assert.Equal("audio/flac", stored.ContentType);
        Assert.Equal(bytes.Length, stored.Length);
        Assert.Equal(bytes, await ReadAllAsync(stored.Content));
        Assert.Null(await store.OpenReadAsync(StorageBucket.Artifacts, "bots/b1/video.mp4", default));
    }

    [Fact]
    public async Task A_stream_of_unknown_length_is_uploaded_whole()
    {
        var store = await CreateStoreAsync(logsBucket: false);
        var bytes = new byte[300_000];
        Random.Shared.NextBytes(bytes);

        await store.PutAsync(StorageBucket.Artifacts, "bots/b1/video.mp4", new ForwardOnlyStream(bytes), "video/mp4", default);

        await using var stored = await store.OpenReadAsync(StorageBucket.Artifacts, "bots/b1/video.mp4", default);
        Assert.Equal(bytes, await ReadAllAsync(stored!.Content));
    }

    [Fact]
    public async Task A_presigned_url_valid_for_four_hours_downloads_the_bytes()
    {
        var store = await CreateStoreAsync(logsBucket: false);
        var bytes = Encoding.UTF8.GetBytes("{\"messages\":[]}");
        await store.PutAsync(StorageBucket.Artifacts, "bots/b1/chat messages.json", new MemoryStream(bytes), "application/json", default);

        var url = store.GetDownloadUrl(StorageBucket.Artifacts, "bots/b1/chat messages.json", TimeSpan.FromHours(4));

        using var http = new HttpClient();
        using var response = await http.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
        // moto does not check signatures (S3 does); what is ours to check is that the link is signed for 4 h.
        var expires = int.Parse(System.Web.HttpUtility.ParseQueryString(url.Query)["X-Amz-Expires"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires, 4 * 3600 - 2, 4 * 3600 + 2);
        Assert.Contains("X-Amz-Signature=", url.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logs_go_to_the_logs_bucket_when_one_is_set()
    {
        var (artifacts, logs) = (await CreateBucketAsync(), await CreateBucketAsync());
        var store = new S3ArtifactStore(_client, artifacts, logs, NullLogger<S3ArtifactStore>.Instance);

        await store.PutAsync(StorageBucket.Logs, "bots/b1/bot.log", new MemoryStream([1, 2]), "text/plain", default);

        Assert.Equal(HttpStatusCode.OK, (await _client.GetObjectMetadataAsync(logs, "bots/b1/bot.log")).HttpStatusCode);
        Assert.Equal(0, (await _client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = artifacts })).KeyCount ?? 0);
    }

    [Fact]
    public async Task Without_a_logs_bucket_logs_share_the_artifacts_bucket_under_logs_prefix()
    {
        var artifacts = await CreateBucketAsync();
        var store = new S3ArtifactStore(_client, artifacts, null, NullLogger<S3ArtifactStore>.Instance);

        await store.PutAsync(StorageBucket.Logs, "bots/b1/bot.log", new MemoryStream([1, 2]), "text/plain", default);

        Assert.Equal(HttpStatusCode.OK, (await _client.GetObjectMetadataAsync(artifacts, "logs/bots/b1/bot.log")).HttpStatusCode);
        Assert.True(await store.ExistsAsync(StorageBucket.Logs, "bots/b1/bot.log", default));
        Assert.False(await store.ExistsAsync(StorageBucket.Artifacts, "bots/b1/bot.log", default));
        Assert.Equal(1, await store.DeletePrefixAsync(StorageBucket.Logs, "bots/b1/", default));
    }

    [Fact]
    public async Task Deleting_a_prefix_goes_through_every_page_and_spares_other_keys()
    {
        var bucket = await CreateBucketAsync();
        var store = new S3ArtifactStore(_client, bucket, null, NullLogger<S3ArtifactStore>.Instance) { PageSize = 7 };
        for (var i = 0; i < 20; i++)
        {
            await store.PutAsync(StorageBucket.Artifacts, $"bots/b1/tracks/{i}.webm", new MemoryStream([1]), "video/webm", default);
        }

        await store.PutAsync(StorageBucket.Artifacts, "bots/b2/video.mp4", new MemoryStream([1]), "video/mp4", default);

        Assert.Equal(20, await store.DeletePrefixAsync(StorageBucket.Artifacts, "bots/b1/", default));

        var left = await _client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket });
        Assert.Equal(["bots/b2/video.mp4"], left.S3Objects.Select(o => o.Key));
        Assert.Equal(0, await store.DeletePrefixAsync(StorageBucket.Artifacts, "bots/b1/", default));
    }

    [Fact]
    public async Task Keys_that_could_escape_are_refused_before_any_request()
    {
        var store = new S3ArtifactStore(_client, "never-created", null, NullLogger<S3ArtifactStore>.Instance);

        await Assert.ThrowsAsync<ArgumentException>(() => store.PutAsync(StorageBucket.Artifacts, "../other", new MemoryStream([1]), "text/plain", default));
        await Assert.ThrowsAsync<ArgumentException>(() => store.OpenReadAsync(StorageBucket.Artifacts, "/abs", default));
        await Assert.ThrowsAsync<ArgumentException>(() => store.DeletePrefixAsync(StorageBucket.Artifacts, "", default));
        Assert.Throws<ArgumentException>(() => store.GetDownloadUrl(StorageBucket.Artifacts, "a\\b", TimeSpan.FromHours(4)));
        Assert.Throws<ArgumentOutOfRangeException>(() => store.GetDownloadUrl(StorageBucket.Artifacts, "a/b", TimeSpan.FromDays(8)));
    }

    [Fact]
    public async Task It_is_healthy_only_when_its_buckets_exist()
    {
        var healthy = await CreateStoreAsync(logsBucket: true);
        var missing = new S3ArtifactStore(_client, Moto.UniqueName("parley-missing"), null, NullLogger<S3ArtifactStore>.Instance);

        Assert.True(await healthy.IsHealthyAsync(default));
        Assert.False(await missing.IsHealthyAsync(default));
        Assert.Equal("s3", healthy.Kind);
    }

    private async Task<S3ArtifactStore> CreateStoreAsync(bool logsBucket) =>
        new(_client, await CreateBucketAsync(), logsBucket ? await CreateBucketAsync() : null, NullLogger<S3ArtifactStore>.Instance);

    private async Task<string> CreateBucketAsync()
    {
        var name = Moto.UniqueName("parley-test");
        await _client.PutBucketAsync(name);
        return name;
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    /// <summary>What a bot's upload body looks like: readable once, no length, no seeking.</summary>
    private sealed class ForwardOnlyStream(byte[] bytes) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(Math.Min(count, 4096), bytes.Length - _position);
            Array.Copy(bytes, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
