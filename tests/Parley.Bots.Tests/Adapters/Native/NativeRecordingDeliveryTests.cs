using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.Bots.Adapters;
using Parley.Bots.Adapters.Native;
using Parley.Bots.Api;
using Parley.Bots.Recording;
using Parley.Core.Bots;
using Parley.Core.Storage;
using Parley.Testing;

namespace Parley.Bots.Tests.Adapters.Native;

/// <summary>
/// Issue 7 item 4 with real components: a real `parley serve` whose local artifact storage breaks (a file where
/// the bots/ directory must go), a bot's delivery through the real internal API, the real fallback directory, and
/// `parley job run fallback-upload-job` once storage is back. ffmpeg is left out on purpose (an empty binary
/// folder) so the delivery is the per-track files plus the JSON artifacts, and the message says why.
/// </summary>
public sealed class NativeRecordingDeliveryTests(BotServerFixture fixture) : IClassFixture<BotServerFixture>, IDisposable
{
    private readonly TempDirectory _directory = new();

    private BotServer Server => fixture.Server;

    private string Fallback => Path.Combine(_directory.Path, "fallback");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Storage_down_keeps_the_recording_in_fallback_and_the_job_uploads_it_later_once()
    {
        var botId = await CreateBotWithCallbackAsync();
        var token = await Server.MintTokenAsync(botId);
        using var api = new BotApiClient(Server.ApiUrl, botId, token, TimeSpan.FromMilliseconds(300), TimeProvider.System, NullLogger.Instance);
        await api.ReportStatusAsync(BotStatus.JoiningCall, null, null, CancellationToken.None);
        await api.ReportStatusAsync(BotStatus.InCallRecording, null, null, CancellationToken.None);
        await api.ReportStatusAsync(BotStatus.CallEnded, null, null, CancellationToken.None);

        var recording = WriteRecording();
        var delivery = new NativeRecordingDelivery(
            api.UploadArtifactAsync,
            NullLogger.Instance,
            new RecordingComposer(new RecordingComposerOptions { FfmpegBinaryFolder = Path.Combine(_directory.Path, "no-ffmpeg") }),
            new RecordingFallback(Fallback, botId));

        RecordingDeliveryOutcome outcome;
        var repair = BreakStorage();
        try
        {
            outcome = await delivery.DeliverAsync(recording, "speaker_view", CancellationToken.None);
        }
        finally
        {
            repair();
        }

        Assert.True(outcome.Deferred);
        Assert.Empty(outcome.Uploaded);
        Assert.Equal(["diarization.jsonl", "chat_messages.json", "01-alice-camera.webm", "02-alice-microphone.webm"], outcome.Kept);
        Assert.Contains("Debian package ffmpeg", outcome.Message, StringComparison.Ordinal);
        Assert.Contains(FallbackStore.PendingNote, outcome.Message, StringComparison.Ordinal);
        var entry = Assert.Single(new FallbackStore(Fallback, TimeProvider.System).ListReady());
        Assert.Equal(botId, entry.Manifest!.BotId);
        Assert.Equal(["diarization", "chat_messages", "track", "track"], entry.Manifest.Files.Select(f => f.Kind));

        // The end the runtime reports for a deferred delivery: completed, the message in error_message.
        await api.ReportStatusAsync(BotStatus.RecordingSucceeded, null, null, CancellationToken.None);
        await api.ReportStatusAsync(BotStatus.Completed, null, outcome.Message, CancellationToken.None);
        var ended = await Server.GetBotAsync(botId);
        Assert.Equal(BotStatus.Completed, ended.Status);
        Assert.Empty(ended.Artifacts);

        var (code, stdout, stderr) = await RunJobAsync();
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("fallback-upload-job: done, 1 item(s) handled.", stdout, StringComparison.Ordinal);

        var bot = await Server.GetBotAsync(botId);
        Assert.Equal(
            ["chat_messages:bots/" + botId + "/chat_messages.json", "diarization:bots/" + botId + "/diarization.jsonl", "track:bots/" + botId + "/01-alice-camera.webm", "track:bots/" + botId + "/02-alice-microphone.webm"],
            bot.Artifacts.Select(a => $"{a.Kind}:{a.StorageKey}").Order(StringComparer.Ordinal));
        Assert.Equal(
            File.ReadAllBytes(Path.Combine(recording, "output", "diarization.jsonl")),
            File.ReadAllBytes(Path.Combine(Server.DataDirectory, "artifacts", "bots", botId, "diarization.jsonl")));
        // Still completed; the ffmpeg explanation stays, the pending sentence goes.
        Assert.Equal(BotStatus.Completed, bot.Status);
        Assert.Contains("Debian package ffmpeg", bot.ErrorMessage, StringComparison.Ordinal);
        Assert.DoesNotContain(FallbackStore.PendingNote, bot.ErrorMessage, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Fallback));

        var details = await GetDataAsync($"/v2/bots/{botId}");
        Assert.Contains($"bots/{botId}/diarization.jsonl", details.GetProperty("diarization").GetString(), StringComparison.Ordinal);
        Assert.Contains($"bots/{botId}/chat_messages.json", details.GetProperty("chat_messages").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, await CompletedWebhooksAsync(botId));

