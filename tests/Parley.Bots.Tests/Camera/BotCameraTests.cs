using Microsoft.Extensions.Logging.Abstractions;
using Parley.Bots.Camera;
using Parley.Bots.Tests.Recording;
using Parley.Core.Bots;
using Parley.Sfu.Client;

namespace Parley.Bots.Tests.Camera;

/// <summary>
/// The camera's choices frame by frame (which image, key or repeat frame) on a manual clock. The meeting client is
/// real but not connected: its sends go nowhere, which is all these tests need; the end-to-end test sends for real.
/// </summary>
public sealed class BotCameraTests : IAsyncLifetime
{
    private static readonly LocalPublication Publication = new() { VideoMid = "1", VideoSsrcs = [1234], VideoMidExtensionId = 1 };
    private readonly ManualClock _clock = new();
    private readonly MeetingClient _client = new(new MeetingClientOptions { ServerUrl = new Uri("http://127.0.0.1:9"), Token = "unused" });

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _client.DisposeAsync();

    [Fact]
    public void Bot_status_shows_the_first_image_on_join_the_second_recording_the_third_paused()
    {
        var camera = Camera(BotImageLoopMode.BotStatus, 3);
        var shown = new List<int>();
        void Frame()
        {
            camera.SendFrame();
            shown.Add(camera.ShownImage);
            _clock.Advance(TimeSpan.FromMilliseconds(200));
        }

        camera.OnStatus(BotStatus.InCallNotRecording);
        Frame();
        camera.OnStatus(BotStatus.InCallRecording);
        Frame();
        Frame();
        camera.OnStatus(BotStatus.RecordingPaused);
        Frame();
        camera.OnStatus(BotStatus.RecordingResumed);
        Frame();
        camera.OnStatus(BotStatus.CallEnded); // changes nothing
        Frame();

        Assert.Equal([0, 1, 1, 2, 1, 1], shown);
        // A key frame for every switch (4), repeat frames otherwise.
        Assert.Equal((6, 4), (camera.FramesSent, camera.KeyframesSent));
    }

    [Fact]
    public void Bot_status_with_two_images_keeps_the_second_while_paused()
    {
        var camera = Camera(BotImageLoopMode.BotStatus, 2);
        camera.OnStatus(BotStatus.RecordingPaused);
        camera.SendFrame();
        Assert.Equal(1, camera.ShownImage);
    }

    [Fact]
    public void Auto_switches_every_image_duration_and_key_frames_come_on_request_and_every_few_seconds()
    {
        var camera = Camera(BotImageLoopMode.Auto, 2, TimeSpan.FromSeconds(10));
        var keyframes = new List<long>();
        var shown = new List<int>();
        for (var i = 0; i < 5 * 25; i++)
        {
            camera.SendFrame();
            shown.Add(camera.ShownImage);
            keyframes.Add(camera.KeyframesSent);
            _clock.Advance(TimeSpan.FromMilliseconds(200));
        }

        Assert.All(shown.Take(50), s => Assert.Equal(0, s));
        Assert.All(shown.Skip(50).Take(50), s => Assert.Equal(1, s));
        Assert.All(shown.Skip(100), s => Assert.Equal(0, s));
        // Key frames at 0, 5, 10 (switch), 15, 20 (switch) s: five in 25 s.
        Assert.Equal(5, camera.KeyframesSent);

        var before = camera.KeyframesSent;
        camera.RequestKeyframeForTest();
        camera.SendFrame();
        Assert.Equal(before + 1, camera.KeyframesSent);
        // Another request at once is held back (MinKeyframeSpacing): PLIs from several subscribers, one key frame.
        camera.RequestKeyframeForTest();
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        camera.SendFrame();
        Assert.Equal(before + 1, camera.KeyframesSent);
    }

    private BotCamera Camera(BotImageLoopMode mode, int images, TimeSpan? duration = null) =>
        new(_client, Publication, [.. Enumerable.Range(0, images).Select(i => new EncodedBotImage(new Uri($"http://127.0.0.1/{i}.png"), [0x10, 0, 0, 0x9d, 0x01, 0x2a], [0x11, 0, 0], 1280, 720))],
            mode, duration ?? TimeSpan.FromSeconds(30), _clock, NullLogger.Instance);
}
