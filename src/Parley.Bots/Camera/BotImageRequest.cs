using System.Text.Json;
using Parley.Core.Bots;

namespace Parley.Bots.Camera;

/// <summary>How the images of bot_image take turns (bot_image_config.loop_mode).</summary>
public enum BotImageLoopMode
{
    /// <summary>Each image for image_duration seconds, then the next, round and round.</summary>
    Auto,

    /// <summary>The image follows the bot's status: first on join, second while recording, third while paused.</summary>
    BotStatus,
}

/// <summary>
/// bot_image and bot_image_config of the create body (API.md), read from the body the bot config carries whole.
/// The API validated both (BotRequestValidator); this reader still ignores what it cannot use rather than throw,
/// so that a body from an older or hand-edited row cannot stop a bot from joining.
/// </summary>
public sealed record BotImageRequest(IReadOnlyList<Uri> Urls, BotImageLoopMode LoopMode, TimeSpan ImageDuration)
{
    public const int MaxImages = 5;
    public static readonly TimeSpan DefaultImageDuration = TimeSpan.FromSeconds(30);

    /// <summary>The request of <paramref name="body"/>, or null when it has no usable bot_image.</summary>
    public static BotImageRequest? FromBody(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("bot_image", out var image))
        {
            return null;
        }

        var urls = new List<Uri>();
        void Add(JsonElement e)
        {
            if (urls.Count < MaxImages && e.ValueKind == JsonValueKind.String
                && Uri.TryCreate(e.GetString(), UriKind.Absolute, out var url) && url.Scheme is "http" or "https")
            {
                urls.Add(url);
            }
        }

        if (image.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in image.EnumerateArray())
            {
                Add(item);
            }
        }
        else
        {
            Add(image);
        }

        if (urls.Count == 0)
        {
            return null;
        }

        var mode = BotImageLoopMode.Auto;
        var duration = DefaultImageDuration;
        if (body.TryGetProperty("bot_image_config", out var config) && config.ValueKind == JsonValueKind.Object)
        {
            if (config.TryGetProperty("loop_mode", out var m) && m.ValueKind == JsonValueKind.String && m.GetString() == "bot_status")
            {
                mode = BotImageLoopMode.BotStatus;
            }

            if (config.TryGetProperty("image_duration", out var d) && d.ValueKind == JsonValueKind.Number && d.TryGetInt32(out var seconds) && seconds is >= 10 and <= 120)
            {
                duration = TimeSpan.FromSeconds(seconds);
            }
        }

        return new BotImageRequest(urls, mode, duration);
    }
}

/// <summary>
/// Which image shows (pure, for tests): in <see cref="BotImageLoopMode.Auto"/> by the time since the camera started,
/// in <see cref="BotImageLoopMode.BotStatus"/> by the bot's latest status. Images that failed to download are not in
/// <c>count</c>: bot_status then falls back to the last image there is (two images: the second also while paused).
/// </summary>
public static class BotImageSchedule
{
    /// <summary>The slot bot_status gives a status: 0 joining and in call, 1 recording, 2 paused; -1 for a status that changes nothing.</summary>
    public static int SlotOf(string status) => status switch
    {
        BotStatus.JoiningCall or BotStatus.InWaitingRoom or BotStatus.InWaitingForHost or BotStatus.InCallNotRecording => 0,
        BotStatus.InCallRecording or BotStatus.RecordingResumed => 1,
        BotStatus.RecordingPaused => 2,
        _ => -1,
    };

    /// <summary>The index of the image to show, 0 ≤ index &lt; <paramref name="count"/> (0 when there is none).</summary>
    public static int Current(BotImageLoopMode mode, int count, TimeSpan imageDuration, TimeSpan elapsed, int statusSlot)
    {
        if (count <= 1)
        {
            return 0;
        }

        if (mode == BotImageLoopMode.BotStatus)
        {
            return Math.Clamp(statusSlot, 0, count - 1);
        }

        if (imageDuration <= TimeSpan.Zero || elapsed <= TimeSpan.Zero)
        {
            return 0;
        }

        return (int)(elapsed.Ticks / imageDuration.Ticks % count);
    }
}
