using System.Globalization;
using System.Text;
using FFMpegCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Parley.Bots.Recording;

/// <summary>The video layouts of the bots API's recording_mode.</summary>
public enum RecordingLayout
{
    /// <summary>speaker_view: the active speaker full frame (a screen share when there is one).</summary>
    SpeakerView,

    /// <summary>gallery_view: every video participant in a grid.</summary>
    GalleryView,

    /// <summary>audio_only: no video artifact.</summary>
    AudioOnly,
}

/// <summary>Settings of <see cref="RecordingComposer"/>.</summary>
public sealed record RecordingComposerOptions
{
    /// <summary>Folder holding ffmpeg and ffprobe; null or empty: found on PATH (Debian's /usr/bin).</summary>
    public string? FfmpegBinaryFolder { get; init; }

    /// <summary>Output picture size (LiveKit's and Jibri's composite default is 720p).</summary>
    public int Width { get; init; } = 1280;

    public int Height { get; init; } = 720;

    public int FrameRate { get; init; } = 25;

    /// <summary>x264 speed preset: veryfast keeps composition near real time on one core.</summary>
    public string VideoPreset { get; init; } = "veryfast";

    public int VideoQuality { get; init; } = 23;

    public int AudioBitrateKbps { get; init; } = 128;

    /// <summary>Least time the active speaker stays shown before someone else takes over (speaker_view).</summary>
    public TimeSpan SpeakerHoldTime { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Longest an ffmpeg run may take before it is stopped.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromHours(2);

    public static RecordingLayout ParseLayout(string? recordingMode) => recordingMode switch
    {
        "gallery_view" => RecordingLayout.GalleryView,
        "audio_only" => RecordingLayout.AudioOnly,
        _ => RecordingLayout.SpeakerView,
    };
}

/// <summary>What <see cref="RecordingComposer.ComposeAsync"/> produced, and what it could not.</summary>
public sealed record RecordingCompositionResult
{
    /// <summary>audio: FLAC, every participant mixed, pauses cut. Null when skipped or failed.</summary>
    public string? AudioPath { get; init; }

    /// <summary>video: MP4 (H.264 + AAC). Null for audio_only, or when skipped or failed.</summary>
    public string? VideoPath { get; init; }

    public required string DiarizationPath { get; init; }

    public required string ParticipantsPath { get; init; }

    public required string SpeakersPath { get; init; }

    public required string ChatMessagesPath { get; init; }

    /// <summary>The per-track recordings (WebM, Matroska for H.264), to deliver when the composed ones are missing.</summary>
    public required IReadOnlyList<string> TrackFiles { get; init; }

    /// <summary>Artifacts not produced (video, audio) because ffmpeg is missing or failed.</summary>
    public required IReadOnlyList<string> SkippedArtifacts { get; init; }

    /// <summary>For the bot's error_message when something was skipped; null when everything was produced.</summary>
    public string? Message { get; init; }

    /// <summary>Length of the artifacts in seconds (the recording less its pauses).</summary>
    public double DurationSeconds { get; init; }

    public bool FfmpegAvailable { get; init; }
}

/// <summary>
/// Post-processing after the bot left (issue 7 item 3): from a recording folder (recording.json and the
/// per-track files of <see cref="RecordingSession"/>) makes the artifacts. Audio and video are decoded and
/// encoded only here, by ffmpeg through FFMpegCore, with one filter graph each:
/// <list type="bullet">
/// <item>audio (FLAC): each track resampled with gaps filled (lost packets, pauses), delayed to its start offset,
/// all mixed, padded to the recording's length, paused spans cut.</item>
/// <item>video (MP4 H.264 + AAC of the mixed audio): speaker_view overlays the shown track on a black canvas
/// only while it is shown (screen share first, else the active speaker from the speaker timeline with a hold
/// time); gallery_view overlays every video track in its grid cell for as long as it lasts. Paused spans cut.</item>
/// <item>diarization, participants, speakers and chat_messages (<see cref="RecordingArtifacts"/>).</item>
/// </list>
/// Without ffmpeg the JSON artifacts are still written and the result lists the skipped artifacts with a message
/// naming Debian's ffmpeg package; the per-track files are left for delivery.
/// </summary>
public sealed partial class RecordingComposer(RecordingComposerOptions? options = null, ILogger<RecordingComposer>? logger = null)
{
    public const string AudioFileName = "audio.flac";
    public const string VideoFileName = "video.mp4";
    public const string DiarizationFileName = "diarization.jsonl";
    public const string ParticipantsFileName = "participants.json";
    public const string SpeakersFileName = "speakers.json";
    public const string ChatMessagesFileName = "chat_messages.json";

