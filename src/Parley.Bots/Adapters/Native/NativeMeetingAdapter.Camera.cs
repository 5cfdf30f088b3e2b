using Microsoft.Extensions.Logging;
using Parley.Bots.Camera;
using Parley.Core.Bots;
using Parley.Sfu.Client;

namespace Parley.Bots.Adapters.Native;

/// <summary>
/// bot_image as the bot's camera (issue 7): the images are downloaded and encoded while the bot joins, then published
/// as a video track once it is in the call. Nothing here can fail the bot: without an image (no ffmpeg, a bad URL) it
/// stays without video and says why in the log and in error_message next to the recording's own notes.
/// </summary>
public sealed partial class NativeMeetingAdapter
{
    private readonly Lock _cameraGate = new();
    private Task<BotImageSet>? _cameraLoad;
    private Task? _cameraStart;
    private BotCamera? _camera;
    private string? _cameraMessage;
    private string _status = BotStatus.JoiningCall;
    private bool _cameraStopped;

    /// <summary>The camera once it sends (tests).</summary>
    internal BotCamera? Camera => _camera;

    /// <summary>Starts downloading and encoding bot_image, if the bot has one, while the join goes on.</summary>
    private void LoadCamera(CancellationToken cancellationToken)
    {
        if (BotImageRequest.FromBody(_context.Config.Body) is not { } request)
        {
            return;
        }

        var encoder = new BotImageEncoder(new BotImageEncoderOptions { AllowPrivateNetworks = _context.Config.AllowPrivateNetworks },
            logger: _context.Loggers.CreateLogger<BotImageEncoder>());
        _cameraLoad = Task.Run(() => encoder.LoadAsync(request, cancellationToken), cancellationToken);
    }

    /// <summary>In the call: publishes the camera when its images are ready (in the background; the join does not wait for ffmpeg).</summary>
    private void StartCamera(MeetingClient client, CancellationToken cancellationToken)
    {
        if (_cameraLoad is { } load && BotImageRequest.FromBody(_context.Config.Body) is { } request)
        {
            _cameraStart = StartCameraAsync(client, load, request, cancellationToken);
        }
    }

    private async Task StartCameraAsync(MeetingClient client, Task<BotImageSet> load, BotImageRequest request, CancellationToken cancellationToken)
    {
        try
        {
            var set = await load.ConfigureAwait(false);
            _cameraMessage = set.Problem;
            if (set.Images.Count == 0 || _cameraStopped)
            {
                return;
            }

            var publication = await client.PublishAsync(new PublishOptions { Audio = false, Video = true, VideoSource = "camera" }, cancellationToken).ConfigureAwait(false);
            var camera = new BotCamera(client, publication, set.Images, request.LoopMode, request.ImageDuration, _context.Time, _context.Loggers.CreateLogger<BotCamera>());
            lock (_cameraGate)
            {
                if (_cameraStopped)
                {
                    return;
                }

                camera.OnStatus(_status);
                _camera = camera;
            }

            camera.Start();
            LogCameraStarted(_logger, set.Images.Count, request.LoopMode.ToString());
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e) when (e is MeetingClientException or InvalidOperationException or ArgumentException or ObjectDisposedException)
        {
            LogCameraFailed(_logger, e.Message);
            _cameraMessage = $"bot_image was not shown: publishing the video failed ({e.Message}).";
        }
    }

    /// <summary>Reports a status to the runtime and to the camera (bot_status loop mode).</summary>
    private void Report(string status)
    {
        lock (_cameraGate)
        {
            _status = status;
            _camera?.OnStatus(status);
        }

        _events?.StatusChanged(status);
    }

    /// <summary>Stops the camera before leaving (its frames would go to a closing connection).</summary>
    private async Task StopCameraAsync()
    {
        lock (_cameraGate)
        {
            _cameraStopped = true;
        }

        if (_cameraStart is { } start)
        {
            await start.ConfigureAwait(false);
        }

        BotCamera? camera;
        lock (_cameraGate)
        {
            camera = _camera;
            _camera = null;
        }

        if (camera is not null)
        {
            await camera.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The recording's note and the camera's, for error_message.</summary>
    private string? WithCameraMessage(string? message) =>
        _cameraMessage is null ? message : message is null ? _cameraMessage : message + " " + _cameraMessage;

    [LoggerMessage(EventId = 7108, Level = LogLevel.Information, Message = "Camera on: {Count} bot_image image(s), loop mode {LoopMode}")]
    private static partial void LogCameraStarted(ILogger logger, int count, string loopMode);

    [LoggerMessage(EventId = 7109, Level = LogLevel.Warning, Message = "bot_image not shown: publishing the video failed: {Reason}")]
    private static partial void LogCameraFailed(ILogger logger, string reason);
}
