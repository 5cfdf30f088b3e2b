using Microsoft.Extensions.Logging.Abstractions;
using Parley.Bots.Adapters;
using Parley.Bots.Adapters.Native;
using Parley.Bots.Api;
using Parley.Bots.Recording;
using Parley.Bots.Runtime;
using Parley.Core.Bots;
using Parley.Core.Storage;
using Parley.Testing;

namespace Parley.Bots.Tests.Runtime;

/// <summary>
/// What the recording's delivery says reaches the bot's end (issue 7 items 3–4): the runtime against a real
/// `parley serve`, an adapter that leaves and hands a recording folder to the real <see cref="NativeRecordingDelivery"/>
/// (ffmpeg left out on purpose, so the per-track files go up and the composer explains why), uploading through the
/// real internal API, with its local storage broken where a test needs storage down.
/// </summary>
public sealed class BotRuntimeRecordingDeliveryTests(BotServerFixture fixture) : IClassFixture<BotServerFixture>, IDisposable
{
    private readonly TempDirectory _directory = new();

    private BotServer Server => fixture.Server;

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Without_ffmpeg_the_bot_completes_and_its_error_message_names_the_skipped_artifacts_and_the_package()
    {
        var (botId, run, _) = await StartAsync(fallback: false, breakStorage: false);

        var result = await run;

        Assert.Equal(BotStatus.Completed, result.FinalStatus);
        var bot = await Server.GetBotAsync(botId);
        Assert.Equal(BotStatus.Completed, bot.Status);
        Assert.Equal(BotErrorCode.ApiRequest, bot.ErrorCode);
        // The reason first, then what became of the recording.
        Assert.StartsWith("Left the meeting on API request.", bot.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("skipped video and audio", bot.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("Debian package ffmpeg", bot.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(
            [BotStatus.Queued, BotStatus.JoiningCall, BotStatus.InCallRecording, BotStatus.ApiRequestStop, BotStatus.CallEnded, BotStatus.RecordingSucceeded, BotStatus.Completed],
            await Server.HistoryAsync(botId));
        Assert.Equal(
            ["chat_messages", "diarization", "log", "track", "track"],
            bot.Artifacts.Select(a => a.Kind).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task An_upload_deferred_to_the_fallback_directory_completes_and_says_so_in_error_message()
    {
        var (botId, run, repair) = await StartAsync(fallback: true, breakStorage: true);

        BotRunResult result;
        try
        {
            result = await run;
        }
        finally
        {
            repair();
        }

        Assert.Equal(BotStatus.Completed, result.FinalStatus);
        var bot = await Server.GetBotAsync(botId);
        Assert.Contains("Debian package ffmpeg", bot.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains(FallbackStore.PendingNote, bot.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(
            [BotStatus.Queued, BotStatus.JoiningCall, BotStatus.InCallRecording, BotStatus.ApiRequestStop, BotStatus.CallEnded, BotStatus.RecordingSucceeded, BotStatus.Completed],
            await Server.HistoryAsync(botId));
        Assert.Single(new FallbackStore(Path.Combine(_directory.Path, "fallback"), TimeProvider.System).ListReady(), e => e.Manifest!.BotId == botId);
    }

    [Fact]
    public async Task A_failed_delivery_goes_call_ended_then_recording_failed_then_failed_with_upload_failed()
    {
        var (botId, run, repair) = await StartAsync(fallback: false, breakStorage: true);

        BotRunResult result;
        try
        {
            result = await run;
        }
        finally
        {
            repair();
        }

        Assert.Equal(BotStatus.Failed, result.FinalStatus);
        var bot = await Server.GetBotAsync(botId);
        Assert.Equal(BotErrorCode.UploadFailed, bot.ErrorCode);
        Assert.Contains("Uploading the recording failed", bot.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(
            [BotStatus.Queued, BotStatus.JoiningCall, BotStatus.InCallRecording, BotStatus.ApiRequestStop, BotStatus.CallEnded, BotStatus.RecordingFailed, BotStatus.Failed],
            await Server.HistoryAsync(botId));
    }

    [Fact]
    public void The_report_joins_the_reason_and_the_recording_message_within_the_API_limit()
    {
        var ending = BotEnding.CallEnded() with { RecordingMessage = "ffmpeg was not found." };
        Assert.Equal("ffmpeg was not found.", ending.Report);
        Assert.Equal("Left the meeting on API request. ffmpeg was not found.", (BotEnding.LeaveRequested() with { RecordingMessage = "ffmpeg was not found." }).Report);
        Assert.Null(BotEnding.CallEnded().Report);

        var longMessage = BotEnding.LeaveRequested() with { RecordingMessage = new string('x', 5000) };
        Assert.Equal(BotEnding.MaxReportLength, longMessage.Report!.Length);
        Assert.StartsWith("Left the meeting on API request. xxx", longMessage.Report, StringComparison.Ordinal);

        var failed = BotEnding.MeetingFailed(BotErrorCode.UploadFailed, "Uploading the recording failed: 503", BotStatus.RecordingFailed);
        Assert.True(failed.RecordingFailed);
        Assert.Null(failed.ReasonStatus);
        Assert.Equal(BotStatus.Failed, failed.Terminal);
    }

    /// <summary>Starts the runtime with a <see cref="DeliveringAdapter"/>, asks the bot to leave once it records.</summary>
    private async Task<(string BotId, Task<BotRunResult> Run, Action Repair)> StartAsync(bool fallback, bool breakStorage)
    {
        var botId = await Server.CreateBotAsync();
        var token = await Server.MintTokenAsync(botId);
        var options = new BotOptions { BotId = botId, ApiUrl = Server.ApiUrl, Token = token, HeartbeatIntervalMs = 200 };
        // A short retry budget: storage that is down stays down for the whole test.
        var api = new BotApiClient(Server.ApiUrl, botId, token, TimeSpan.FromMilliseconds(300), TimeProvider.System, NullLogger.Instance);
        var delivery = new NativeRecordingDelivery(
            api.UploadArtifactAsync,
            NullLogger.Instance,
            new RecordingComposer(new RecordingComposerOptions { FfmpegBinaryFolder = Path.Combine(_directory.Path, "no-ffmpeg") }),
            fallback ? new RecordingFallback(Path.Combine(_directory.Path, "fallback"), botId) : null);
        var recording = WriteRecording();
        var repair = () => { };
        var adapter = new DeliveringAdapter(async cancellationToken =>
        {
            if (breakStorage)
            {
                // Only now: the statuses and the bot's config went through a healthy server.
                repair = BreakStorage();
            }

            return await delivery.DeliverAsync(recording, "speaker_view", cancellationToken);
        });
        var registry = new MeetingAdapterRegistry();
        foreach (var platform in MeetingAdapterRegistry.Platforms)
        {
            registry.Register(platform, _ => adapter);
        }

        var runtime = new BotRuntime(api, registry, options, NullLoggerFactory.Instance, TimeProvider.System, () => "log"u8.ToArray());
        var run = runtime.RunAsync("SIGTERM", CancellationToken.None);
        await adapter.InCall.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await Server.WaitForStatusAsync(botId, BotStatus.InCallRecording);
        using (var response = await Server.Http.PostAsync($"/v2/bots/{botId}/leave", null))
        {
            Assert.True(response.IsSuccessStatusCode, $"POST /leave answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }

        return (botId, run.WaitAsync(TimeSpan.FromSeconds(120)), () => repair());
    }

    /// <summary>
    /// Local storage creates artifacts/bots/{id}/ on upload: a file named bots makes every upload fail (even as
    /// root). Returns what puts storage back.
    /// </summary>
    private Action BreakStorage()
    {
        var artifacts = Path.Combine(Server.DataDirectory, "artifacts");
        Directory.CreateDirectory(artifacts);
        var bots = Path.Combine(artifacts, "bots");
        var aside = bots + ".aside-" + Guid.NewGuid().ToString("N")[..8];
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

    /// <summary>A recording folder as RecordingSession leaves it: Alice's camera and microphone, one chat message.</summary>
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

    /// <summary>
    /// Records until asked to leave, then does what <see cref="NativeMeetingAdapter"/> does after the call: says
    /// call_ended, delivers, and reports the delivery's message (a failed delivery throws out of RunAsync).
    /// </summary>
    private sealed class DeliveringAdapter(Func<CancellationToken, Task<RecordingDeliveryOutcome>> deliver) : IMeetingAdapter
    {
        private readonly TaskCompletionSource _leave = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource InCall { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool ReportsAudioLevel => false;

        public async Task<MeetingEnd> RunAsync(IMeetingEventSink events, CancellationToken cancellationToken)
        {
            events.StatusChanged(BotStatus.InCallRecording);
            InCall.TrySetResult();
            await _leave.Task.WaitAsync(cancellationToken);
            events.StatusChanged(BotStatus.CallEnded);
            var outcome = await deliver(cancellationToken);
            events.RecordingDelivered(outcome.Message);
            return MeetingEnd.Left;
        }

        public Task LeaveAsync(CancellationToken cancellationToken)
        {
            _leave.TrySetResult();
            return Task.CompletedTask;
        }

        public Task SendChatMessageAsync(string text, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task SetRecordingPausedAsync(bool paused, CancellationToken cancellationToken) => Task.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