    private const string SilenceSource = "anullsrc=r=48000:cl=mono";

    private readonly RecordingComposerOptions _options = options ?? new RecordingComposerOptions();
    private readonly ILogger _logger = logger ?? (ILogger)NullLogger.Instance;

    /// <summary>The ffmpeg and ffprobe executables, or null for each that cannot be found.</summary>
    public (string? Ffmpeg, string? Ffprobe) LocateBinaries() =>
        (FindBinary("ffmpeg", _options.FfmpegBinaryFolder), FindBinary("ffprobe", _options.FfmpegBinaryFolder));

    /// <summary>Composes the recording in <paramref name="recordingDirectory"/> into <paramref name="outputDirectory"/>.</summary>
    /// <exception cref="FileNotFoundException">The folder has no readable recording.json.</exception>
    public async Task<RecordingCompositionResult> ComposeAsync(string recordingDirectory, RecordingLayout layout, string outputDirectory, CancellationToken cancellationToken = default)
    {
        var manifestPath = Path.Combine(recordingDirectory, RecordingManifest.FileName);
        var manifest = RecordingManifest.Load(manifestPath)
            ?? throw new FileNotFoundException($"No readable {RecordingManifest.FileName} in {recordingDirectory}.", manifestPath);
        Directory.CreateDirectory(outputDirectory);

        var (ffmpeg, ffprobe) = LocateBinaries();
        var available = ffmpeg is not null && ffprobe is not null;
        var ff = new FFOptions
        {
            BinaryFolder = available ? Path.GetDirectoryName(ffmpeg)! : _options.FfmpegBinaryFolder ?? string.Empty,
            TemporaryFilesFolder = outputDirectory,
        };

        var tracks = await LoadTracksAsync(recordingDirectory, manifest, available ? ff : null, cancellationToken);
        var end = tracks.Count == 0 ? 0 : tracks.Max(t => t.Offset + t.Duration);
        var timeline = RecordingTimeline.FromManifest(manifest, end);

        // JSON artifacts first: they need no ffmpeg and must exist whatever happens to the media.
        var speech = RecordingArtifacts.SpeechInOutput(manifest, timeline);
        var diarization = Path.Combine(outputDirectory, DiarizationFileName);
        var participants = Path.Combine(outputDirectory, ParticipantsFileName);
        var speakers = Path.Combine(outputDirectory, SpeakersFileName);
        var chat = Path.Combine(outputDirectory, ChatMessagesFileName);
        RecordingArtifacts.WriteDiarization(diarization, manifest, speech);
        RecordingArtifacts.WriteParticipants(participants, manifest);
        RecordingArtifacts.WriteSpeakers(speakers, manifest, speech);
        RecordingArtifacts.WriteChatMessages(chat, manifest);

        var wanted = layout == RecordingLayout.AudioOnly ? new[] { "audio" } : ["video", "audio"];
        var result = new RecordingCompositionResult
        {
            DiarizationPath = diarization,
            ParticipantsPath = participants,
            SpeakersPath = speakers,
            ChatMessagesPath = chat,
            TrackFiles = [.. tracks.Select(t => t.Path)],
            SkippedArtifacts = wanted,
            DurationSeconds = Math.Round(timeline.OutputDurationSeconds, 3),
            FfmpegAvailable = available,
        };

        if (!available)
        {
            var where = string.IsNullOrEmpty(_options.FfmpegBinaryFolder) ? "on PATH" : $"in {_options.FfmpegBinaryFolder}";
            var missing = ffmpeg is null ? "ffmpeg" : "ffprobe";
            LogFfmpegMissing(_logger, missing, where);
            return result with
            {
                Message = $"{missing} was not found {where}: skipped {string.Join(" and ", wanted)}; the per-track recordings "
                    + "(WebM/Matroska) and the JSON artifacts are delivered instead. Debian package ffmpeg provides them (apt-get install ffmpeg).",
            };
        }

        var skipped = new List<string>();
        var errors = new List<string>();
        string? audioPath = Path.Combine(outputDirectory, AudioFileName);
        try
        {
            await ComposeAudioAsync(tracks.Where(t => !t.IsVideo).ToList(), timeline, audioPath, ff, cancellationToken);
        }
        catch (Exception ex) when (ex is FFMpegCore.Exceptions.FFMpegException or InvalidOperationException or IOException)
        {
            LogComposeFailed(_logger, "audio", ex.Message);
            errors.Add($"audio: {FirstLine(ex.Message)}");
            skipped.Add("audio");
            audioPath = null;
        }

        string? videoPath = null;
        if (layout != RecordingLayout.AudioOnly)
        {
            videoPath = Path.Combine(outputDirectory, VideoFileName);
            try
            {
                var videoTracks = tracks.Where(t => t.IsVideo).ToList();
                var speakerSpans = SpeakerTimeline.Build(
                    [.. manifest.Speech.Select(s => new SpeechSegment(s.ParticipantId, s.StartOffsetSeconds, s.EndOffsetSeconds))],
                    _options.SpeakerHoldTime, timeline.DurationSeconds);
                var placements = layout == RecordingLayout.GalleryView
                    ? PlanGallery(videoTracks)
                    : PlanSpeakerView(videoTracks, speakerSpans, timeline.DurationSeconds);
                await ComposeVideoAsync(placements, audioPath, timeline, videoPath, ff, cancellationToken);
            }
            catch (Exception ex) when (ex is FFMpegCore.Exceptions.FFMpegException or InvalidOperationException or IOException)
            {
                LogComposeFailed(_logger, "video", ex.Message);
                errors.Add($"video: {FirstLine(ex.Message)}");
                skipped.Add("video");
                videoPath = null;
            }
        }

        return result with
        {
            AudioPath = audioPath,
            VideoPath = videoPath,
            SkippedArtifacts = skipped,
            Message = errors.Count == 0 ? null : $"post-processing failed ({string.Join("; ", errors)}); the per-track recordings are delivered instead",
        };
    }

