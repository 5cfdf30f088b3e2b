using Parley.Bots.Recording;

namespace Parley.Bots.Tests.Recording;

public sealed class RecordingTimelineTests
{
    [Fact]
    public void Paused_spans_are_cut_from_the_output_axis()
    {
        var timeline = new RecordingTimeline(10, [(2, 3), (6, 8)]);
        Assert.Equal(7, timeline.OutputDurationSeconds, 6);
        Assert.Equal(1, timeline.ToOutput(1), 6);
        Assert.Equal(2, timeline.ToOutput(2.5), 6); // inside a pause: where it was cut
        Assert.Equal(4, timeline.ToOutput(5), 6);
        Assert.Equal(7, timeline.ToOutput(10), 6);
        Assert.Null(timeline.MapSpan(2.2, 2.8));
        Assert.Equal((1.5, 2.5), timeline.MapSpan(1.5, 3.5));
    }

    [Fact]
    public void Overlapping_and_open_pauses_are_merged_and_clipped()
    {
        var timeline = new RecordingTimeline(10, [(5, 7), (1, 2), (6, 20)]);
        Assert.Equal([(1.0, 2.0), (5.0, 10.0)], timeline.Cuts);
        Assert.Equal(4, timeline.OutputDurationSeconds, 6);

        var manifest = new RecordingManifest { StartedAt = DateTimeOffset.UnixEpoch, EndedAt = DateTimeOffset.UnixEpoch.AddSeconds(30) };
        manifest.Paused.Add(new ManifestPausedSpan { StartOffsetSeconds = 25 });
        var fromManifest = RecordingTimeline.FromManifest(manifest, 0);
        Assert.Equal(30, fromManifest.DurationSeconds, 6);
        Assert.Equal(25, fromManifest.OutputDurationSeconds, 6);
    }
}
