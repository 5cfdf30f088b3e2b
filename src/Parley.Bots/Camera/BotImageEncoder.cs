using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.Bots.Recording;
using Parley.Core.Net;

namespace Parley.Bots.Camera;

/// <summary>
/// One image of bot_image as VP8, encoded once: a key frame, and an inter frame that repeats the picture without
/// touching the decoder's reference (sent between key frames; null when the encoder gave none).
/// </summary>
public sealed record EncodedBotImage(Uri Source, byte[] Keyframe, byte[]? InterFrame, int Width, int Height);

/// <summary>What became of bot_image: the images that are ready (in bot_image order) and, when some are missing, why.</summary>
public sealed record BotImageSet(IReadOnlyList<EncodedBotImage> Images, string? Problem)
{
    public static BotImageSet Empty(string? problem) => new([], problem);
}

/// <summary>Limits of the download and encode of bot_image; the defaults suit every bot.</summary>
public sealed record BotImageEncoderOptions
{
    /// <summary>A picture for a camera tile needs far less; more is refused rather than read.</summary>
    public long MaxImageBytes { get; init; } = 10 * 1024 * 1024;

    public TimeSpan DownloadTimeout { get; init; } = TimeSpan.FromSeconds(20);

    public TimeSpan EncodeTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public int Width { get; init; } = 1280;

    public int Height { get; init; } = 720;

    /// <summary>Folder of ffmpeg; null: PATH (as the recording composer looks it up).</summary>
    public string? FfmpegBinaryFolder { get; init; }

    /// <summary>Download from private and loopback addresses too (the api's WEBHOOK_ALLOW_PRIVATE_NETWORKS).</summary>
    public bool AllowPrivateNetworks { get; init; }
}

