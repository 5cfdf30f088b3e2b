using Microsoft.Extensions.Logging;
using Parley.Bots.Api;
using Parley.Bots.Recording;
using Parley.Core.Bots;
using Parley.Core.Storage;

namespace Parley.Bots.Adapters.Native;

/// <summary>Uploads one file as an artifact: kind, name, content, content type (BotApiClient.UploadArtifactAsync).</summary>
public delegate Task ArtifactUpload(string kind, string name, byte[] content, string contentType, CancellationToken cancellationToken);

/// <summary>Where this bot keeps what it cannot upload: PARLEY_FALLBACK_STORAGE_DIR and its own id.</summary>
public sealed record RecordingFallback(string Directory, string BotId);

/// <summary>
/// How the recording was delivered. <see cref="Message"/> is for the bot's error_message on its terminal status
/// (the bot still ends completed): the artifacts ffmpeg could not make, and whether the upload was deferred.
/// </summary>
public sealed record RecordingDeliveryOutcome(bool Deferred, string? Message, IReadOnlyList<string> Uploaded, IReadOnlyList<string> Kept, string? FallbackEntry);

/// <summary>
/// After the bot left (issue 7 items 3–4): composes the recording folder with <see cref="RecordingComposer"/>
/// (FLAC, MP4 per recording_mode, diarization, chat) and uploads the artifacts through the internal artifacts
/// endpoint. Without ffmpeg (or when it failed) the per-track WebM files go up instead, as API.md says.
/// <para>
/// Each upload retries with backoff inside <see cref="BotApiClient"/> for PARLEY_BOT_API_RETRY_BUDGET_MS. When one
/// still fails, storage is taken to be down: the remaining files are not tried one budget each (minutes per file)
/// but copied at once, with a manifest, into the fallback directory (<see cref="FallbackStore"/>), from which the
/// jobs role's fallback-upload-job uploads them. The bot then still ends <c>completed</c>: the meeting was recorded
/// and nothing is lost, only late; its error_message says so (<see cref="FallbackStore.PendingNote"/>) and
/// bot.completed is sent again, with the links, when the job has stored the files. Only when the fallback copy
/// fails too (or there is no fallback directory) does the bot fail with UPLOAD_FAILED after recording_failed; the
/// folder then stays on the bot's disk.
/// </para>
/// </summary>
public sealed partial class NativeRecordingDelivery(ArtifactUpload upload, ILogger logger, RecordingComposer? composer = null, RecordingFallback? fallback = null)
{
    private readonly RecordingComposer _composer = composer ?? new RecordingComposer();

    /// <summary>What was composed (null before <see cref="DeliverAsync"/>); its Message says what was skipped.</summary>
    public RecordingCompositionResult? Result { get; private set; }

    /// <summary>How the delivery ended (null before <see cref="DeliverAsync"/> returned).</summary>
    public RecordingDeliveryOutcome? Outcome { get; private set; }

    /// <summary>Names of the uploaded artifacts, in order.</summary>
    public List<string> Uploaded { get; } = [];

