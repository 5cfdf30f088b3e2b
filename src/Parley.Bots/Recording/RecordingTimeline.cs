namespace Parley.Bots.Recording;

/// <summary>
/// The recording's time axis (seconds from <see cref="RecordingManifest.StartedAt"/>) with the paused spans cut
/// out: what a time in the recording becomes in the artifacts, which show no pause.
/// </summary>
public sealed class RecordingTimeline
{
    private readonly (double Start, double End)[] _cuts;

    public RecordingTimeline(double durationSeconds, IEnumerable<(double Start, double End)> pausedSpans)
    {
        ArgumentNullException.ThrowIfNull(pausedSpans);
        DurationSeconds = Math.Max(0, durationSeconds);
        // Clip to the recording, sort, and merge overlaps, so the arithmetic below can walk them once.
        var merged = new List<(double Start, double End)>();
        foreach (var (start, end) in pausedSpans.Select(s => (Math.Max(0, s.Start), Math.Min(DurationSeconds, s.End)))
                     .Where(s => s.Item2 > s.Item1).OrderBy(s => s.Item1))
        {
            if (merged.Count > 0 && start <= merged[^1].End)
            {
                merged[^1] = (merged[^1].Start, Math.Max(merged[^1].End, end));
            }
            else
            {
                merged.Add((start, end));
            }
        }

        _cuts = [.. merged];
        OutputDurationSeconds = DurationSeconds - _cuts.Sum(c => c.End - c.Start);
    }

    /// <summary>Length of the recording, pauses included.</summary>
    public double DurationSeconds { get; }

    /// <summary>Length of the artifacts: the recording less its pauses.</summary>
    public double OutputDurationSeconds { get; }

    public IReadOnlyList<(double Start, double End)> Cuts => _cuts;

    /// <summary>The timeline of a manifest: from its start to its end (or <paramref name="fallbackDurationSeconds"/>), open pauses running to the end.</summary>
    public static RecordingTimeline FromManifest(RecordingManifest manifest, double fallbackDurationSeconds)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var duration = manifest.EndedAt is { } ended ? manifest.OffsetOf(ended) : fallbackDurationSeconds;
        return new RecordingTimeline(duration, manifest.Paused.Select(p => (p.StartOffsetSeconds, p.EndOffsetSeconds ?? duration)));
    }

    /// <summary>Where <paramref name="seconds"/> lands in the artifacts; a time inside a pause lands where the pause was cut.</summary>
    public double ToOutput(double seconds)
    {
        var t = Math.Clamp(seconds, 0, DurationSeconds);
        var removed = 0.0;
        foreach (var (start, end) in _cuts)
        {
            if (t <= start)
            {
                break;
            }

            removed += Math.Min(t, end) - start;
        }

        return t - removed;
    }

    /// <summary>A span mapped into the artifacts; null when nothing of it is left (inside a pause or outside the recording).</summary>
    public (double Start, double End)? MapSpan(double start, double end)
    {
        var s = ToOutput(start);
        var e = ToOutput(end);
        return e - s > 0.0005 ? (s, e) : null;
    }
}