/// <summary>
/// Downloads each bot_image URL and has Debian's ffmpeg (libvpx) encode it once into VP8 at
/// <see cref="BotImageEncoderOptions.Width"/>×<see cref="BotImageEncoderOptions.Height"/> (scaled to fit, padded
/// black). Anything that goes wrong (no ffmpeg, a 404, a 50 MB file, an HTML page, an image ffmpeg cannot read) is
/// logged and leaves that image out; it never throws: the bot joins with fewer images, or without video.
/// <para>
/// Why two frames and temporal layers: a still needs a key frame once, then only "nothing changed". Repeating an
/// ordinary second frame of the still drifts: it carries a residual against the key frame and refreshes the
/// decoder's last-frame buffer, so each repeat adds the residual again (measured: 33.7 dB PSNR after one repeat,
/// 5.3 dB after fifty). libvpx's two-layer pattern (ts_layering_mode=2) encodes the second frame in the upper
/// temporal layer, which predicts from the key frame and updates no reference a later layer-1 frame reads, so the
/// decoded picture is bit-identical however often it repeats (checked with md5 of frames 1, 2 and 50). With
/// -static-thresh the frame is about 100 bytes for a plain colour and 450 for a 720p test pattern.
/// </para>
/// </summary>
public sealed partial class BotImageEncoder(BotImageEncoderOptions? options = null, HttpClient? http = null, ILogger? logger = null)
{
    private readonly BotImageEncoderOptions _options = options ?? new BotImageEncoderOptions();
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>Downloads and encodes every image of <paramref name="request"/>, one after the other (one ffmpeg at a time is kinder to a shared machine).</summary>
    public async Task<BotImageSet> LoadAsync(BotImageRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var ffmpeg = RecordingComposer.FindBinary("ffmpeg", _options.FfmpegBinaryFolder);
        if (ffmpeg is null)
        {
            var where = string.IsNullOrEmpty(_options.FfmpegBinaryFolder) ? "on PATH" : $"in {_options.FfmpegBinaryFolder}";
            LogFfmpegMissing(_logger, where);
            return BotImageSet.Empty($"bot_image was skipped: ffmpeg was not found {where}, so the bot joined without video. Debian package ffmpeg provides it (apt-get install ffmpeg).");
        }

        var images = new List<EncodedBotImage>();
        var problems = new List<string>();
        var directory = Directory.CreateTempSubdirectory("parley-bot-image-");
        var ownClient = http is null;
        var client = http ?? new HttpClient(PrivateNetworks.CreateHandler(_options.AllowPrivateNetworks));
        try
        {
            for (var i = 0; i < request.Urls.Count; i++)
            {
                var url = request.Urls[i];
                var input = Path.Combine(directory.FullName, string.Create(CultureInfo.InvariantCulture, $"image-{i}"));
                var downloaded = await DownloadAsync(client, url, input, cancellationToken).ConfigureAwait(false);
                if (downloaded is not null)
                {
                    problems.Add($"{url}: {downloaded}");
                    continue;
                }

                var output = Path.Combine(directory.FullName, string.Create(CultureInfo.InvariantCulture, $"image-{i}.ivf"));
                var (image, error) = await EncodeAsync(ffmpeg, url, input, output, cancellationToken).ConfigureAwait(false);
                if (image is null)
                {
                    problems.Add($"{url}: {error}");
                    continue;
                }

                LogEncoded(_logger, url.ToString(), image.Keyframe.Length, image.InterFrame?.Length ?? 0);
                images.Add(image);
            }
        }
        finally
        {
            if (ownClient)
            {
                client.Dispose();
            }

            try
            {
                directory.Delete(recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        var problem = problems.Count == 0
            ? null
            : (images.Count == 0 ? "bot_image was skipped, the bot joined without video: " : "some bot_image images were skipped: ") + string.Join("; ", problems);
        return new BotImageSet(images, problem);
    }

    /// <summary>Saves the image at <paramref name="url"/> to <paramref name="path"/>; returns null, or what went wrong.</summary>
    internal async Task<string?> DownloadAsync(HttpClient client, Uri url, string path, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.DownloadTimeout);
        try
        {
            using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return Fail(url, $"the server answered {(int)response.StatusCode}");
            }

            if (response.Content.Headers.ContentLength > _options.MaxImageBytes)
            {
                return Fail(url, $"{response.Content.Headers.ContentLength} bytes is over the limit of {_options.MaxImageBytes}");
            }

            // Read at most one byte past the limit: a server that sends no length (or lies) cannot fill the disk.
            using var buffer = new MemoryStream();
            await using (var body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false))
            {
                var chunk = new byte[81920];
                int read;
                while ((read = await body.ReadAsync(chunk, timeout.Token).ConfigureAwait(false)) > 0)
                {
                    buffer.Write(chunk, 0, read);
                    if (buffer.Length > _options.MaxImageBytes)
                    {
                        return Fail(url, $"the image is over the limit of {_options.MaxImageBytes} bytes");
                    }
                }
            }

            var bytes = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
            if (!LooksLikeImage(bytes))
            {
                return Fail(url, $"not an image (content type {response.Content.Headers.ContentType?.MediaType ?? "none"}, no PNG/JPEG/GIF/WebP/BMP signature)");
            }

            await File.WriteAllBytesAsync(path, buffer.ToArray(), cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Fail(url, $"no answer within {_options.DownloadTimeout.TotalSeconds:0} s");
        }
        catch (Exception e) when (e is HttpRequestException or IOException or InvalidOperationException)
        {
            return Fail(url, e.Message);
        }
    }

    /// <summary>
    /// Whether the bytes are an image ffmpeg's image decoders read: by signature, because servers often label
    /// images application/octet-stream; an image/* type alone is not trusted (an error page can claim it).
    /// </summary>
    internal static bool LooksLikeImage(ReadOnlySpan<byte> bytes) =>
        bytes.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G'])
            || bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF])
            || bytes.StartsWith("GIF8"u8)
            || (bytes.Length >= 12 && bytes.StartsWith("RIFF"u8) && bytes[8..12].SequenceEqual("WEBP"u8))
            || bytes.StartsWith("BM"u8);

    private async Task<(EncodedBotImage? Image, string? Error)> EncodeAsync(string ffmpeg, Uri url, string input, string output, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(ffmpeg)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in Arguments(input, output, _options.Width, _options.Height))
        {
            start.ArgumentList.Add(argument);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.EncodeTimeout);
        string errors;
        try
        {
            using var process = Process.Start(start) ?? throw new InvalidOperationException("ffmpeg did not start");
            var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            try
            {
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            await stdout.ConfigureAwait(false);
            errors = (await stderr.ConfigureAwait(false)).Trim();
            if (process.ExitCode != 0)
            {
                return (null, Fail(url, "ffmpeg could not encode it: " + FirstLine(errors)));
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, Fail(url, $"ffmpeg took over {_options.EncodeTimeout.TotalSeconds:0} s"));
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return (null, Fail(url, "ffmpeg could not run: " + e.Message));
        }

        byte[] file;
        try
        {
            file = await File.ReadAllBytesAsync(output, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            return (null, Fail(url, "ffmpeg wrote no output: " + e.Message));
        }

        var frames = new List<IvfFrame>();
        if (!IvfReader.TryReadFrames(file, frames, out var header) || !header.IsVp8 || frames.Count == 0
            || !IvfReader.IsVp8Keyframe(file.AsSpan(frames[0].Offset, frames[0].Length)))
        {
            return (null, Fail(url, "ffmpeg's output is not VP8 in IVF starting with a key frame"));
        }

        var keyframe = file.AsSpan(frames[0].Offset, frames[0].Length).ToArray();
        byte[]? inter = frames.Count > 1 && !IvfReader.IsVp8Keyframe(file.AsSpan(frames[1].Offset, frames[1].Length))
            ? file.AsSpan(frames[1].Offset, frames[1].Length).ToArray()
            : null;
        return (new EncodedBotImage(url, keyframe, inter, header.Width, header.Height), null);
    }

    /// <summary>
    /// The ffmpeg command line: the first frame of the input shown twice (loop), fitted into the frame and padded
    /// black, two VP8 frames in two temporal layers (see the class comment), one thread (a bot shares its machine).
    /// </summary>
    internal static IReadOnlyList<string> Arguments(string input, string output, int width, int height)
    {
        var fit = string.Create(CultureInfo.InvariantCulture,
            $"loop=loop=1:size=1:start=0,setpts=N/(5*TB),scale={width}:{height}:force_original_aspect_ratio=decrease,pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:black,format=yuv420p");
        return
        [
            "-hide_banner", "-nostdin", "-v", "error", "-y",
            "-i", input,
            "-an", "-vf", fit, "-r", "5", "-frames:v", "2", "-threads", "1",
            "-c:v", "libvpx", "-b:v", "1500k", "-qmin", "4", "-qmax", "40", "-g", "1000",
            "-auto-alt-ref", "0", "-lag-in-frames", "0", "-static-thresh", "1000000",
            "-ts-parameters", "ts_number_layers=2:ts_target_bitrate=750,1500:ts_rate_decimator=2,1:ts_periodicity=2:ts_layer_id=0,1:ts_layering_mode=2",
            "-f", "ivf", output,
        ];
    }

    private string Fail(Uri url, string reason)
    {
        LogImageFailed(_logger, url.ToString(), reason);
        return reason;
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0];

    [LoggerMessage(EventId = 7130, Level = LogLevel.Warning, Message = "bot_image skipped: ffmpeg was not found {Where} (Debian package ffmpeg); the bot joins without video")]
    private static partial void LogFfmpegMissing(ILogger logger, string where);

    [LoggerMessage(EventId = 7131, Level = LogLevel.Warning, Message = "bot_image {Url} skipped: {Reason}")]
    private static partial void LogImageFailed(ILogger logger, string url, string reason);

    [LoggerMessage(EventId = 7132, Level = LogLevel.Information, Message = "bot_image {Url} encoded: key frame {KeyframeBytes} bytes, repeat frame {InterBytes} bytes")]
    private static partial void LogEncoded(ILogger logger, string url, int keyframeBytes, int interBytes);
}