    /// <summary>
    /// speaker_view: sampled every 0.1 s, the track to show is a live screen share (the latest started), else the
    /// camera of the active speaker, else the one shown before while it lasts, else the earliest live camera.
    /// </summary>
    internal static List<VideoPlacement> PlanSpeakerView(IReadOnlyList<ComposedTrack> videos, IReadOnlyList<SpeakerSpan> speakers, double duration)
    {
        var spans = videos.ToDictionary(v => v, _ => new List<(double Start, double End)>());
        ComposedTrack? shown = null;
        var speakerIndex = 0;
        var steps = (long)Math.Ceiling(duration / SpeakerTimeline.Step);
        for (long i = 0; i < steps; i++)
        {
            var t = i * SpeakerTimeline.Step;
            var to = Math.Min(duration, t + SpeakerTimeline.Step);
            while (speakerIndex < speakers.Count && speakers[speakerIndex].End <= t)
            {
                speakerIndex++;
            }

            var speaker = speakerIndex < speakers.Count && speakers[speakerIndex].Start <= t ? speakers[speakerIndex].ParticipantId : null;
            var live = videos.Where(v => v.Offset <= t && t < v.Offset + v.Duration).ToList();
            shown = live.Where(v => v.Source == "screen").MaxBy(v => v.Offset)
                ?? (speaker is null ? null : live.Where(v => v.ParticipantId == speaker && v.Source != "screen").MaxBy(v => v.Offset))
                ?? (shown is not null && live.Contains(shown) ? shown : null)
                ?? live.Where(v => v.Source != "screen").MinBy(v => v.Offset);
            if (shown is null)
            {
                continue;
            }

            var list = spans[shown];
            if (list.Count > 0 && Math.Abs(list[^1].End - t) < 1e-6)
            {
                list[^1] = (list[^1].Start, to);
            }
            else
            {
                list.Add((t, to));
            }
        }

        return [.. videos.Where(v => spans[v].Count > 0).Select(v => new VideoPlacement(v, 0, 0, 1, 1, spans[v]))];
    }

