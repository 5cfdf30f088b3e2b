using Microsoft.Extensions.Logging;
using Parley.Bots.Api;
using Parley.Bots.Recording;
using Parley.Core.Bots;

namespace Parley.Bots.Adapters.Native;

/// <summary>Uploads one file as an artifact: kind, name, content, content type (BotApiClient.UploadArtifactAsync).</summary>
public delegate Task ArtifactUpload(string kind, string name, byte[] content, string contentType, CancellationToken cancellationToken);

/// <summary>
/// After the bot left (issue 7 items 3–4): composes the recording folder with <see cref="RecordingComposer"/>
/// (FLAC, MP4 per recording_mode, diarization, chat) and uploads the artifacts through the internal artifacts
/// endpoint. Without ffmpeg (or when it failed) the per-track WebM files go up instead, as API.md says.
/// An upload that keeps failing fails the bot with UPLOAD_FAILED after recording_failed; the folder stays on disk.
/// </summary>
public sealed partial class NativeRecordingDelivery(ArtifactUpload upload, ILogger logger, RecordingComposer? composer = null)
{
    private readonly RecordingComposer _composer = composer ?? new RecordingComposer();

    /// <summary>What was composed (null before <see cref="DeliverAsync"/>); its Message says what was skipped.</summary>
    public RecordingCompositionResult? Result { get; private set; }

    /// <summary>Names of the uploaded artifacts, in order.</summary>
    public List<string> Uploaded { get; } = [];

    public async Task DeliverAsync(string recordingDirectory, string? recordingMode, CancellationToken cancellationToken)
    {
        var output = Path.Combine(recordingDirectory, "output");
        var result = await _composer.ComposeAsync(recordingDirectory, RecordingComposerOptions.ParseLayout(recordingMode), output, cancellationToken).ConfigureAwait(false);
        Result = result;
        if (result.Message is { } message)
        {
            LogSkipped(logger, string.Join(", ", result.SkippedArtifacts), message);
        }

        try
        {
            if (result.AudioPath is { } audio)
            {
                await UploadAsync("audio", audio, "audio/flac", cancellationToken).ConfigureAwait(false);
            }

            if (result.VideoPath is { } video)
            {
                await UploadAsync("video", video, "video/mp4", cancellationToken).ConfigureAwait(false);
            }

            await UploadAsync("diarization", result.DiarizationPath, "application/x-ndjson", cancellationToken).ConfigureAwait(false);
            // Not application/json: the artifacts endpoint takes a body of that type as a registration list, not a file.
            await UploadAsync("chat_messages", result.ChatMessagesPath, "text/json; charset=utf-8", cancellationToken).ConfigureAwait(false);
            if (result.SkippedArtifacts.Count > 0)
            {
                foreach (var track in result.TrackFiles)
                {
                    var type = Path.GetExtension(track) == ".mkv" ? "video/x-matroska" : "video/webm";
                    await UploadAsync("track", track, type, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is BotApiException or BotApiUnavailableException or IOException)
        {
            LogUploadFailed(logger, ex.Message, recordingDirectory);
            throw new MeetingFailedException(BotErrorCode.UploadFailed, $"Uploading the recording failed: {ex.Message}", BotStatus.RecordingFailed);
        }
    }

    private async Task UploadAsync(string kind, string path, string contentType, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            return;
        }

        var name = Path.GetFileName(path);
        var content = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        await upload(kind, name, content, contentType, cancellationToken).ConfigureAwait(false);
        Uploaded.Add(name);
        LogUploaded(logger, kind, name, content.Length);
    }

    [LoggerMessage(EventId = 7120, Level = LogLevel.Information, Message = "Artifact {Kind} uploaded: {Name} ({Bytes} bytes)")]
    private static partial void LogUploaded(ILogger logger, string kind, string name, int bytes);

    [LoggerMessage(EventId = 7121, Level = LogLevel.Warning, Message = "Artifacts skipped ({Skipped}): {Message}")]
    private static partial void LogSkipped(ILogger logger, string skipped, string message);

    [LoggerMessage(EventId = 7122, Level = LogLevel.Error, Message = "Upload failed ({Reason}); the recording stays in {Directory}")]
    private static partial void LogUploadFailed(ILogger logger, string reason, string directory);
}