    /// <summary>The delivery of a bot process: its API client, and PARLEY_FALLBACK_STORAGE_DIR when `parley bot run` resolved one.</summary>
    public static NativeRecordingDelivery Create(MeetingAdapterContext context, BotApiClient api)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(api);
        var directory = context.Options.FallbackStorageDirectory;
        return new NativeRecordingDelivery(
            api.UploadArtifactAsync,
            context.Loggers.CreateLogger<NativeRecordingDelivery>(),
            fallback: string.IsNullOrWhiteSpace(directory) ? null : new RecordingFallback(directory, context.Config.BotId));
    }

    public async Task<RecordingDeliveryOutcome> DeliverAsync(string recordingDirectory, string? recordingMode, CancellationToken cancellationToken)
    {
        var output = Path.Combine(recordingDirectory, "output");
        var result = await _composer.ComposeAsync(recordingDirectory, RecordingComposerOptions.ParseLayout(recordingMode), output, cancellationToken).ConfigureAwait(false);
        Result = result;
        if (result.Message is { } message)
        {
            LogSkipped(logger, string.Join(", ", result.SkippedArtifacts), message);
        }

        var plan = Plan(result);
        for (var i = 0; i < plan.Count; i++)
        {
            var (kind, path, contentType) = plan[i];
            try
            {
                var name = Path.GetFileName(path);
                var content = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
                await upload(kind, name, content, contentType, cancellationToken).ConfigureAwait(false);
                Uploaded.Add(name);
                LogUploaded(logger, kind, name, content.Length);
            }
            catch (Exception ex) when (ex is BotApiException or BotApiUnavailableException or OperationCanceledException or HttpRequestException or IOException)
            {
                // Cancelled too: the runtime stops an adapter that takes long to leave, and what was recorded
                // must outlive that. The copy below therefore ignores the token.
                var reason = ex is OperationCanceledException ? "the delivery was interrupted" : ex.Message;
                LogUploadFailed(logger, reason, recordingDirectory);
                return Outcome = await KeepAsync(plan.Skip(i).ToList(), reason, result.Message, recordingDirectory).ConfigureAwait(false);
            }
        }

        return Outcome = new RecordingDeliveryOutcome(false, result.Message, [.. Uploaded], [], null);
    }

    /// <summary>The files to upload, in order, with their artifact kind and content type; only those that exist.</summary>
    private static List<(string Kind, string Path, string ContentType)> Plan(RecordingCompositionResult result)
    {
        var plan = new List<(string Kind, string Path, string ContentType)>();
        if (result.AudioPath is { } audio)
        {
            plan.Add(("audio", audio, "audio/flac"));
        }

        if (result.VideoPath is { } video)
        {
            plan.Add(("video", video, "video/mp4"));
        }

        plan.Add(("diarization", result.DiarizationPath, "application/x-ndjson"));
        // Not application/json: the artifacts endpoint takes a body of that type as a registration list, not a file.
        plan.Add(("chat_messages", result.ChatMessagesPath, "text/json; charset=utf-8"));
        if (result.SkippedArtifacts.Count > 0)
        {
            foreach (var track in result.TrackFiles)
            {
                plan.Add(("track", track, Path.GetExtension(track) == ".mkv" ? "video/x-matroska" : "video/webm"));
            }
        }

        return plan.Where(p => File.Exists(p.Path)).ToList();
    }

    private async Task<RecordingDeliveryOutcome> KeepAsync(List<(string Kind, string Path, string ContentType)> rest, string reason, string? compositionMessage, string recordingDirectory)
    {
        if (fallback is null)
        {
            throw new MeetingFailedException(BotErrorCode.UploadFailed, $"Uploading the recording failed: {reason}", BotStatus.RecordingFailed);
        }

        string entry;
        try
        {
            var store = new FallbackStore(fallback.Directory, TimeProvider.System);
            entry = await store.WriteAsync(fallback.BotId, [.. rest.Select(r => (r.Path, r.Kind, r.ContentType))], reason, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            LogFallbackFailed(logger, fallback.Directory, ex.Message, recordingDirectory);
            throw new MeetingFailedException(
                BotErrorCode.UploadFailed,
                $"Uploading the recording failed ({reason}) and keeping it in PARLEY_FALLBACK_STORAGE_DIR failed too ({ex.Message}); it stays on the bot's disk in {recordingDirectory}.",
                BotStatus.RecordingFailed);
        }

        var kept = rest.Select(r => Path.GetFileName(r.Path)).ToList();
        LogKept(logger, kept.Count, entry);
        var message = compositionMessage is null ? FallbackStore.PendingNote : $"{compositionMessage} {FallbackStore.PendingNote}";
        return new RecordingDeliveryOutcome(true, message, [.. Uploaded], kept, entry);
    }

    [LoggerMessage(EventId = 7120, Level = LogLevel.Information, Message = "Artifact {Kind} uploaded: {Name} ({Bytes} bytes)")]
    private static partial void LogUploaded(ILogger logger, string kind, string name, int bytes);

    [LoggerMessage(EventId = 7121, Level = LogLevel.Warning, Message = "Artifacts skipped ({Skipped}): {Message}")]
    private static partial void LogSkipped(ILogger logger, string skipped, string message);

    [LoggerMessage(EventId = 7122, Level = LogLevel.Error, Message = "Upload failed ({Reason}); the recording is in {Directory}")]
    private static partial void LogUploadFailed(ILogger logger, string reason, string directory);

    [LoggerMessage(EventId = 7123, Level = LogLevel.Warning, Message = "{Count} file(s) kept in fallback storage {Entry}; fallback-upload-job uploads them")]
    private static partial void LogKept(ILogger logger, int count, string entry);

    [LoggerMessage(EventId = 7124, Level = LogLevel.Error, Message = "Fallback storage {Fallback} not writable ({Reason}); the recording stays in {Directory}")]
    private static partial void LogFallbackFailed(ILogger logger, string fallback, string reason, string directory);
}