    /// <summary>gallery_view: one grid cell per participant and source (a re-published track reuses its cell).</summary>
    internal static List<VideoPlacement> PlanGallery(IReadOnlyList<ComposedTrack> videos)
    {
        var cells = videos.Select(v => (v.ParticipantId, v.Source)).Distinct().ToList();
        if (cells.Count == 0)
        {
            return [];
        }

        var columns = (int)Math.Ceiling(Math.Sqrt(cells.Count));
        var rows = (int)Math.Ceiling(cells.Count / (double)columns);
        return [.. videos.Select(v =>
        {
            var index = cells.IndexOf((v.ParticipantId, v.Source));
            return new VideoPlacement(v, index % columns, index / columns, columns, rows, null);
        })];
    }

    private async Task<List<ComposedTrack>> LoadTracksAsync(string directory, RecordingManifest manifest, FFOptions? ff, CancellationToken cancellationToken)
    {
        var tracks = new List<ComposedTrack>();
        foreach (var track in manifest.Tracks)
        {
            if (track.File is null || track.StartOffsetSeconds is not { } offset)
            {
                continue; // announced, but no frame was ever written
            }

            var path = Path.Combine(directory, track.File);
            if (!File.Exists(path) || new FileInfo(path).Length == 0)
            {
                continue;
            }

            var duration = track.DurationSeconds;
            if (duration is null && ff is not null)
            {
                duration = await ProbeDurationAsync(path, ff, cancellationToken);
            }

            tracks.Add(new ComposedTrack(path, track.ParticipantId, track.Kind == "video", track.Source, offset, duration ?? 0));
        }

        return tracks;
    }

    /// <summary>A file finished by the writer has a Duration; one left by a crash does not, so its last packet tells.</summary>
    private async Task<double?> ProbeDurationAsync(string path, FFOptions ff, CancellationToken cancellationToken)
    {
        try
        {
            var analysis = await FFProbe.AnalyseAsync(path, ff, cancellationToken: cancellationToken);
            if (analysis.Duration > TimeSpan.Zero)
            {
                return analysis.Duration.TotalSeconds;
            }

            var packets = await FFProbe.GetPacketsAsync(path, ff, cancellationToken: cancellationToken);
            double last = 0;
            foreach (var packet in packets.Packets)
            {
                if (double.TryParse(packet.PtsTime, NumberStyles.Float, CultureInfo.InvariantCulture, out var pts))
                {
                    _ = double.TryParse(packet.DurationTime, NumberStyles.Float, CultureInfo.InvariantCulture, out var length);
                    last = Math.Max(last, pts + length);
                }
            }

            return last;
        }
        catch (Exception ex) when (ex is FFMpegCore.Exceptions.FFMpegException or FFMpegCore.Exceptions.FormatNullException or System.Text.Json.JsonException or InvalidOperationException)
        {
            LogProbeFailed(_logger, path, ex.Message);
            return null;
        }
    }

