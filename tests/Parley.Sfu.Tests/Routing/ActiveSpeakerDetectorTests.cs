using Parley.Sfu.Routing;

namespace Parley.Sfu.Tests.Routing;

public class ActiveSpeakerDetectorTests
{
    /// <summary>One audio packet every 20 ms from <paramref name="from"/> (inclusive) to <paramref name="to"/> (exclusive).</summary>
    private static void Speak(ActiveSpeakerDetector detector, string participant, byte level, long from, long to, bool voice = true)
    {
        for (var t = from; t < to; t += 20)
        {
            detector.Observe(participant, level, voice, t);
        }
    }

    [Fact]
    public void Nobody_speaking_means_no_active_speaker()
    {
        var detector = new ActiveSpeakerDetector();
        Assert.False(detector.Evaluate(0, out var speaker));
        Assert.Null(speaker);
        Assert.Empty(detector.Levels(0));
    }

    [Fact]
    public void Silence_and_packets_without_voice_activity_do_not_count()
    {
        var detector = new ActiveSpeakerDetector();
        Speak(detector, "alice", 70, 0, 1000);               // at the silence threshold
        Speak(detector, "bob", 127, 0, 1000);                 // digital silence
        Speak(detector, "carol", 10, 0, 1000, voice: false);  // loud, but the sender's VAD says noise
        Speak(detector, "dave", 200, 0, 1000);                // V bit left in the level: silence
        Assert.False(detector.Evaluate(1000, out var speaker));
        Assert.Null(speaker);
        Assert.Empty(detector.Levels(1000));
    }

    [Fact]
    public void The_first_speaker_becomes_active_and_stays()
    {
        var detector = new ActiveSpeakerDetector();
        Speak(detector, "alice", 30, 0, 500);
        Assert.True(detector.Evaluate(500, out var speaker));
        Assert.Equal("alice", speaker);
        Speak(detector, "alice", 30, 500, 1000);
        Assert.False(detector.Evaluate(1000, out speaker));
        Assert.Equal("alice", speaker);
        Assert.Equal("alice", detector.ActiveSpeaker);
    }

    [Fact]
    public void A_louder_speaker_takes_over_only_after_the_minimum_hold()
    {
        var detector = new ActiveSpeakerDetector(minHold: TimeSpan.FromSeconds(2));
        Speak(detector, "alice", 50, 0, 200);
        Assert.True(detector.Evaluate(200, out _));           // alice active since 200 ms

        Speak(detector, "alice", 50, 200, 2000);
        Speak(detector, "bob", 20, 200, 2000);                // louder from 200 ms on
        Assert.False(detector.Evaluate(1000, out var speaker));
        Assert.Equal("alice", speaker);
        Assert.False(detector.Evaluate(2199, out speaker));   // held for 1,999 ms
        Assert.Equal("alice", speaker);

        Speak(detector, "alice", 50, 2000, 2200);
        Speak(detector, "bob", 20, 2000, 2200);
        Assert.True(detector.Evaluate(2200, out speaker));    // held 2 s: bob is louder on average
        Assert.Equal("bob", speaker);
    }

    [Fact]
    public void The_active_speaker_is_kept_while_nobody_is_louder()
    {
        var detector = new ActiveSpeakerDetector(minHold: TimeSpan.Zero);
        Speak(detector, "alice", 30, 0, 1000);
        Assert.True(detector.Evaluate(1000, out _));
        Speak(detector, "alice", 30, 1000, 2000);
        Speak(detector, "bob", 30, 1000, 2000);               // as loud: no reason to switch
        Speak(detector, "carol", 45, 1000, 2000);             // quieter
        Assert.False(detector.Evaluate(2000, out var speaker));
        Assert.Equal("alice", speaker);
    }

