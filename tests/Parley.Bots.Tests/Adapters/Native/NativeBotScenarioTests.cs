using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Parley.Bots.Tests.Recording;
using Parley.Sfu.Client;
using Parley.Testing;

namespace Parley.Bots.Tests.Adapters.Native;

/// <summary>
/// Issue 7's scenarios on a real `parley serve` with every role (the orchestrator starts a real `parley bot run` per
/// bot), native publishers from Parley.Sfu.Client sending real Opus and VP8, and Debian's ffmpeg composing. One
/// server for the class (<see cref="NativeBotServerFixture"/>): each scenario is its own meeting and bot.
/// </summary>
public sealed class NativeBotScenarioTests(NativeBotServerFixture fixture) : IClassFixture<NativeBotServerFixture>
{
    [Fact]
    public async Task Pause_and_resume_report_their_statuses_and_the_paused_span_is_cut_from_the_mp4_and_flac()
    {
        await using var meeting = await fixture.StartMeetingAsync(["Alice"]);
        var botId = await fixture.CreateBotAsync(meeting.JoinUrl, "speaker_view");
        await fixture.WaitHistoryAsync(botId, "in_call_recording");

        await Task.Delay(TimeSpan.FromSeconds(4));
        await fixture.PostAsync($"/v2/bots/{botId}/pause-recording");
        await fixture.WaitHistoryAsync(botId, "recording_paused");
        await Task.Delay(TimeSpan.FromSeconds(6));
        await fixture.PostAsync($"/v2/bots/{botId}/resume-recording");
        await fixture.WaitHistoryAsync(botId, "recording_resumed");
        await Task.Delay(TimeSpan.FromSeconds(4));
        var leaveAsked = DateTimeOffset.UtcNow;
        await fixture.PostAsync($"/v2/bots/{botId}/leave");
        var details = await fixture.WaitEndedAsync(botId);

        Assert.True(details.GetProperty("status").GetString() == "completed", details.ToString());
        var history = History(details);
        Assert.True(
            Index(history, "in_call_recording") < Index(history, "recording_paused") && Index(history, "recording_paused") < Index(history, "recording_resumed"),
            string.Join(", ", history.Select(h => h.Code)));

        // The bot's own reports time the span: it pauses and resumes when its heartbeat brings the request, and the
        // recording ends when it leaves, at most a heartbeat (1 s) after POST /leave.
        var recording = At(history, "in_call_recording");
        var paused = At(history, "recording_resumed") - At(history, "recording_paused");
        var expected = (leaveAsked - recording - paused).TotalSeconds;
        Assert.True(paused.TotalSeconds > 4, $"paused for {paused.TotalSeconds:F1} s only");

        var mp4 = await fixture.DownloadAsync(details, "video", "mp4");
        var flac = await fixture.DownloadAsync(details, "audio", "flac");
        var videoSeconds = Media.Duration(Media.Probe(mp4));
        var audioSeconds = Media.Duration(Media.Probe(flac));
        Assert.True(Math.Abs(videoSeconds - expected) <= 2, $"MP4 lasts {videoSeconds:F2} s; expected {expected:F2} s ± 2 (paused {paused.TotalSeconds:F2} s)");
        Assert.True(Math.Abs(audioSeconds - expected) <= 2, $"FLAC lasts {audioSeconds:F2} s; expected {expected:F2} s ± 2 (paused {paused.TotalSeconds:F2} s)");
    }

