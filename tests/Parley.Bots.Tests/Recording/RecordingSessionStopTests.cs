using Parley.Bots.Recording;
using Parley.Testing;

namespace Parley.Bots.Tests.Recording;

/// <summary>
/// A recording that ends when the last participant left (found by the Chromium end-to-end test: the bot waited
/// out everyone_left_timeout alone, and those seconds of black and silence made a 20 s meeting a 22 s MP4).
/// </summary>
public sealed class RecordingSessionStopTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly ManualClock _clock = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Stop_at_an_earlier_offset_ends_the_recording_and_an_open_pause_there()
    {
        using var session = new RecordingSession(_directory.Path, _clock);
        _clock.Advance(TimeSpan.FromSeconds(20));
        session.Pause();
        _clock.Advance(TimeSpan.FromSeconds(5));
        session.Stop(22.5);

        var manifest = RecordingManifest.Load(session.ManifestPath)!;
        Assert.Equal(22.5, manifest.OffsetOf(manifest.EndedAt!.Value), 3);
        Assert.Equal(22.5, manifest.Paused[^1].EndOffsetSeconds!.Value, 3);
        var timeline = RecordingTimeline.FromManifest(manifest, 0);
        Assert.Equal(20, timeline.OutputDurationSeconds, 3);
    }

    [Fact]
    public void Stop_never_ends_later_than_now_nor_before_a_pause_that_started_after_the_cut()
    {
        using (var session = new RecordingSession(Path.Combine(_directory.Path, "a"), _clock))
        {
            _clock.Advance(TimeSpan.FromSeconds(10));
            session.Stop(30);
            var manifest = RecordingManifest.Load(session.ManifestPath)!;
            Assert.Equal(10, manifest.OffsetOf(manifest.EndedAt!.Value), 3);
        }

        using (var session = new RecordingSession(Path.Combine(_directory.Path, "b"), _clock))
        {
            _clock.Advance(TimeSpan.FromSeconds(10));
            session.Pause();
            _clock.Advance(TimeSpan.FromSeconds(2));
            session.Stop(8);
            var manifest = RecordingManifest.Load(session.ManifestPath)!;
            Assert.Equal(8, manifest.OffsetOf(manifest.EndedAt!.Value), 3);
            Assert.Equal(8, RecordingTimeline.FromManifest(manifest, 0).OutputDurationSeconds, 3);
        }
    }
}
