using Parley.Bots.Recording;

namespace Parley.Bots.Tests.Recording;

public sealed class VoiceActivityTimelineTests
{
    [Fact]
    public void Pauses_shorter_than_the_hangover_stay_in_one_segment()
    {
        var vad = new VoiceActivityTimeline();
        Feed(vad, "a", 0.0, 1.0, level: 30);
        Feed(vad, "a", 1.0, 1.4, level: 90); // 0.4 s quiet < 0.6 s hangover
        Feed(vad, "a", 1.4, 2.0, level: 30);
        Feed(vad, "a", 2.0, 4.0, level: 90);
        var segment = Assert.Single(vad.GetSegments());
        Assert.Equal("a", segment.ParticipantId);
        Assert.Equal(0.0, segment.Start, 3);
        Assert.Equal(2.0, segment.End, 3);
    }

    [Fact]
    public void A_longer_silence_splits_segments_and_participants_are_separate()
    {
        var vad = new VoiceActivityTimeline();
        var closed = new List<SpeechSegment>();
        vad.SegmentClosed += closed.Add;
        Feed(vad, "a", 0.0, 1.0, level: 20);
        Feed(vad, "a", 1.0, 2.0, level: 127);
        Feed(vad, "b", 1.5, 2.5, level: 40);
        Feed(vad, "a", 2.0, 3.0, level: 20);
        Assert.True(vad.IsSpeaking("a"));
        Assert.False(vad.IsSpeaking("nobody"));
        vad.CloseAll();

        var segments = vad.GetSegments();
        Assert.Equal([("a", 0.0, 1.0), ("b", 1.5, 2.5), ("a", 2.0, 3.0)],
            segments.Select(s => (s.ParticipantId, Math.Round(s.Start, 3), Math.Round(s.End, 3))));
        Assert.Equal(3, closed.Count);
        Assert.False(vad.IsSpeaking("a"));
    }

    [Fact]
    public void The_voice_flag_and_the_minimum_length_filter_when_asked()
    {
        var vad = new VoiceActivityTimeline(new VoiceActivityOptions { RequireVoiceActivityFlag = true, MinimumSegment = TimeSpan.FromMilliseconds(100) });
        Feed(vad, "a", 0.0, 1.0, level: 20, voice: false); // loud but the sender's VAD says no
        Feed(vad, "a", 1.0, 1.04, level: 20, voice: true); // a 60 ms click
        Feed(vad, "a", 2.0, 3.0, level: 20, voice: true);
        vad.CloseAll();
        var segment = Assert.Single(vad.GetSegments());
        Assert.Equal(2.0, segment.Start, 3);
    }

    private static void Feed(VoiceActivityTimeline vad, string participant, double from, double to, byte level, bool voice = true)
    {
        for (var t = from; t < to - 1e-9; t += 0.02)
        {
            vad.OnAudioLevel(participant, t, level, voice);
        }
    }
}