    [Fact]
    public async Task Gallery_view_of_two_publishers_is_a_grid_showing_both()
    {
        await using var meeting = await fixture.StartMeetingAsync(["Alice", "Bob"]);
        var botId = await fixture.CreateBotAsync(meeting.JoinUrl, "gallery_view");
        await fixture.WaitHistoryAsync(botId, "in_call_recording");
        await Task.Delay(TimeSpan.FromSeconds(6));
        await fixture.PostAsync($"/v2/bots/{botId}/leave");
        var details = await fixture.WaitEndedAsync(botId);

        Assert.True(details.GetProperty("status").GetString() == "completed", details.ToString());
        Assert.Equal(["Alice", "Bob"], details.GetProperty("participants").EnumerateArray().Select(p => p.GetProperty("name").GetString()!).Order(StringComparer.Ordinal));
        var mp4 = await fixture.DownloadAsync(details, "video", "mp4");
        var probe = Media.Probe(mp4);
        var video = Assert.Single(Media.Streams(probe), s => s.GetProperty("codec_type").GetString() == "video");
        Assert.Equal((1280, 720), (video.GetProperty("width").GetInt32(), video.GetProperty("height").GetInt32()));

        // Two cells side by side: the middle of each half shows a test pattern (not the black of an empty cell).
        var at = Media.Duration(probe) - 1.5;
        var left = RecordingComposerTests.Luma(mp4, at, "crop=320:180:160:270");
        var right = RecordingComposerTests.Luma(mp4, at, "crop=320:180:800:270");
        Assert.True(left > 40 && right > 40, $"mean luma at {at:F1} s: left cell {left:F1}, right cell {right:F1} (16 is black)");
    }

    private static List<(string Code, DateTimeOffset At)> History(JsonElement details) =>
        [.. details.GetProperty("status_history").EnumerateArray().Select(h => (h.GetProperty("code").GetString()!, h.GetProperty("created_at").GetDateTimeOffset()))];

    private static int Index(List<(string Code, DateTimeOffset At)> history, string code) => history.FindIndex(h => h.Code == code);

    private static DateTimeOffset At(List<(string Code, DateTimeOffset At)> history, string code) => history.First(h => h.Code == code).At;
}

/// <summary>
/// ffmpeg absent for the bot (issue 7 item 3): a `parley serve` whose PATH has no ffmpeg, so the `parley bot run` it
/// starts has none either. The bot still completes, delivers the per-track WebM files and the JSON artifacts, and says
/// in error_message what it skipped and which package provides it. The test itself uses Debian's ffmpeg to make media.
/// </summary>
public sealed class NativeBotWithoutFfmpegTests : IAsyncLifetime
{
    private readonly TempDirectory _emptyPath = new();
    private readonly NativeBotServerFixture _fixture = new(30790, 30810) { BotPath = null };

    public Task InitializeAsync()
    {
        _fixture.BotPath = _emptyPath.Path;
        return _fixture.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _fixture.DisposeAsync();
        _emptyPath.Dispose();
    }

    [Fact]
    public async Task Without_ffmpeg_the_bot_completes_with_track_files_json_artifacts_and_a_message_naming_the_package()
    {
        await using var meeting = await _fixture.StartMeetingAsync(["Alice"]);
        // With a bot_image too: without ffmpeg it cannot be encoded, so it is not even downloaded (nothing listens there).
        var created = await NativeBotEndToEndTests.DataAsync(await _fixture.Http.PostAsJsonAsync("/v2/bots", new
        {
            bot_name = "Recorder",
            meeting_url = meeting.JoinUrl,
            recording_mode = "speaker_view",
            bot_image = "http://127.0.0.1:9/picture.png",
        }));
        var botId = created.GetProperty("bot_id").GetString()!;
        await _fixture.WaitHistoryAsync(botId, "in_call_recording");
        await Task.Delay(TimeSpan.FromSeconds(4));
        await _fixture.PostAsync($"/v2/bots/{botId}/leave");
        var details = await _fixture.WaitEndedAsync(botId);

        Assert.True(details.GetProperty("status").GetString() == "completed", details.ToString());
        var message = details.GetProperty("error_message").GetString() ?? "";
        Assert.Contains("ffmpeg was not found", message, StringComparison.Ordinal);
        Assert.Contains("skipped video and audio", message, StringComparison.Ordinal);
        Assert.Contains("Debian package ffmpeg", message, StringComparison.Ordinal);
        Assert.Contains("bot_image was skipped: ffmpeg was not found", message, StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, details.GetProperty("video").ValueKind);
        Assert.Equal(JsonValueKind.Null, details.GetProperty("audio").ValueKind);
        Assert.Equal(JsonValueKind.String, details.GetProperty("diarization").ValueKind);
        Assert.Equal(JsonValueKind.String, details.GetProperty("chat_messages").ValueKind);

        // The per-track recordings are in the artifact storage, and they are real media: Alice's Opus and VP8.
        var stored = Path.Combine(_fixture.Server.DataDirectory, "artifacts", "bots", botId);
        var tracks = Directory.GetFiles(stored, "*.webm").Order(StringComparer.Ordinal).ToList();
        var codecs = tracks.SelectMany(t => Media.Streams(Media.Probe(t)).Select(s => s.GetProperty("codec_name").GetString())).Order(StringComparer.Ordinal).ToList();
        Assert.True(codecs.SequenceEqual(["opus", "vp8"]), $"track files {string.Join(", ", tracks.Select(Path.GetFileName))} hold {string.Join(", ", codecs)}");
    }
}