    private async Task ComposeAudioAsync(List<ComposedTrack> audio, RecordingTimeline timeline, string output, FFOptions ff, CancellationToken cancellationToken)
    {
        var total = Seconds(timeline.DurationSeconds);
        var graph = new StringBuilder();
        FFMpegArguments arguments;
        if (audio.Count == 0)
        {
            // Nobody published audio: a silent track of the right length.
            arguments = FFMpegArguments.FromFileInput(SilenceSource, verifyExists: false, Lavfi);
            graph.Append(CultureInfo.InvariantCulture, $"[0:a]atrim=end={total}");
        }
        else
        {
            arguments = FFMpegArguments.FromFileInputs(audio.Select(a => a.Path), verifyExists: true);
            for (var i = 0; i < audio.Count; i++)
            {
                // Gaps in the timestamps (loss, pause) become silence; then the track is moved to its start offset.
                graph.Append(CultureInfo.InvariantCulture, $"[{i}:a]aresample=48000:async=1:first_pts=0,");
                graph.Append(TrimOrDelayAudio(audio[i].Offset));
                graph.Append(CultureInfo.InvariantCulture, $"[a{i}];");
            }

            for (var i = 0; i < audio.Count; i++)
            {
                graph.Append(CultureInfo.InvariantCulture, $"[a{i}]");
            }

            graph.Append(CultureInfo.InvariantCulture, $"amix=inputs={audio.Count}:duration=longest:dropout_transition=0:normalize=0,");
            graph.Append(CultureInfo.InvariantCulture, $"apad=whole_dur={total},atrim=end={total}");
        }

        if (timeline.Cuts.Count > 0)
        {
            graph.Append(CultureInfo.InvariantCulture, $",aselect='not({CutExpression(timeline)})',asetpts=N/SR/TB");
        }

        graph.Append(",aformat=sample_fmts=s16:sample_rates=48000:channel_layouts=mono[aout]");
        var script = await WriteGraphAsync(output, graph.ToString(), cancellationToken);
        await RunAsync(
            arguments.OutputToFile(output, overwrite: true, o => o
                .WithCustomArgument($"-filter_complex_script \"{script}\" -map \"[aout]\" -c:a flac")),
            ff, output, cancellationToken);
        File.Delete(script);
    }

    private async Task ComposeVideoAsync(List<VideoPlacement> placements, string? audio, RecordingTimeline timeline, string output, FFOptions ff, CancellationToken cancellationToken)
    {
        var width = _options.Width & ~1;
        var height = _options.Height & ~1;
        var total = Seconds(timeline.DurationSeconds);
        var inputs = placements.Select(p => p.Track.Path).Distinct().ToList();
        var graph = new StringBuilder();
        graph.Append(CultureInfo.InvariantCulture, $"color=c=black:s={width}x{height}:r={_options.FrameRate}:d={total}[base0];");
        for (var i = 0; i < placements.Count; i++)
        {
            var p = placements[i];
            var input = inputs.IndexOf(p.Track.Path);
            var cellWidth = (width / p.Columns) & ~1;
            var cellHeight = (height / p.Rows) & ~1;
            var x = ((width - (cellWidth * p.Columns)) / 2) + (p.Column * cellWidth);
            var y = ((height - (cellHeight * p.Rows)) / 2) + (p.Row * cellHeight);
            graph.Append(CultureInfo.InvariantCulture, $"[{input}:v]");
            graph.Append(ShiftVideo(p.Track.Offset));
            graph.Append(CultureInfo.InvariantCulture,
                $",scale={cellWidth}:{cellHeight}:force_original_aspect_ratio=decrease,pad={cellWidth}:{cellHeight}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1[v{i}];");
            graph.Append(CultureInfo.InvariantCulture, $"[base{i}][v{i}]overlay=x={x}:y={y}:eof_action=pass");
            if (p.Shown is { } shown)
            {
                graph.Append(":enable='").Append(Between(shown)).Append('\'');
            }

            graph.Append(CultureInfo.InvariantCulture, $"[base{i + 1}];");
        }

        graph.Append(CultureInfo.InvariantCulture, $"[base{placements.Count}]");
        if (timeline.Cuts.Count > 0)
        {
            graph.Append(CultureInfo.InvariantCulture, $"select='not({CutExpression(timeline)})',setpts=N/FRAME_RATE/TB,");
        }

        graph.Append("format=yuv420p[vout]");

        // Inputs: the video tracks, then the mixed audio (silence when the FLAC could not be made).
        var audioInput = inputs.Count;
        var arguments = inputs.Count > 0 ? FFMpegArguments.FromFileInputs(inputs, verifyExists: true) : null;
        arguments = audio is not null
            ? arguments?.AddFileInput(audio, verifyExists: true) ?? FFMpegArguments.FromFileInput(audio, verifyExists: true)
            : arguments?.AddFileInput(SilenceSource, verifyExists: false, Lavfi) ?? FFMpegArguments.FromFileInput(SilenceSource, verifyExists: false, Lavfi);

        var duration = Seconds(timeline.OutputDurationSeconds);
        var script = await WriteGraphAsync(output, graph.ToString(), cancellationToken);
        await RunAsync(
            arguments.OutputToFile(output, overwrite: true, o => o
                .WithCustomArgument(string.Create(CultureInfo.InvariantCulture,
                    $"-filter_complex_script \"{script}\" -map \"[vout]\" -map {audioInput}:a -c:v libx264 -preset {_options.VideoPreset} "
                    + $"-crf {_options.VideoQuality} -r {_options.FrameRate} -c:a aac -b:a {_options.AudioBitrateKbps}k -ac 2 -ar 48000 "
                    + $"-movflags +faststart -t {duration}"))),
            ff, output, cancellationToken);
        File.Delete(script);
    }

