using System.Text.Json;
using System.Text.Json.Serialization;

namespace Parley.Bots.Recording;

/// <summary>
/// recording.json: everything needed to turn a folder of per-track files into the final artifacts, kept up to
/// date while recording (rewritten atomically at every change) so a crash leaves playable files and the
/// metadata to compose them. Times are UTC; offsets are seconds from <see cref="StartedAt"/>.
/// </summary>
public sealed class RecordingManifest
{
    public const string FileName = "recording.json";

    public int Version { get; set; } = 1;

    /// <summary>When recording started: offset 0 of every track and of the composed artifacts.</summary>
    public DateTimeOffset StartedAt { get; set; }

    /// <summary>When recording stopped; null while recording (or after a crash).</summary>
    public DateTimeOffset? EndedAt { get; set; }

    public List<ManifestParticipant> Participants { get; set; } = [];

    public List<ManifestTrack> Tracks { get; set; } = [];

    /// <summary>Spans when recording was paused; nothing was recorded during them and they are cut from the artifacts.</summary>
    public List<ManifestPausedSpan> Paused { get; set; } = [];

    public List<ManifestChatMessage> ChatMessages { get; set; } = [];

    /// <summary>Speech segments from voice activity, written as they close and at the end.</summary>
    public List<ManifestSpeechSegment> Speech { get; set; } = [];

    /// <summary>Reads a manifest; null when the file is missing or is not a manifest.</summary>
    public static RecordingManifest? Load(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return JsonSerializer.Deserialize(stream, RecordingJsonContext.Default.RecordingManifest);
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Writes the manifest to <paramref name="path"/> atomically: a temporary file beside it, flushed to disk,
    /// then renamed over the old one (rename(2) replaces atomically), so a reader or a crash sees the old or the
    /// new manifest, never half of one.
    /// </summary>
    public void Save(string path)
    {
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.None))
        {
            JsonSerializer.Serialize(stream, this, RecordingJsonContext.Default.RecordingManifest);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Offset in seconds from <see cref="StartedAt"/> of a wall-clock time.</summary>
    public double OffsetOf(DateTimeOffset time) => (time - StartedAt).TotalSeconds;
}

public sealed class ManifestParticipant
{
    /// <summary>The meeting's id for the participant (stable for the meeting).</summary>
    public required string Id { get; set; }

    public required string Name { get; set; }

    public string? DisplayName { get; set; }

    public string? ProfilePicture { get; set; }

    /// <summary>A bot (like this one): listed, but never a speaker.</summary>
    public bool IsBot { get; set; }
}

public sealed class ManifestTrack
{
    public required string Id { get; set; }

    public required string ParticipantId { get; set; }

    /// <summary>audio or video.</summary>
    public required string Kind { get; set; }

    /// <summary>microphone, camera or screen.</summary>
    public required string Source { get; set; }

    /// <summary>opus, vp8 or h264.</summary>
    public required string Codec { get; set; }

    /// <summary>File name inside the recording folder; null until the first frame was written.</summary>
    public string? File { get; set; }

    /// <summary>Wall-clock time of the first frame in the file (timestamp 0).</summary>
    public DateTimeOffset? FirstSampleAt { get; set; }

    /// <summary>Seconds from the recording start to the first frame.</summary>
    public double? StartOffsetSeconds { get; set; }

    /// <summary>How <see cref="FirstSampleAt"/> was found: rtcp_sender_report (RFC 3550 §6.4.1 mapping) or arrival.</summary>
    public string? Clock { get; set; }

    /// <summary>Length of the file's timeline in seconds; set when the track is finished.</summary>
    public double? DurationSeconds { get; set; }

    public long Frames { get; set; }

    /// <summary>Video picture sizes and when they took effect (seconds into the file): the first, then every change.</summary>
    public List<ManifestResolution> Resolutions { get; set; } = [];

    /// <summary>New SSRCs or renumberings the track survived.</summary>
    public int StreamRestarts { get; set; }

    public bool Finished { get; set; }
}

public sealed class ManifestResolution
{
    public double AtSeconds { get; set; }

    public int Width { get; set; }

    public int Height { get; set; }
}

public sealed class ManifestPausedSpan
{
    public double StartOffsetSeconds { get; set; }

    /// <summary>Null while still paused (or when recording stopped paused).</summary>
    public double? EndOffsetSeconds { get; set; }
}

public sealed class ManifestChatMessage
{
    public string? MessageId { get; set; }

    public string? ParticipantId { get; set; }

    public required string SenderName { get; set; }

    public required string Text { get; set; }

    public DateTimeOffset SentAt { get; set; }
}

public sealed class ManifestSpeechSegment
{
    public required string ParticipantId { get; set; }

    public double StartOffsetSeconds { get; set; }

    public double EndOffsetSeconds { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RecordingManifest))]
internal sealed partial class RecordingJsonContext : JsonSerializerContext;