/// <summary>
/// A real `parley serve` (all roles, the local platform) for native bot scenarios, the synthetic media publishers
/// send (encoded once by Debian's ffmpeg), and the API calls the scenarios share. Fails, never skips, without ffmpeg.
/// </summary>
public sealed class NativeBotServerFixture : IAsyncLifetime
{
    public const string Key = "native-bot-scenarios-static-api-key-0123456789";

    /// <summary>Generous: a loaded 2-core machine deploys the bot process and composes 720p with ffmpeg.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(240);

    private readonly int _rtcMin;
    private readonly int _rtcMax;
    private readonly TempDirectory _media = new();
    private RunningServer? _server;

    /// <summary>The RTC port range of this class: apart from the other classes' (grep RTC_MIN_PORT in tests/).</summary>
    public NativeBotServerFixture()
        : this(30720, 30760)
    {
    }

    internal NativeBotServerFixture(int rtcMin, int rtcMax)
    {
        _rtcMin = rtcMin;
        _rtcMax = rtcMax;
    }

    /// <summary>PATH of the server and so of the bots it starts; null: the test runner's.</summary>
    public string? BotPath { get; set; }

    internal RunningServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public Uri BaseUrl => new($"http://127.0.0.1:{Server.Port}/");

    public HttpClient Http { get; private set; } = null!;

    public List<byte[]> Opus { get; private set; } = [];

    public List<byte[]> Vp8 { get; private set; } = [];

    public async Task InitializeAsync()
    {
        var ffmpeg = Media.Require("ffmpeg");
        Opus = await NativeBotEndToEndTests.EncodeOpusAsync(ffmpeg, _media.Path);
        Vp8 = await NativeBotEndToEndTests.EncodeVp8Async(ffmpeg, _media.Path);
        var environment = new Dictionary<string, string?>
        {
            ["STATIC_API_KEY"] = Key,
            ["RTC_MIN_PORT"] = _rtcMin.ToString(CultureInfo.InvariantCulture),
            ["RTC_MAX_PORT"] = _rtcMax.ToString(CultureInfo.InvariantCulture),
            ["RTC_WORKERS"] = "1",
            ["ANNOUNCED_IP"] = "127.0.0.1",
            ["PARLEY_RATE_LIMIT_PER_SECOND"] = "0",
            ["PLATFORM_PRIORITY"] = "local",
            ["WEBHOOK_ALLOW_PRIVATE_NETWORKS"] = "true", // bot_image tests serve their pictures on 127.0.0.1
            ["LOCAL_BOT_LIMIT"] = "2",
            ["BOT_HEARTBEAT_INTERVAL_MS"] = "1000",
            ["LOG_LEVEL"] = "info",
        };
        if (BotPath is not null)
        {
            environment["PATH"] = BotPath;
        }

        _server = RunningServer.Start(environment);
        await _server.WaitForStatusAsync("/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(180));
        Http = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        Http.DefaultRequestHeaders.Add("x-meeting-baas-api-key", Key);
    }

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _media.Dispose();
    }

    /// <summary>A meeting from POST /v2/meetings with one native publisher (audio and video) per name.</summary>
    public async Task<PublishedMeeting> StartMeetingAsync(IReadOnlyList<string> names)
    {
        var meeting = await NativeBotEndToEndTests.DataAsync(await Http.PostAsJsonAsync("/v2/meetings", new { name = "bot scenario" }));
        var meetingId = meeting.GetProperty("meeting_id").GetString()!;
        var published = new PublishedMeeting(meeting.GetProperty("join_url").GetString()!);
        foreach (var name in names)
        {
            var token = await MeetingTokens.CreateAsync(Http, Key, meetingId, name.ToLowerInvariant(), name);
            var client = new MeetingClient(new MeetingClientOptions { ServerUrl = BaseUrl, Token = token });
            published.Clients.Add(client);
            await client.JoinAsync();
            var publication = await client.PublishAsync(new PublishOptions { Audio = true, Video = true });
            published.Senders.Add(Task.Run(() => NativeBotEndToEndTests.SendMedia(client, publication, Opus, Vp8, published.Stop.Token)));
        }

        return published;
    }

