using System.Text.Json;
using Parley.Core.Configuration;
using Parley.Core.Storage;
using Parley.Testing;

namespace Parley.Core.Tests.Storage;

/// <summary>The fallback directory on a real file system: what a bot writes, what a job run may take, and when.</summary>
public sealed class FallbackStoreTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly SteppedTime _time = new();

    public void Dispose() => _directory.Dispose();

    private string Root => Path.Combine(_directory.Path, "fallback");

    private string Source(string name, int bytes)
    {
        var path = Path.Combine(_directory.Path, "source", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, new byte[bytes]);
        return path;
    }

    [Fact]
    public async Task A_written_entry_is_ready_with_its_manifest_and_nothing_else_is_left_behind()
    {
        var store = new FallbackStore(Root, _time);
        var entry = await store.WriteAsync("bot-1", [(Source("audio.flac", 10), "audio", "audio/flac"), (Source("diarization.jsonl", 3), "diarization", "application/x-ndjson")], "HTTP 503", CancellationToken.None);

        Assert.Equal(Path.Combine(store.Root, "bot-1"), entry);
        var ready = Assert.Single(store.ListReady());
        Assert.Null(ready.Problem);
        Assert.Equal("bot-1", ready.Manifest!.BotId);
        Assert.Equal([("audio", "audio.flac", 10L), ("diarization", "diarization.jsonl", 3L)], ready.Manifest.Files.Select(f => (f.Kind, f.Name, f.SizeBytes)));
        Assert.Equal(["bot-1"], Directory.EnumerateDirectories(store.Root).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_second_entry_for_the_same_bot_is_kept_beside_the_first()
    {
        var store = new FallbackStore(Root, _time);
        await store.WriteAsync("bot-1", [(Source("a.webm", 1), "track", "video/webm")], null, CancellationToken.None);
        await store.WriteAsync("bot-1", [(Source("a.webm", 1), "track", "video/webm")], null, CancellationToken.None);

        Assert.Equal(2, store.ListReady().Count(e => e.Manifest?.BotId == "bot-1"));
    }

    [Fact]
    public void An_entry_being_copied_is_not_ready_until_every_file_has_its_size()
    {
        var store = new FallbackStore(Root, _time);
        var entry = Path.Combine(Root, "bot-2");
        Directory.CreateDirectory(entry);
        File.WriteAllBytes(Path.Combine(entry, "video.mp4"), new byte[5]);
        Assert.Contains("no parley-fallback.json", Assert.Single(store.ListReady()).Problem, StringComparison.Ordinal);

        var manifest = new { version = 1, bot_id = "bot-2", created_at = DateTime.UtcNow, reason = (string?)null, files = new[] { new { kind = "video", name = "video.mp4", content_type = "video/mp4", size_bytes = 10 } } };
        File.WriteAllText(Path.Combine(entry, FallbackStore.ManifestFileName), JsonSerializer.Serialize(manifest));
        var waiting = Assert.Single(store.ListReady());
        Assert.Null(waiting.Manifest);
        Assert.Contains("5 of 10", waiting.Problem, StringComparison.Ordinal);

        File.WriteAllBytes(Path.Combine(entry, "video.mp4"), new byte[10]);
        Assert.NotNull(Assert.Single(store.ListReady()).Manifest);
    }

    [Fact]
    public async Task Two_runs_claiming_one_entry_get_it_once_and_a_released_entry_is_ready_again()
    {
        var store = new FallbackStore(Root, _time);
        await store.WriteAsync("bot-3", [(Source("chat.json", 2), "chat_messages", "text/json")], null, CancellationToken.None);
        var entry = Assert.Single(store.ListReady());

        var first = store.TryClaim(entry);
        var second = new FallbackStore(Root, _time).TryClaim(entry);

        Assert.NotNull(first);
        Assert.Null(second);
        Assert.Empty(store.ListReady());
        Assert.NotNull(first.Manifest);
        Assert.True(File.Exists(first.FileOf(first.Manifest.Files[0])));

        first.Release();
        Assert.Equal("bot-3", Assert.Single(store.ListReady()).Name);

        var again = store.TryClaim(Assert.Single(store.ListReady()))!;
        again.Complete();
        Assert.Empty(store.ListReady());
        Assert.Empty(Directory.EnumerateFileSystemEntries(store.Root));
    }

    [Fact]
    public async Task A_claim_left_by_a_run_that_died_is_put_back_after_the_timeout_only()
    {
        var store = new FallbackStore(Root, _time);
        await store.WriteAsync("bot-4", [(Source("a.webm", 1), "track", "video/webm")], null, CancellationToken.None);
        Assert.NotNull(store.TryClaim(Assert.Single(store.ListReady())));

        _time.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(0, store.ReclaimStale(TimeSpan.FromHours(1)));
        Assert.Empty(store.ListReady());

        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(1, store.ReclaimStale(TimeSpan.FromHours(1)));
        Assert.Equal("bot-4", Assert.Single(store.ListReady()).Name);
    }

    [Fact]
    public async Task A_bot_id_or_file_name_that_could_leave_the_directory_is_refused()
    {
        var store = new FallbackStore(Root, _time);
        await Assert.ThrowsAsync<ArgumentException>(() => store.WriteAsync("../x", [(Source("a.webm", 1), "track", "video/webm")], null, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => store.WriteAsync("bot-5", [(Source(FallbackStore.ManifestFileName, 1), "track", "video/webm")], null, CancellationToken.None));
        Assert.Empty(store.ListReady());
    }

    [Fact]
    public void The_directory_defaults_to_the_data_directory_and_a_file_in_its_place_is_a_problem()
    {
        Assert.Equal(Path.GetFullPath(Path.Combine(_directory.Path, "data", "fallback")), new FallbackStorageOptions().ResolveDirectory(Path.Combine(_directory.Path, "data")));

        var file = Source("not-a-directory", 1);
        var result = SettingsBinder.Bind([typeof(FallbackStorageOptions)], name => name == "PARLEY_FALLBACK_STORAGE_DIR" ? file : null);
        var problem = Assert.Single(result.Problems);
        Assert.Equal("PARLEY_FALLBACK_STORAGE_DIR", problem.Variable);
    }

    /// <summary>A clock the test moves by hand (claims are timed in whole seconds of it).</summary>
    private sealed class SteppedTime : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 3, 1, 10, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
