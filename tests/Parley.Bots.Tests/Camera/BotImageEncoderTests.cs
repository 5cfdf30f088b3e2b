using System.Buffers.Binary;
using System.Globalization;
using Parley.Bots.Camera;
using Parley.Bots.Tests.Recording;
using Parley.Testing;

namespace Parley.Bots.Tests.Camera;

/// <summary>bot_image downloads from a local server and encodes with Debian's ffmpeg (real, no fakes).</summary>
public sealed class BotImageEncoderTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private ImageServer _server = null!;

    public async Task InitializeAsync()
    {
        Media.Require("ffmpeg");
        var red = ImageServer.SolidPng("red", 320, 240);
        _server = await ImageServer.StartAsync(new Dictionary<string, (byte[], string)>
        {
            ["red.png"] = (red, "image/png"),
            ["blue.png"] = (ImageServer.SolidPng("blue", 640, 360), "application/octet-stream"),
            ["page.png"] = ("<html><body>oops</body></html>"u8.ToArray(), "image/png"),
        });
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task An_image_becomes_a_720p_key_frame_and_a_repeat_frame_that_never_drifts()
    {
        var set = await new BotImageEncoder(Loopback).LoadAsync(Request("red.png"), CancellationToken.None);

        Assert.Null(set.Problem);
        var image = Assert.Single(set.Images);
        Assert.Equal((1280, 720), (image.Width, image.Height));
        Assert.True(IvfReader.IsVp8Keyframe(image.Keyframe));
        Assert.NotNull(image.InterFrame);
        Assert.False(IvfReader.IsVp8Keyframe(image.InterFrame));
        Assert.True(image.InterFrame.Length < 1000, $"the repeat frame of a plain colour is {image.InterFrame.Length} bytes");

        // What a subscriber decodes: the key frame, then the repeat frame again and again. Frame 1 and frame 40 are
        // the same picture to the bit (no drift), red in the middle, black bars left and right (4:3 in 16:9).
        var path = WriteIvf("red.ivf", image, repeats: 40);
        Assert.Equal(Md5(path, 1), Md5(path, 40));
        var middle = (U: Stat(path, 40, "UAVG", "crop=64:64:608:328"), V: Stat(path, 40, "VAVG", "crop=64:64:608:328"));
        Assert.True(middle.V > 200 && middle.U < 128, $"the middle should be red: U {middle.U:F0}, V {middle.V:F0}");
        Assert.Equal(16, Stat(path, 40, "YAVG", "crop=100:720:0:0"), 0);
    }

    [Fact]
    public async Task Images_that_cannot_be_had_are_left_out_and_said_why()
    {
        var set = await new BotImageEncoder(Loopback).LoadAsync(Request("missing.png", "blue.png", "page.png"), CancellationToken.None);

        // The one that works is kept, served as application/octet-stream: the signature decides, not the type.
        Assert.Equal([_server.Url("blue.png")], set.Images.Select(i => i.Source));
        Assert.StartsWith("some bot_image images were skipped", set.Problem, StringComparison.Ordinal);
        Assert.Contains("missing.png: the server answered 404", set.Problem, StringComparison.Ordinal);
        Assert.Contains("page.png: not an image", set.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Too_large_or_unreachable_leaves_the_bot_without_video()
    {
        var small = new BotImageEncoder(Loopback with { MaxImageBytes = 100 });
        var set = await small.LoadAsync(Request("red.png"), CancellationToken.None);
        Assert.Empty(set.Images);
        Assert.Contains("over the limit of 100", set.Problem, StringComparison.Ordinal);

        // Port 9 (discard) on loopback: nothing listens, the connection is refused.
        var refused = await new BotImageEncoder(Loopback).LoadAsync(new BotImageRequest([new Uri("http://127.0.0.1:9/x.png")], BotImageLoopMode.Auto, TimeSpan.FromSeconds(30)), CancellationToken.None);
        Assert.Empty(refused.Images);
        Assert.StartsWith("bot_image was skipped, the bot joined without video", refused.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task By_default_a_private_address_is_refused_before_anything_is_sent_to_it()
    {
        // The tenant's URL points into the network Parley runs in (here the test's own server on 127.0.0.1).
        var set = await new BotImageEncoder().LoadAsync(Request("red.png"), CancellationToken.None);

        Assert.Empty(set.Images);
        Assert.Contains("private addresses", set.Problem, StringComparison.Ordinal);
        Assert.False(_server.Requests.ContainsKey("red.png"));
    }

    [Fact]
    public async Task Without_ffmpeg_nothing_is_downloaded_and_the_message_names_the_package()
    {
        var encoder = new BotImageEncoder(new BotImageEncoderOptions { FfmpegBinaryFolder = _directory.Path });
        var set = await encoder.LoadAsync(Request("red.png"), CancellationToken.None);

        Assert.Empty(set.Images);
        Assert.Contains("bot_image was skipped: ffmpeg was not found in " + _directory.Path, set.Problem, StringComparison.Ordinal);
        Assert.Contains("Debian package ffmpeg", set.Problem, StringComparison.Ordinal);
        Assert.False(_server.Requests.ContainsKey("red.png"));
    }

    /// <summary>The images are served on 127.0.0.1: allowed as WEBHOOK_ALLOW_PRIVATE_NETWORKS=true would.</summary>
    private static readonly BotImageEncoderOptions Loopback = new() { AllowPrivateNetworks = true };

    private BotImageRequest Request(params string[] names) =>
        new([.. names.Select(_server.Url)], BotImageLoopMode.Auto, TimeSpan.FromSeconds(30));

    /// <summary>An IVF file of the key frame and <paramref name="repeats"/> repeat frames at 5 fps.</summary>
    private string WriteIvf(string name, EncodedBotImage image, int repeats)
    {
        var frames = new List<byte[]> { image.Keyframe };
        frames.AddRange(Enumerable.Repeat(image.InterFrame!, repeats));
        using var stream = new MemoryStream();
        var header = new byte[32];
        "DKIF"u8.CopyTo(header);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(6), 32);
        "VP80"u8.CopyTo(header.AsSpan(8));
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(12), (ushort)image.Width);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(14), (ushort)image.Height);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(16), 5);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(20), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(24), (uint)frames.Count);
        stream.Write(header);
        for (var i = 0; i < frames.Count; i++)
        {
            var frameHeader = new byte[12];
            BinaryPrimitives.WriteUInt32LittleEndian(frameHeader, (uint)frames[i].Length);
            BinaryPrimitives.WriteInt64LittleEndian(frameHeader.AsSpan(4), i);
            stream.Write(frameHeader);
            stream.Write(frames[i]);
        }

        var path = Path.Combine(_directory.Path, name);
        File.WriteAllBytes(path, stream.ToArray());
        return path;
    }

    private static string Md5(string path, int frame)
    {
        var (output, error, code) = Media.Run("ffmpeg", string.Create(CultureInfo.InvariantCulture, $"-v error -i \"{path}\" -vf select=eq(n\\,{frame}) -frames:v 1 -f md5 -"));
        Assert.True(code == 0, error);
        return output.Trim();
    }

    /// <summary>A signalstats value of decoded frame <paramref name="frame"/> (by index, not time: IVF has no index to seek).</summary>
    private static double Stat(string path, int frame, string key, string crop)
    {
        var (_, error, code) = Media.Run("ffmpeg", string.Create(CultureInfo.InvariantCulture,
            $"-v info -i \"{path}\" -vf select=eq(n\\,{frame}),{crop},signalstats,metadata=print:key=lavfi.signalstats.{key} -frames:v 1 -f null -"));
        Assert.True(code == 0, error);
        var line = error.Split('\n').Last(l => l.Contains($"lavfi.signalstats.{key}=", StringComparison.Ordinal));
        return double.Parse(line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..].Trim(), CultureInfo.InvariantCulture);
    }
}