    public async Task<string> CreateBotAsync(string joinUrl, string recordingMode)
    {
        var created = await NativeBotEndToEndTests.DataAsync(await Http.PostAsJsonAsync("/v2/bots", new { bot_name = "Recorder", meeting_url = joinUrl, recording_mode = recordingMode }));
        return created.GetProperty("bot_id").GetString()!;
    }

    public async Task PostAsync(string path)
    {
        using var response = await Http.PostAsync(path, null);
        Assert.True(response.IsSuccessStatusCode, $"POST {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    public Task<JsonElement> DetailsAsync(string botId) => GetAsync($"/v2/bots/{botId}");

    /// <summary>Waits until the bot's status history holds <paramref name="code"/>; fails at once if the bot ended without it.</summary>
    public Task<JsonElement> WaitHistoryAsync(string botId, string code) =>
        WaitAsync(botId, d => d.GetProperty("status_history").EnumerateArray().Any(h => h.GetProperty("code").GetString() == code), $"status {code}");

    public Task<JsonElement> WaitEndedAsync(string botId) =>
        WaitAsync(botId, d => d.GetProperty("status").GetString() is "completed" or "failed", "a terminal status");

    /// <summary>Downloads an artifact through its signed URL into a temporary file with this extension.</summary>
    public async Task<string> DownloadAsync(JsonElement details, string artifact, string extension)
    {
        var url = details.GetProperty(artifact);
        Assert.True(url.ValueKind == JsonValueKind.String, $"no {artifact} artifact: {details}");
        using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var bytes = await plain.GetByteArrayAsync(new Uri(BaseUrl, url.GetString()!));
        var path = Path.Combine(_media.Path, $"{Guid.NewGuid():N}.{extension}");
        await File.WriteAllBytesAsync(path, bytes);
        return path;
    }

    private async Task<JsonElement> GetAsync(string path)
    {
        using var response = await Http.GetAsync(path);
        return await NativeBotEndToEndTests.DataAsync(response);
    }

    private async Task<JsonElement> WaitAsync(string botId, Func<JsonElement, bool> done, string what)
    {
        var stopwatch = Stopwatch.StartNew();
        JsonElement details = default;
        while (stopwatch.Elapsed < Deadline)
        {
            details = await DetailsAsync(botId);
            if (done(details))
            {
                return details;
            }

            if (details.GetProperty("status").GetString() is "completed" or "failed")
            {
                break;
            }

            await Task.Delay(200);
        }

        Assert.Fail($"bot {botId} did not reach {what}: {details}\n--- bot log ---\n{BotLog(botId)}");
        return details;
    }

    /// <summary>The local platform's log of a bot process (PARLEY_DATA_DIR/logs/bots), for failure messages.</summary>
    private string BotLog(string botId)
    {
        var log = Directory.Exists(Server.DataDirectory)
            ? Directory.EnumerateFiles(Server.DataDirectory, botId + ".log", SearchOption.AllDirectories).FirstOrDefault()
            : null;
        if (log is null)
        {
            return "(none)";
        }

        using var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var text = reader.ReadToEnd();
        return text.Length > 4000 ? text[^4000..] : text;
    }
}

/// <summary>A meeting and its publishers; disposing stops the media and leaves.</summary>
public sealed class PublishedMeeting(string joinUrl) : IAsyncDisposable
{
    public string JoinUrl { get; } = joinUrl;

    internal List<MeetingClient> Clients { get; } = [];

    internal List<Task> Senders { get; } = [];

    internal CancellationTokenSource Stop { get; } = new();

    public async ValueTask DisposeAsync()
    {
        await Stop.CancelAsync();
        await Task.WhenAll(Senders);
        foreach (var client in Clients)
        {
            await client.DisposeAsync();
        }

        Stop.Dispose();
    }
}
