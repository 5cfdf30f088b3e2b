using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.Core.Storage;
using Parley.Infrastructure.Storage;
using Parley.Testing;

namespace Parley.Infrastructure.Tests.Storage;

public sealed class LocalArtifactStoreTests : IDisposable
{
    private readonly TempDirectory _data = new();
    private readonly LocalArtifactStore _store;

    public LocalArtifactStoreTests()
    {
        var signer = new LocalUrlSigner(new byte[32], new Uri("http://127.0.0.1:3001"));
        _store = new LocalArtifactStore(_data.Path, signer, NullLogger<LocalArtifactStore>.Instance);
    }

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task An_object_round_trips_with_its_content_type_under_the_bucket_directory()
    {
        var bytes = Encoding.UTF8.GetBytes("{\"speaker\":\"Ada\"}\n");

        await _store.PutAsync(StorageBucket.Artifacts, "bots/b1/diarization.jsonl", new MemoryStream(bytes), "application/x-ndjson", default);

        Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(_data.Path, "artifacts", "bots", "b1", "diarization.jsonl")));
        Assert.True(await _store.ExistsAsync(StorageBucket.Artifacts, "bots/b1/diarization.jsonl", default));
        Assert.False(await _store.ExistsAsync(StorageBucket.Logs, "bots/b1/diarization.jsonl", default));
        await using var stored = await _store.OpenReadAsync(StorageBucket.Artifacts, "bots/b1/diarization.jsonl", default);
        Assert.NotNull(stored);
        Assert.Equal("application/x-ndjson", stored.ContentType);
        Assert.Equal(bytes.Length, stored.Length);
        using var copy = new MemoryStream();
        await stored.Content.CopyToAsync(copy);
        Assert.Equal(bytes, copy.ToArray());
    }

    [Fact]
    public async Task Logs_live_in_their_own_directory()
    {
        await _store.PutAsync(StorageBucket.Logs, "bots/b1/bot.log", new MemoryStream([1, 2, 3]), "text/plain", default);

        Assert.True(File.Exists(Path.Combine(_data.Path, "logs", "bots", "b1", "bot.log")));
        Assert.False(await _store.ExistsAsync(StorageBucket.Artifacts, "bots/b1/bot.log", default));
    }

    [Fact]
    public async Task A_missing_object_opens_as_null()
    {
        Assert.Null(await _store.OpenReadAsync(StorageBucket.Artifacts, "bots/none/video.mp4", default));
        await _store.PutAsync(StorageBucket.Artifacts, "bots/b1/video.mp4", new MemoryStream([1]), "video/mp4", default);
        Assert.Null(await _store.OpenReadAsync(StorageBucket.Artifacts, "bots/b1", default));
    }

    [Fact]
    public async Task Overwriting_replaces_the_whole_object_and_leaves_no_temporary_file()
    {
        await _store.PutAsync(StorageBucket.Artifacts, "bots/b1/chat.json", new MemoryStream(new byte[10_000]), "application/json", default);
        await _store.PutAsync(StorageBucket.Artifacts, "bots/b1/chat.json", new MemoryStream([42]), "application/json", default);

        var directory = Path.Combine(_data.Path, "artifacts", "bots", "b1");
        Assert.Equal(["chat.json"], Directory.GetFiles(directory).Select(Path.GetFileName));
        Assert.Equal([42], await File.ReadAllBytesAsync(Path.Combine(directory, "chat.json")));
    }

    [Fact]
    public async Task A_failed_upload_leaves_neither_the_object_nor_a_temporary_file()
    {
        await Assert.ThrowsAsync<IOException>(() =>
            _store.PutAsync(StorageBucket.Artifacts, "bots/b1/video.mp4", new FailingStream(), "video/mp4", default));

        Assert.False(await _store.ExistsAsync(StorageBucket.Artifacts, "bots/b1/video.mp4", default));
        Assert.Empty(Directory.GetFiles(Path.Combine(_data.Path, "artifacts"), "*", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData("../escape.txt")]
    [InlineData("bots/../../escape.txt")]
    [InlineData("bots/..")]
    [InlineData("/etc/passwd")]
    [InlineData("bots\\b1\\video.mp4")]
    [InlineData("bots//video.mp4")]
    [InlineData("bots/b1/")]
    [InlineData("bots/./video.mp4")]
    [InlineData("")]
    [InlineData("bots/b1\nx")]
    public async Task Keys_that_could_escape_the_bucket_are_refused(string key)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _store.PutAsync(StorageBucket.Artifacts, key, new MemoryStream([1]), "text/plain", default));
        await Assert.ThrowsAsync<ArgumentException>(() => _store.OpenReadAsync(StorageBucket.Artifacts, key, default));
        await Assert.ThrowsAsync<ArgumentException>(() => _store.ExistsAsync(StorageBucket.Artifacts, key, default));
        Assert.Throws<ArgumentException>(() => _store.GetDownloadUrl(StorageBucket.Artifacts, key, TimeSpan.FromHours(4)));
        Assert.False(File.Exists(Path.Combine(_data.Path, "escape.txt")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("../")]
    [InlineData("/")]
    [InlineData("bots//")]
    public async Task Prefixes_that_could_escape_or_mean_everything_are_refused(string prefix)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _store.DeletePrefixAsync(StorageBucket.Artifacts, prefix, default));
    }

    [Fact]
    public async Task Deleting_a_prefix_removes_matching_objects_their_metadata_and_emptied_directories_only()
    {
        foreach (var key in new[] { "bots/b1/video.mp4", "bots/b1/audio.flac", "bots/b1/tracks/1.webm", "bots/b10/video.mp4", "bots/b2/video.mp4" })
        {
            await _store.PutAsync(StorageBucket.Artifacts, key, new MemoryStream([1]), "application/octet-stream", default);
        }

        var deleted = await _store.DeletePrefixAsync(StorageBucket.Artifacts, "bots/b1/", default);

        Assert.Equal(3, deleted);
        Assert.False(Directory.Exists(Path.Combine(_data.Path, "artifacts", "bots", "b1")));
        Assert.False(Directory.Exists(Path.Combine(_data.Path, LocalArtifactStore.MetadataDirectoryName, "artifacts", "bots", "b1")));
        Assert.True(await _store.ExistsAsync(StorageBucket.Artifacts, "bots/b10/video.mp4", default));
        Assert.True(await _store.ExistsAsync(StorageBucket.Artifacts, "bots/b2/video.mp4", default));

        // A string prefix, as in S3: "bots/b1" also matches "bots/b10/...".
        Assert.Equal(1, await _store.DeletePrefixAsync(StorageBucket.Artifacts, "bots/b1", default));
        Assert.Equal(0, await _store.DeletePrefixAsync(StorageBucket.Artifacts, "bots/nothing/", default));
        Assert.True(await _store.ExistsAsync(StorageBucket.Artifacts, "bots/b2/video.mp4", default));
    }

    [Fact]
    public async Task A_file_without_metadata_gets_a_content_type_from_its_extension()
    {
        var path = _store.PathOf(StorageBucket.Artifacts, "bots/b1/audio.flac");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path, [1, 2]);

        await using var stored = await _store.OpenReadAsync(StorageBucket.Artifacts, "bots/b1/audio.flac", default);

        Assert.Equal("audio/flac", stored!.ContentType);
    }

    [Fact]
    public async Task It_is_healthy_when_the_data_directory_is_writable()
    {
        Assert.True(await _store.IsHealthyAsync(default));
        Assert.Equal("local", _store.Kind);

        // A file where the bucket directory should be: cannot write there.
        var blocked = new TempDirectory();
        await File.WriteAllTextAsync(Path.Combine(blocked.Path, "artifacts"), "not a directory");
        var store = new LocalArtifactStore(blocked.Path, new LocalUrlSigner(new byte[32], new Uri("http://127.0.0.1")), NullLogger<LocalArtifactStore>.Instance);
        Assert.False(await store.IsHealthyAsync(default));
        blocked.Dispose();
    }

    [Fact]
    public void Download_urls_point_at_the_api_with_escaped_segments()
    {
        var url = _store.GetDownloadUrl(StorageBucket.Artifacts, "bots/b 1/vidéo.mp4", TimeSpan.FromHours(4));

        Assert.StartsWith("http://127.0.0.1:3001/v2/artifacts/artifacts/bots/b%201/vid%C3%A9o.mp4?expires=", url.AbsoluteUri, StringComparison.Ordinal);
        Assert.Matches("&signature=[0-9a-f]{64}$", url.Query);
    }

    private sealed class FailingStream : Stream
    {
        private int _reads;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) =>
            _reads++ == 0 ? count : throw new IOException("connection reset by the bot");

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
