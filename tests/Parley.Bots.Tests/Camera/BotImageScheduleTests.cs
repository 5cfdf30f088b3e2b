using System.Text.Json;
using Parley.Bots.Camera;
using Parley.Core.Bots;

namespace Parley.Bots.Tests.Camera;

public sealed class BotImageScheduleTests
{
    private static readonly TimeSpan Thirty = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(0, 0)]
    [InlineData(29.9, 0)]
    [InlineData(30, 1)]
    [InlineData(89.9, 2)]
    [InlineData(90, 0)]
    [InlineData(125, 1)]
    public void Auto_cycles_the_images_every_image_duration(double seconds, int expected) =>
        Assert.Equal(expected, BotImageSchedule.Current(BotImageLoopMode.Auto, 3, Thirty, TimeSpan.FromSeconds(seconds), statusSlot: 2));

    [Fact]
    public void Auto_with_one_image_always_shows_it() =>
        Assert.Equal(0, BotImageSchedule.Current(BotImageLoopMode.Auto, 1, Thirty, TimeSpan.FromHours(1), 0));

    [Theory]
    [InlineData(BotStatus.JoiningCall, 3, 0)]
    [InlineData(BotStatus.InWaitingRoom, 3, 0)]
    [InlineData(BotStatus.InCallNotRecording, 3, 0)]
    [InlineData(BotStatus.InCallRecording, 3, 1)]
    [InlineData(BotStatus.RecordingResumed, 3, 1)]
    [InlineData(BotStatus.RecordingPaused, 3, 2)]
    [InlineData(BotStatus.RecordingPaused, 2, 1)] // no third image: the last there is
    [InlineData(BotStatus.InCallRecording, 1, 0)]
    [InlineData(BotStatus.RecordingPaused, 5, 2)]
    public void Bot_status_picks_the_image_of_the_status_or_the_last_available(string status, int count, int expected) =>
        Assert.Equal(expected, BotImageSchedule.Current(BotImageLoopMode.BotStatus, count, Thirty, TimeSpan.FromMinutes(5), BotImageSchedule.SlotOf(status)));

    [Fact]
    public void Statuses_outside_the_call_change_nothing()
    {
        Assert.Equal(-1, BotImageSchedule.SlotOf(BotStatus.CallEnded));
        Assert.Equal(-1, BotImageSchedule.SlotOf("something_new"));
    }

    [Fact]
    public void The_request_is_read_from_the_create_body()
    {
        var one = BotImageRequest.FromBody(Body("""{"bot_image":"https://example.com/a.png"}"""))!;
        Assert.Equal(["https://example.com/a.png"], one.Urls.Select(u => u.ToString()));
        Assert.Equal((BotImageLoopMode.Auto, TimeSpan.FromSeconds(30)), (one.LoopMode, one.ImageDuration));

        var many = BotImageRequest.FromBody(Body("""{"bot_image":["https://e.com/1.png","http://e.com/2.jpg","ftp://e.com/x"],"bot_image_config":{"loop_mode":"bot_status","image_duration":45}}"""))!;
        Assert.Equal(2, many.Urls.Count);
        Assert.Equal((BotImageLoopMode.BotStatus, TimeSpan.FromSeconds(45)), (many.LoopMode, many.ImageDuration));

        Assert.Null(BotImageRequest.FromBody(Body("""{"bot_name":"x"}""")));
        Assert.Null(BotImageRequest.FromBody(Body("""{"bot_image":null}""")));
        Assert.Null(BotImageRequest.FromBody(Body("""{"bot_image":[]}""")));
        Assert.Null(BotImageRequest.FromBody(default));
        // Out of range (the API refuses it; an old row might hold it): the default.
        Assert.Equal(TimeSpan.FromSeconds(30), BotImageRequest.FromBody(Body("""{"bot_image":"https://e.com/a.png","bot_image_config":{"image_duration":5}}"""))!.ImageDuration);
    }

    private static JsonElement Body(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
