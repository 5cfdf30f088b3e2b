using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.Bots.Adapters;

namespace Parley.Bots.Recording;

/// <summary>
/// One recording in one folder: the per-track recorders, the participants, chat, pauses and voice activity,
/// and recording.json (<see cref="RecordingManifest"/>) rewritten atomically whenever any of it changes, so that
/// a crash at any moment leaves playable track files plus the metadata to compose them.
/// <para>
/// Time: <see cref="StartedAt"/> (wall clock when the session was created) is offset 0 of everything. Track
/// starts are placed on that axis from RTCP sender reports (see <see cref="TrackRecorder"/>); pauses and speech
/// are recorded on it. Thread-safe.
/// </para>
/// </summary>
public sealed partial class RecordingSession : IDisposable
{
    /// <summary>Speech segments close every few seconds; the manifest takes them at most this often (and at every other change).</summary>
    private static readonly TimeSpan SpeechSaveInterval = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly long _origin;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly RecordingManifest _manifest;
    private readonly List<TrackRecorder> _tracks = [];
    private long _lastSave;
    private bool _stopped;

    /// <param name="directory">Folder for the track files and recording.json; created if missing.</param>
    public RecordingSession(string directory, TimeProvider? time = null, ILoggerFactory? loggers = null, VoiceActivityOptions? voiceActivity = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        _time = time ?? TimeProvider.System;
        _loggers = loggers ?? NullLoggerFactory.Instance;
        _logger = _loggers.CreateLogger<RecordingSession>();
        System.IO.Directory.CreateDirectory(directory);
        Directory = Path.GetFullPath(directory);
        ManifestPath = Path.Combine(Directory, RecordingManifest.FileName);
        _origin = _time.GetTimestamp();
        _manifest = new RecordingManifest { StartedAt = _time.GetUtcNow() };
        VoiceActivity = new VoiceActivityTimeline(voiceActivity);
        VoiceActivity.SegmentClosed += OnSpeechSegmentClosed;
        lock (_gate)
        {
            SaveLocked();
        }
    }

    public string Directory { get; }

    public string ManifestPath { get; }

    public DateTimeOffset StartedAt => _manifest.StartedAt;

    /// <summary>Voice activity of every participant, fed by the audio tracks' RFC 6464 levels.</summary>
    public VoiceActivityTimeline VoiceActivity { get; }

    public bool IsPaused
    {
        get
        {
            lock (_gate)
            {
                return _manifest.Paused.Count > 0 && _manifest.Paused[^1].EndOffsetSeconds is null;
            }
        }
    }

    public IReadOnlyList<TrackRecorder> Tracks
    {
        get
        {
            lock (_gate)
            {
                return [.. _tracks];
            }
        }
    }

    /// <summary>Seconds since <see cref="StartedAt"/> on the session's monotonic clock.</summary>
    public double ElapsedSeconds => _time.GetElapsedTime(_origin).TotalSeconds;

    /// <summary>Adds or updates a participant (name changes are kept).</summary>
    public void AddParticipant(MeetingParticipant participant, bool isBot = false)
    {
        ArgumentNullException.ThrowIfNull(participant);
        lock (_gate)
        {
            var existing = _manifest.Participants.Find(p => p.Id == participant.Id);
            if (existing is null)
            {
                _manifest.Participants.Add(new ManifestParticipant
                {
                    Id = participant.Id,
                    Name = participant.Name,
                    DisplayName = participant.DisplayName,
                    ProfilePicture = participant.ProfilePicture,
                    IsBot = isBot,
                });
            }
            else
            {
                existing.Name = participant.Name;
                existing.DisplayName = participant.DisplayName ?? existing.DisplayName;
                existing.ProfilePicture = participant.ProfilePicture ?? existing.ProfilePicture;
            }

            SaveLocked();
        }
    }

