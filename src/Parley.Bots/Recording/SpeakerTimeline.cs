namespace Parley.Bots.Recording;

/// <summary>Who is shown as the active speaker from <see cref="Start"/> to <see cref="End"/> (seconds).</summary>
public readonly record struct SpeakerSpan(string ParticipantId, double Start, double End);

/// <summary>
/// The active speaker over time from speech segments, switching with a hold time: the shown speaker stays while
/// they speak, and someone else takes over only when the shown one is quiet and has been shown at least the hold
/// time. Among several people speaking, the one who started first wins. Used by speaker_view composition.
/// </summary>
public static class SpeakerTimeline
{
    /// <summary>Resolution of the decision: a tenth of a second is below what a viewer notices.</summary>
    public const double Step = 0.1;

    public static IReadOnlyList<SpeakerSpan> Build(IReadOnlyList<SpeechSegment> segments, TimeSpan hold, double endSeconds)
    {
        ArgumentNullException.ThrowIfNull(segments);
        var ordered = segments.Where(s => s.End > s.Start).OrderBy(s => s.Start).ToArray();
        var spans = new List<SpeakerSpan>();
        if (ordered.Length == 0 || endSeconds <= 0)
        {
            return spans;
        }

        var holdSeconds = hold.TotalSeconds;
        string? current = null;
        var shownSince = 0.0;
        var next = 0;
        var active = new List<SpeechSegment>();
        var steps = (long)Math.Ceiling(endSeconds / Step);
        for (long i = 0; i < steps; i++)
        {
            var t = i * Step;
            while (next < ordered.Length && ordered[next].Start <= t)
            {
                active.Add(ordered[next++]);
            }

            active.RemoveAll(s => s.End <= t);
            if (active.Count == 0 || (current is not null && active.Exists(s => s.ParticipantId == current)))
            {
                continue;
            }

            if (current is null || t - shownSince >= holdSeconds)
            {
                var earliest = active[0];
                foreach (var s in active)
                {
                    if (s.Start < earliest.Start)
                    {
                        earliest = s;
                    }
                }

                if (current is not null)
                {
                    spans.Add(new SpeakerSpan(current, shownSince, t));
                }

                current = earliest.ParticipantId;
                shownSince = t;
            }
        }

        if (current is not null)
        {
            spans.Add(new SpeakerSpan(current, shownSince, endSeconds));
        }

        return spans;
    }
}