    private async Task RunAsync(FFMpegArgumentProcessor processor, FFOptions ff, string output, CancellationToken cancellationToken)
    {
        LogRunning(_logger, output, processor.Arguments);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);
        var result = await processor.CancellableThrough(timeout.Token).ProcessAsynchronously(throwOnError: false, ff);
        if (!result.Success)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var tail = string.Join(" | ", result.StandardError.TakeLast(5));
            throw new InvalidOperationException($"ffmpeg exited with {result.ExitCode} making {Path.GetFileName(output)}: {tail}");
        }
    }

    /// <summary>Filter graphs of long meetings outgrow a command line: they go in a file (-filter_complex_script).</summary>
    private static async Task<string> WriteGraphAsync(string output, string graph, CancellationToken cancellationToken)
    {
        var path = output + ".filtergraph.txt";
        await File.WriteAllTextAsync(path, graph, cancellationToken);
        return path;
    }

    private static void Lavfi(FFMpegInputOptions input) => input.WithCustomArgument("-f lavfi");

    private static string TrimOrDelayAudio(double offset) => offset >= 0
        ? string.Create(CultureInfo.InvariantCulture, $"adelay=delays={(long)Math.Round(offset * 1000)}:all=1")
        : string.Create(CultureInfo.InvariantCulture, $"atrim=start={Seconds(-offset)},asetpts=PTS-STARTPTS");

    private static string ShiftVideo(double offset) => offset >= 0
        ? string.Create(CultureInfo.InvariantCulture, $"setpts=PTS-STARTPTS+{Seconds(offset)}/TB")
        : string.Create(CultureInfo.InvariantCulture, $"trim=start={Seconds(-offset)},setpts=PTS-STARTPTS");

    private static string CutExpression(RecordingTimeline timeline) =>
        Between(timeline.Cuts);

    private static string Between(IEnumerable<(double Start, double End)> spans) =>
        string.Join('+', spans.Select(s => string.Create(CultureInfo.InvariantCulture, $"between(t,{Seconds(s.Start)},{Seconds(s.End)})")));

    private static string Seconds(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    private static string FirstLine(string message) => message.Split('\n', 2)[0];

    internal static string? FindBinary(string name, string? folder)
    {
        if (!string.IsNullOrEmpty(folder))
        {
            var path = Path.Combine(folder, name);
            return File.Exists(path) ? path : null;
        }

        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(directory, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Binary} not found {Where}: composed artifacts skipped, per-track files kept")]
    private static partial void LogFfmpegMissing(ILogger logger, string binary, string where);

    [LoggerMessage(Level = LogLevel.Error, Message = "Composing {Artifact} failed: {Reason}")]
    private static partial void LogComposeFailed(ILogger logger, string artifact, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ffprobe could not read {Path}: {Reason}")]
    private static partial void LogProbeFailed(ILogger logger, string path, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "ffmpeg for {Output}: {Arguments}")]
    private static partial void LogRunning(ILogger logger, string output, string arguments);
}

/// <summary>A track file placed on the recording's axis.</summary>
internal sealed record ComposedTrack(string Path, string ParticipantId, bool IsVideo, string Source, double Offset, double Duration);

/// <summary>Where a video track goes in the picture (grid cell) and, for speaker_view, when it is shown.</summary>
internal sealed record VideoPlacement(ComposedTrack Track, int Column, int Row, int Columns, int Rows, IReadOnlyList<(double Start, double End)>? Shown);