        // A second run finds nothing and changes nothing.
        (code, stdout, stderr) = await RunJobAsync();
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("fallback-upload-job: done, 0 item(s) handled.", stdout, StringComparison.Ordinal);
        Assert.Equal(4, (await Server.GetBotAsync(botId)).Artifacts.Count);
        Assert.Equal(2, await CompletedWebhooksAsync(botId));
    }

    [Fact]
    public async Task Without_a_fallback_directory_an_upload_that_keeps_failing_fails_with_upload_failed()
    {
        var botId = await Server.CreateBotAsync();
        using var api = new BotApiClient(Server.ApiUrl, botId, await Server.MintTokenAsync(botId), TimeSpan.FromMilliseconds(300), TimeProvider.System, NullLogger.Instance);
        var delivery = new NativeRecordingDelivery(
            api.UploadArtifactAsync,
            NullLogger.Instance,
            new RecordingComposer(new RecordingComposerOptions { FfmpegBinaryFolder = Path.Combine(_directory.Path, "no-ffmpeg") }));

        var recording = WriteRecording();
        var repair = BreakStorage();
        MeetingFailedException failure;
        try
        {
            failure = await Assert.ThrowsAsync<MeetingFailedException>(() => delivery.DeliverAsync(recording, "audio_only", CancellationToken.None));
        }
        finally
        {
            repair();
        }

        Assert.Equal(BotErrorCode.UploadFailed, failure.ErrorCode);
        Assert.Equal(BotStatus.RecordingFailed, failure.ReasonStatus);
        Assert.Contains("503", failure.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Local storage creates artifacts/bots/{id}/ on upload: a file named bots makes every upload fail (even as
    /// root, where a read-only directory would not). Returns what puts storage back.
    /// </summary>
    private Action BreakStorage()
    {
        var artifacts = Path.Combine(Server.DataDirectory, "artifacts");
        Directory.CreateDirectory(artifacts);
        var bots = Path.Combine(artifacts, "bots");
        var aside = bots + ".aside";
        if (Directory.Exists(bots))
        {
            Directory.Move(bots, aside);
        }

        File.WriteAllText(bots, "storage is down");
        return () =>
        {
            File.Delete(bots);
            if (Directory.Exists(aside))
            {
                Directory.Move(aside, bots);
            }
        };
    }

    private async Task<string> CreateBotWithCallbackAsync()
    {
        using var response = await Server.Http.PostAsJsonAsync("/v2/bots", new
        {
            bot_name = "Recorder",
            meeting_url = $"https://meet.google.com/{BotServer.MeetCode()}",
            callback_url = "https://hooks.example.com/parley",
        });
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, json.ToString());
        return json.GetProperty("data").GetProperty("bot_id").GetString()!;
    }

    private async Task<JsonElement> GetDataAsync(string path)
    {
        using var response = await Server.Http.GetAsync(path);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, json.ToString());
        return json.GetProperty("data");
    }

    private async Task<int> CompletedWebhooksAsync(string botId)
    {
        var deliveries = await GetDataAsync($"/v2/bots/{botId}/webhook-deliveries");
        return deliveries.EnumerateArray().Count(d => d.GetProperty("event").GetString() == "bot.completed");
    }

    private Task<(int ExitCode, string Stdout, string Stderr)> RunJobAsync() =>
        ParleyProcess.RunAsync(
            ["job", "run", "fallback-upload-job"],
            new Dictionary<string, string?>
            {
                ["PARLEY_DATA_DIR"] = Server.DataDirectory,
                ["PARLEY_FALLBACK_STORAGE_DIR"] = Fallback,
                ["STATIC_API_KEY"] = BotServer.Key,
            },
            _directory.Path);

    /// <summary>A recording folder as RecordingSession leaves it: one participant, a camera and a microphone track, a chat message.</summary>
    private string WriteRecording()
    {
        var folder = Path.Combine(_directory.Path, "recording-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        var start = new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.Zero);
        var manifest = new RecordingManifest { StartedAt = start, EndedAt = start.AddSeconds(3) };
        manifest.Participants.Add(new ManifestParticipant { Id = "alice", Name = "Alice" });
        manifest.Speech.Add(new ManifestSpeechSegment { ParticipantId = "alice", StartOffsetSeconds = 0.5, EndOffsetSeconds = 2 });
        manifest.ChatMessages.Add(new ManifestChatMessage { ParticipantId = "alice", SenderName = "Alice", Text = "hello", MessageId = "m1", SentAt = start.AddSeconds(1) });
        foreach (var (index, kind, source, file) in new[] { (1, "video", "camera", "01-alice-camera.webm"), (2, "audio", "microphone", "02-alice-microphone.webm") })
        {
            // Content does not matter without ffmpeg: the files are delivered as they are.
            File.WriteAllBytes(Path.Combine(folder, file), [0x1A, 0x45, 0xDF, 0xA3, (byte)index]);
            manifest.Tracks.Add(new ManifestTrack
            {
                Id = $"t{index}", ParticipantId = "alice", Kind = kind, Source = source, Codec = kind == "video" ? "vp8" : "opus", File = file,
                FirstSampleAt = start, StartOffsetSeconds = 0, Clock = "rtcp_sender_report", DurationSeconds = 3, Finished = true,
            });
        }

        manifest.Save(Path.Combine(folder, RecordingManifest.FileName));
        return folder;
    }
}
