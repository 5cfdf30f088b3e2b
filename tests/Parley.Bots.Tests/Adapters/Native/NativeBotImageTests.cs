using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Parley.Bots.Recording;
using Parley.Bots.Tests.Camera;
using Parley.Bots.Tests.Recording;
using Parley.Sfu.Client;
using Parley.Testing;

namespace Parley.Bots.Tests.Adapters.Native;

/// <summary>
/// bot_image end to end (issue 7): a real `parley serve` starts a real `parley bot run` whose bot_image is served by a
/// local web server; another participant (a native <see cref="MeetingClient"/>, as a browser would subscribe) receives
/// the bot's video track and records it with the bots' own <see cref="TrackRecorder"/>; Debian's ffmpeg then decodes
/// the file to check the picture. Fails, never skips, without ffmpeg.
/// </summary>
public sealed class NativeBotImageTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);
    private readonly NativeBotServerFixture _fixture = new(30870, 30890);
    private readonly TempDirectory _directory = new();
    private ImageServer _images = null!;

    public async Task InitializeAsync()
    {
        Media.Require("ffmpeg");
        _images = await ImageServer.StartAsync(new Dictionary<string, (byte[], string)>
        {
            ["red.png"] = (ImageServer.SolidPng("red", 320, 240), "image/png"),
            ["lime.png"] = (ImageServer.SolidPng("lime", 320, 240), "image/png"),
            ["blue.png"] = (ImageServer.SolidPng("blue", 320, 240), "image/png"),
        });
        await _fixture.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _fixture.DisposeAsync();
        await _images.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task Another_participant_receives_the_bots_camera_and_it_decodes_to_the_image()
    {
        var (meetingId, joinUrl) = await CreateMeetingAsync();
        await using var viewer = await Viewer.JoinAsync(_fixture, meetingId, Path.Combine(_directory.Path, "viewer"));
        var botId = await CreateBotAsync(joinUrl, new { bot_name = "Camera bot", meeting_url = joinUrl, bot_image = _images.Url("red.png").ToString() });
        await _fixture.WaitHistoryAsync(botId, "in_call_recording");

        var recorder = await viewer.WaitFramesAsync(15);
        Assert.True(viewer.FromBot, "the video track is not the bot's");
        var path = viewer.Stop();

        var video = Assert.Single(Media.Streams(Media.Probe(path)));
        Assert.Equal(("vp8", 1280, 720), (video.GetProperty("codec_name").GetString(), video.GetProperty("width").GetInt32(), video.GetProperty("height").GetInt32()));
        Assert.Equal("", Media.DecodeErrors(path));
        var at = Math.Max(0.5, Media.Duration(Media.Probe(path)) - 0.5);
        var middle = (U: RecordingComposerTests.Stat(path, at, "UAVG", "crop=64:64:608:328"), V: RecordingComposerTests.Stat(path, at, "VAVG", "crop=64:64:608:328"));
        Assert.True(middle.V > 200 && middle.U < 128, $"the middle of the bot's picture at {at:F1} s should be red: U {middle.U:F0}, V {middle.V:F0}");
        Assert.Equal(16, RecordingComposerTests.Luma(path, at, "crop=100:720:0:0"), 0); // the black bar of 4:3 in 16:9
        Assert.True(recorder.FramesWritten >= 15);

        await _fixture.PostAsync($"/v2/bots/{botId}/leave");
        var details = await _fixture.WaitEndedAsync(botId);
        Assert.True(details.GetProperty("status").GetString() == "completed", details.ToString());
        // The bot is not a participant of its own recording (nor is its camera in it: the SFU never sends it back).
        Assert.DoesNotContain(details.GetProperty("participants").EnumerateArray(), p => p.GetProperty("name").GetString() == "Camera bot");
        Assert.Equal(1, _images.Requests.GetValueOrDefault("red.png"));
    }

    [Fact]
    public async Task In_bot_status_mode_the_picture_follows_recording_and_pause()
    {
        var (meetingId, joinUrl) = await CreateMeetingAsync();
        await using var viewer = await Viewer.JoinAsync(_fixture, meetingId, Path.Combine(_directory.Path, "status-viewer"));
        var botId = await CreateBotAsync(joinUrl, new
        {
            bot_name = "Status bot",
            meeting_url = joinUrl,
            bot_image = new[] { _images.Url("red.png").ToString(), _images.Url("lime.png").ToString(), _images.Url("blue.png").ToString() },
            bot_image_config = new { loop_mode = "bot_status" },
        });
        await _fixture.WaitHistoryAsync(botId, "in_call_recording");
        await viewer.WaitFramesAsync(10);
        await _fixture.PostAsync($"/v2/bots/{botId}/pause-recording");
        await _fixture.WaitHistoryAsync(botId, "recording_paused");
        var frames = viewer.Recorder!.FramesWritten;
        await viewer.WaitFramesAsync(frames + 10);
        var path = viewer.Stop();
        await _fixture.PostAsync($"/v2/bots/{botId}/leave");
        await _fixture.WaitEndedAsync(botId);

        // Recording (the camera starts once the bot records, and the pause came after 10 frames, 2 s): the second
        // image (lime: low U and V) at 1 s; paused, at the end: the third (blue: high U).
        var duration = Media.Duration(Media.Probe(path));
        var recording = (U: Stat(path, 1.0, "UAVG"), V: Stat(path, 1.0, "VAVG"));
        var paused = (U: Stat(path, duration - 0.3, "UAVG"), V: Stat(path, duration - 0.3, "VAVG"));
        Assert.True(recording.U < 100 && recording.V < 100, $"while recording the picture should be lime: U {recording.U:F0}, V {recording.V:F0}");
        Assert.True(paused.U > 200 && paused.V < 160, $"while paused the picture should be blue: U {paused.U:F0}, V {paused.V:F0}");
    }

    private static double Stat(string path, double at, string key) => RecordingComposerTests.Stat(path, Math.Max(0, at), key, "crop=64:64:608:328");

    private async Task<(string MeetingId, string JoinUrl)> CreateMeetingAsync()
    {
        var meeting = await NativeBotEndToEndTests.DataAsync(await _fixture.Http.PostAsJsonAsync("/v2/meetings", new { name = "bot image" }));
        return (meeting.GetProperty("meeting_id").GetString()!, meeting.GetProperty("join_url").GetString()!);
    }

    private async Task<string> CreateBotAsync(string joinUrl, object body)
    {
        _ = joinUrl;
        var created = await NativeBotEndToEndTests.DataAsync(await _fixture.Http.PostAsJsonAsync("/v2/bots", body));
        return created.GetProperty("bot_id").GetString()!;
    }

    /// <summary>A participant that only watches: records the first video track it receives (the bot's camera).</summary>
    private sealed class Viewer : IAsyncDisposable
    {
        private readonly MeetingClient _client;
        private readonly RecordingSession _session;
        private readonly CancellationTokenSource _stop = new();
        private Task _pump = Task.CompletedTask;
        private volatile TrackRecorder? _recorder;

        private Viewer(MeetingClient client, string directory)
        {
            _client = client;
            _session = new RecordingSession(directory);
        }

        public TrackRecorder? Recorder => _recorder;

        public bool FromBot { get; private set; }

        public static async Task<Viewer> JoinAsync(NativeBotServerFixture fixture, string meetingId, string directory)
        {
            var token = await MeetingTokens.CreateAsync(fixture.Http, NativeBotServerFixture.Key, meetingId, "viewer", "Viewer");
            var client = new MeetingClient(new MeetingClientOptions { ServerUrl = fixture.BaseUrl, Token = token });
            var viewer = new Viewer(client, directory);
            client.SubscriptionChanged += (_, added, _) =>
            {
                foreach (var track in added)
                {
                    if (track.Kind == "video" && viewer._recorder is null)
                    {
                        viewer.FromBot = client.Participants.Any(p => p.ParticipantId == track.ParticipantId && p.IsBot);
                        var recorder = viewer._session.AddTrack(new TrackRecorderOptions { ParticipantId = track.ParticipantId, Kind = TrackKind.Video, Codec = RecordingCodec.Vp8, ClockRate = track.ClockRate });
                        track.Tag = recorder;
                        viewer._recorder = recorder;
                    }
                }
            };
            client.RtpReceived += (track, packet) => (track.Tag as TrackRecorder)?.OnRtpPacket(packet);
            await client.JoinAsync();
            viewer._pump = viewer.PumpAsync();
            return viewer;
        }

        public async Task<TrackRecorder> WaitFramesAsync(long frames)
        {
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < Deadline)
            {
                if (_recorder is { } recorder && recorder.FramesWritten >= frames)
                {
                    return recorder;
                }

                await Task.Delay(100);
            }

            Assert.Fail($"the viewer received {_recorder?.FramesWritten ?? 0} frames of the bot's camera in {Deadline.TotalSeconds:0} s, expected {frames}"
                + (_recorder is null ? " (no video track was offered)" : ""));
            return null!;
        }

        /// <summary>Finishes the file; returns its path.</summary>
        public string Stop()
        {
            _session.Stop();
            return _recorder!.FilePath;
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _pump;
            _session.Dispose();
            await _client.DisposeAsync();
            _stop.Dispose();
        }

        /// <summary>What the bots' adapter does every 20 ms: release frames, ask for a key frame when one is needed.</summary>
        private async Task PumpAsync()
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    await Task.Delay(20, _stop.Token);
                    if (_recorder is not { } recorder)
                    {
                        continue;
                    }

                    recorder.Poll();
                    if (recorder.MediaSsrc != 0 && recorder.KeyframeRequestDue())
                    {
                        _client.RequestKeyframe(recorder.MediaSsrc);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
