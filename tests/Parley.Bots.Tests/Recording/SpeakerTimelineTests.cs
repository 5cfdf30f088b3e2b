using Parley.Bots.Recording;

namespace Parley.Bots.Tests.Recording;

public sealed class SpeakerTimelineTests
{
    private static readonly TimeSpan Hold = TimeSpan.FromSeconds(2);

    [Fact]
    public void The_speaker_changes_when_the_shown_one_is_quiet_and_held_long_enough()
    {
        var spans = SpeakerTimeline.Build([new("a", 0, 3), new("b", 2, 5), new("a", 5.5, 6)], Hold, 7);
        Assert.Equal([("a", 0.0, 3.0), ("b", 3.0, 5.5), ("a", 5.5, 7.0)], Round(spans));
    }

    [Fact]
    public void A_short_interjection_within_the_hold_time_does_not_switch()
    {
        var spans = SpeakerTimeline.Build([new("a", 0, 1), new("b", 1.2, 1.5), new("a", 2.5, 3)], Hold, 4);
        Assert.Equal([("a", 0.0, 4.0)], Round(spans));

        spans = SpeakerTimeline.Build([new("a", 0, 1), new("b", 2.1, 3)], Hold, 4);
        Assert.Equal([("a", 0.0, 2.1), ("b", 2.1, 4.0)], Round(spans));
    }

    [Fact]
    public void Nobody_speaking_gives_no_spans_and_the_first_speaker_starts_when_they_speak()
    {
        Assert.Empty(SpeakerTimeline.Build([], Hold, 10));
        Assert.Equal([("b", 4.0, 10.0)], Round(SpeakerTimeline.Build([new("b", 4, 5)], Hold, 10)));
    }

    [Fact]
    public void Speaker_view_prefers_a_screen_share_then_the_speakers_camera()
    {
        var a = new ComposedTrack("a.webm", "a", true, "camera", 0, 10);
        var b = new ComposedTrack("b.webm", "b", true, "camera", 0, 10);
        var screen = new ComposedTrack("s.webm", "b", true, "screen", 6, 2);
        var placements = RecordingComposer.PlanSpeakerView([a, b, screen], [new("a", 0, 4), new("b", 4, 10)], 10);
        var shown = placements.ToDictionary(p => p.Track.Path, p => p.Shown!.Select(s => (Math.Round(s.Start, 3), Math.Round(s.End, 3))).ToArray());
        Assert.Equal([(0.0, 4.0)], shown["a.webm"]);
        Assert.Equal([(4.0, 6.0), (8.0, 10.0)], shown["b.webm"]);
        Assert.Equal([(6.0, 8.0)], shown["s.webm"]);
    }

    [Fact]
    public void Speaker_view_keeps_a_camera_on_screen_when_the_speaker_has_none()
    {
        var a = new ComposedTrack("a.webm", "a", true, "camera", 1, 5);
        var placements = RecordingComposer.PlanSpeakerView([a], [new("c", 0, 10)], 10);
        Assert.Equal([(1.0, 6.0)], Assert.Single(placements).Shown!.Select(s => (Math.Round(s.Start, 3), Math.Round(s.End, 3))));
    }

    [Fact]
    public void Gallery_places_each_participant_source_in_its_own_cell()
    {
        var tracks = new[]
        {
            new ComposedTrack("a1.webm", "a", true, "camera", 0, 2),
            new ComposedTrack("b.webm", "b", true, "camera", 0, 5),
            new ComposedTrack("a2.webm", "a", true, "camera", 3, 2), // a re-published camera: same cell
            new ComposedTrack("c.webm", "c", true, "camera", 0, 5),
        };
        var cells = RecordingComposer.PlanGallery(tracks).Select(p => (p.Track.Path, p.Column, p.Row, p.Columns, p.Rows));
        Assert.Equal([("a1.webm", 0, 0, 2, 2), ("b.webm", 1, 0, 2, 2), ("a2.webm", 0, 0, 2, 2), ("c.webm", 0, 1, 2, 2)], cells);
    }

    private static (string, double, double)[] Round(IEnumerable<SpeakerSpan> spans) =>
        [.. spans.Select(s => (s.ParticipantId, Math.Round(s.Start, 3), Math.Round(s.End, 3)))];
}