    /// <summary>
    /// Starts recording a remote track: registers it in the manifest and returns its recorder, to which the
    /// adapter feeds the track's RTP and sender reports. A participant not added yet is added under its id.
    /// </summary>
    public TrackRecorder AddTrack(TrackRecorderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        TrackRecorder recorder;
        bool paused;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopped, this);
            if (!_manifest.Participants.Exists(p => p.Id == options.ParticipantId))
            {
                _manifest.Participants.Add(new ManifestParticipant { Id = options.ParticipantId, Name = options.ParticipantId });
            }

            var index = _manifest.Tracks.Count + 1;
            var source = options.EffectiveSource;
            var extension = options.Codec == RecordingCodec.H264 ? ".mkv" : ".webm";
            var fileName = $"{index:D2}-{SafeName(options.ParticipantId)}-{SafeName(source)}{extension}";
            var track = new ManifestTrack
            {
                Id = $"t{index}",
                ParticipantId = options.ParticipantId,
                Kind = options.Kind == TrackKind.Audio ? "audio" : "video",
                Source = source,
                Codec = options.Codec switch { RecordingCodec.Vp8 => "vp8", RecordingCodec.H264 => "h264", _ => "opus" },
            };
            _manifest.Tracks.Add(track);
            recorder = new TrackRecorder(this, options, track, fileName, _loggers.CreateLogger<TrackRecorder>());
            _tracks.Add(recorder);
            paused = _manifest.Paused.Count > 0 && _manifest.Paused[^1].EndOffsetSeconds is null;
            SaveLocked();
        }

        if (paused)
        {
            recorder.SetPaused(true);
        }

        return recorder;
    }

    /// <summary>Keeps a chat message for the chat_messages artifact.</summary>
    public void AddChatMessage(string? participantId, string senderName, string text, string? messageId = null, DateTimeOffset? sentAt = null)
    {
        lock (_gate)
        {
            _manifest.ChatMessages.Add(new ManifestChatMessage
            {
                MessageId = messageId,
                ParticipantId = participantId,
                SenderName = senderName,
                Text = text,
                SentAt = sentAt ?? UtcNow(),
            });
            SaveLocked();
        }
    }

    /// <summary>Stops writing media until <see cref="Resume"/>; the span is cut from the composed artifacts.</summary>
    public void Pause()
    {
        TrackRecorder[] tracks;
        lock (_gate)
        {
            if (_stopped || IsPausedLocked())
            {
                return;
            }

            _manifest.Paused.Add(new ManifestPausedSpan { StartOffsetSeconds = ElapsedSeconds });
            SaveLocked();
            tracks = [.. _tracks];
        }

        foreach (var track in tracks)
        {
            track.SetPaused(true);
        }

        VoiceActivity.CloseAll();
        LogPaused(_logger);
    }

    public void Resume()
    {
        TrackRecorder[] tracks;
        lock (_gate)
        {
            if (_stopped || !IsPausedLocked())
            {
                return;
            }

            _manifest.Paused[^1].EndOffsetSeconds = ElapsedSeconds;
            SaveLocked();
            tracks = [.. _tracks];
        }

        foreach (var track in tracks)
        {
            track.SetPaused(false);
        }

        LogResumed(_logger);
    }

    /// <summary>Finishes every track file, closes open speech segments and a pause, and writes the final manifest.</summary>
    public void Stop() => Stop(null);

    /// <summary>
    /// <see cref="Stop()"/>, with the recording ending at <paramref name="endOffsetSeconds"/> (seconds from the start)
    /// when that is earlier than now: the caller knows nothing happened after it (everyone had left).
    /// </summary>
    public void Stop(double? endOffsetSeconds)
    {
        TrackRecorder[] tracks;
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            tracks = [.. _tracks];
        }

        foreach (var track in tracks)
        {
            track.Stop();
        }

        VoiceActivity.CloseAll();
        lock (_gate)
        {
            var now = ElapsedSeconds;
            if (endOffsetSeconds is { } end && end >= 0 && end < now)
            {
                now = end;
            }

            if (IsPausedLocked())
            {
                _manifest.Paused[^1].EndOffsetSeconds = Math.Max(now, _manifest.Paused[^1].StartOffsetSeconds);
            }

            _manifest.EndedAt = _manifest.StartedAt + TimeSpan.FromSeconds(now);
            _manifest.Speech = [.. VoiceActivity.GetSegments().Select(ToManifest)];
            SaveLocked();
        }

        LogStopped(_logger, tracks.Length, ManifestPath);
    }

    public void Dispose() => Stop();

    /// <summary>A deep copy of the manifest as it stands.</summary>
    public RecordingManifest GetManifest()
    {
        lock (_gate)
        {
            var json = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(_manifest, RecordingJsonContext.Default.RecordingManifest);
            return System.Text.Json.JsonSerializer.Deserialize(json, RecordingJsonContext.Default.RecordingManifest)!;
        }
    }

    internal long NowMilliseconds() => (long)_time.GetElapsedTime(_origin).TotalMilliseconds;

    internal DateTimeOffset UtcNow() => _manifest.StartedAt + _time.GetElapsedTime(_origin);

    internal string? ParticipantName(string participantId)
    {
        lock (_gate)
        {
            return _manifest.Participants.Find(p => p.Id == participantId)?.Name;
        }
    }

    /// <summary>Sets a track's first-sample time (and file when given); returns its offset from the recording start.</summary>
    internal double SetTrackStart(ManifestTrack track, DateTimeOffset firstSample, string clock, string? file)
    {
        lock (_gate)
        {
            track.FirstSampleAt = firstSample;
            track.Clock = clock;
            track.StartOffsetSeconds = _manifest.OffsetOf(firstSample);
            if (file is not null)
            {
                track.File = file;
            }

            SaveLocked();
            return track.StartOffsetSeconds.Value;
        }
    }

    internal void UpdateTrack(ManifestTrack track, Action<ManifestTrack> change)
    {
        lock (_gate)
        {
            change(track);
            SaveLocked();
        }
    }

    internal void FinishTrack(ManifestTrack track, double? durationSeconds, long frames)
    {
        lock (_gate)
        {
            track.DurationSeconds = durationSeconds;
            track.Frames = frames;
            track.Finished = true;
            SaveLocked();
        }
    }

    private void OnSpeechSegmentClosed(SpeechSegment segment)
    {
        lock (_gate)
        {
            _manifest.Speech.Add(ToManifest(segment));
            if (_time.GetElapsedTime(_lastSave) >= SpeechSaveInterval)
            {
                SaveLocked();
            }
        }
    }

    private bool IsPausedLocked() => _manifest.Paused.Count > 0 && _manifest.Paused[^1].EndOffsetSeconds is null;

    private void SaveLocked()
    {
        try
        {
            _manifest.Save(ManifestPath);
            _lastSave = _time.GetTimestamp();
        }
        catch (IOException ex)
        {
            // A full disk must not stop the media path; the next change tries again.
            LogSaveFailed(_logger, ManifestPath, ex.Message);
        }
        catch (UnauthorizedAccessException ex)
        {
            LogSaveFailed(_logger, ManifestPath, ex.Message);
        }
    }

    private static ManifestSpeechSegment ToManifest(SpeechSegment segment) => new()
    {
        ParticipantId = segment.ParticipantId,
        StartOffsetSeconds = Math.Round(segment.Start, 3),
        EndOffsetSeconds = Math.Round(segment.End, 3),
    };

    /// <summary>Participant ids come from the meeting: only [A-Za-z0-9_-] go into a file name.</summary>
    private static string SafeName(string value)
    {
        var builder = new StringBuilder(Math.Min(value.Length, 40));
        foreach (var c in value)
        {
            if (builder.Length == 40)
            {
                break;
            }

            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_');
        }

        return builder.Length == 0 ? "track" : builder.ToString();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Recording paused")]
    private static partial void LogPaused(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Recording resumed")]
    private static partial void LogResumed(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Recording stopped: {Tracks} tracks, manifest {ManifestPath}")]
    private static partial void LogStopped(ILogger logger, int tracks, string manifestPath);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not write {ManifestPath}: {Reason}")]
    private static partial void LogSaveFailed(ILogger logger, string manifestPath, string reason);
}