    [Fact]
    public void Loudness_is_averaged_over_the_window_so_a_cough_does_not_win()
    {
        var detector = new ActiveSpeakerDetector(minHold: TimeSpan.Zero);
        Speak(detector, "alice", 40, 0, 1000);
        Assert.True(detector.Evaluate(1000, out _));
        Speak(detector, "alice", 40, 1000, 2000);
        Speak(detector, "bob", 127, 1000, 1960);               // silent ...
        detector.Observe("bob", 0, true, 1960);                 // ... one very loud packet
        Speak(detector, "bob", 127, 1980, 2000);
        Assert.False(detector.Evaluate(2000, out var speaker));
        Assert.Equal("alice", speaker);
    }

    [Fact]
    public void When_the_room_falls_silent_for_a_window_there_is_no_active_speaker()
    {
        var detector = new ActiveSpeakerDetector();
        Speak(detector, "alice", 30, 0, 1000);
        Assert.True(detector.Evaluate(1000, out _));
        Speak(detector, "alice", 127, 1000, 2100);
        Assert.True(detector.Evaluate(2100, out var speaker));
        Assert.Null(speaker);
        Assert.False(detector.Evaluate(2200, out _));
    }

    [Fact]
    public void Old_observations_leave_the_window()
    {
        var detector = new ActiveSpeakerDetector(window: TimeSpan.FromSeconds(1));
        Speak(detector, "alice", 30, 0, 100);
        Assert.Single(detector.Levels(999));
        Assert.Empty(detector.Levels(1100));                  // the window is ten 100 ms buckets
    }

    [Fact]
    public void A_removed_active_speaker_is_replaced_at_once()
    {
        var detector = new ActiveSpeakerDetector(minHold: TimeSpan.FromSeconds(10));
        Speak(detector, "alice", 20, 0, 1000);
        Speak(detector, "bob", 40, 0, 1000);
        Assert.True(detector.Evaluate(1000, out var speaker));
        Assert.Equal("alice", speaker);
        detector.Remove("alice");
        Assert.True(detector.Evaluate(1001, out speaker));
        Assert.Equal("bob", speaker);
        detector.Remove("bob");
        Assert.True(detector.Evaluate(1002, out speaker));
        Assert.Null(speaker);
    }

    [Fact]
    public void Levels_are_normalised_and_sorted_loudest_first()
    {
        var detector = new ActiveSpeakerDetector();
        Speak(detector, "quiet", 63, 0, 1000);                 // 7 above the threshold
        Speak(detector, "loud", 0, 0, 1000);                   // 0 dBov, every packet
        Speak(detector, "half", 0, 0, 1000);
        Speak(detector, "half", 127, 0, 1000);                 // half its packets silent
        Speak(detector, "mute", 127, 0, 1000);

        var levels = detector.Levels(999);
        Assert.Equal(["loud", "half", "quiet"], levels.Select(l => l.ParticipantId));
        Assert.Equal(1.0, levels[0].Level, 6);
        Assert.Equal(0.5, levels[1].Level, 6);
        Assert.Equal(0.1, levels[2].Level, 6);
    }

    [Fact]
    public void The_silence_threshold_is_configurable()
    {
        var detector = new ActiveSpeakerDetector(silenceLevel: 40);
        Speak(detector, "alice", 50, 0, 1000);
        Speak(detector, "bob", 30, 0, 1000);
        Assert.True(detector.Evaluate(1000, out var speaker));
        Assert.Equal("bob", speaker);
        Assert.Equal(0.25, Assert.Single(detector.Levels(1000)).Level, 6);
    }

    [Fact]
    public void Observing_a_known_participant_does_not_allocate()
    {
        var detector = new ActiveSpeakerDetector();
        detector.Observe("alice", 30, true, 0);
        detector.Observe("bob", 30, true, 0);
        detector.Evaluate(0, out _);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var t = 0; t < 10_000; t += 5)
        {
            detector.Observe("alice", (byte)(t % 100), true, t);
            detector.Observe("bob", 40, t % 2 == 0, t);
            if (t % 200 == 0)
            {
                detector.Evaluate(t, out _);
            }
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }
}
