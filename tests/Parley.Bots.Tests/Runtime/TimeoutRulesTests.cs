using Parley.Bots.Runtime;
using Parley.Core.Bots;

namespace Parley.Bots.Tests.Runtime;

public sealed class TimeoutRulesTests
{
    private static readonly TimeoutConfig Config = new(WaitingRoomSeconds: 100, NoOneJoinedSeconds: 200, EveryoneLeftSeconds: 30, SilenceSeconds: 300);

    private readonly ManualClock _clock = new();

    [Fact]
    public void Waiting_room_expires_after_its_timeout_unless_admitted()
    {
        var rules = new TimeoutRules(Config, _clock, silenceEnabled: false);
        Assert.Null(rules.NextDeadline());
        rules.OnStatus(BotStatus.InWaitingRoom);
        _clock.Advance(TimeSpan.FromSeconds(99));
        Assert.Null(rules.Expired());
        rules.OnStatus(BotStatus.InWaitingForHost); // another waiting state does not restart the clock
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TimeoutKind.WaitingRoom, rules.Expired());
    }

    [Fact]
    public void Being_admitted_stops_the_waiting_room_clock()
    {
        var rules = new TimeoutRules(Config, _clock, silenceEnabled: false);
        rules.OnStatus(BotStatus.InWaitingRoom);
        _clock.Advance(TimeSpan.FromSeconds(50));
        rules.OnStatus(BotStatus.InCallRecording);
        rules.OnParticipantCount(1);
        _clock.Advance(TimeSpan.FromSeconds(1000));
        Assert.Null(rules.Expired());
    }

    [Fact]
    public void No_one_joined_expires_when_the_bot_stays_alone_from_the_start()
    {
        var rules = new TimeoutRules(Config, _clock, silenceEnabled: false);
        rules.OnStatus(BotStatus.InCallNotRecording);
        Assert.Equal(_clock.GetUtcNow().AddSeconds(200), rules.NextDeadline());
        _clock.Advance(TimeSpan.FromSeconds(199));
        Assert.Null(rules.Expired());
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TimeoutKind.NoOneJoined, rules.Expired());
    }

    [Fact]
    public void Everyone_left_counts_from_the_last_departure_and_resets_when_someone_returns()
    {
        var rules = new TimeoutRules(Config, _clock, silenceEnabled: false);
        rules.OnStatus(BotStatus.InCallRecording);
        rules.OnParticipantCount(2);
        _clock.Advance(TimeSpan.FromSeconds(500));
        Assert.Null(rules.Expired());
        rules.OnParticipantCount(0);
        _clock.Advance(TimeSpan.FromSeconds(20));
        rules.OnParticipantCount(1);
        _clock.Advance(TimeSpan.FromSeconds(20));
        Assert.Null(rules.Expired());
        rules.OnParticipantCount(0);
        _clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Null(rules.Expired());
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TimeoutKind.EveryoneLeft, rules.Expired());
    }

    [Fact]
    public void Silence_expires_without_speech_and_sound_resets_it()
    {
        var rules = new TimeoutRules(Config, _clock, silenceEnabled: true);
        rules.OnStatus(BotStatus.InCallRecording);
        rules.OnParticipantCount(3);
        _clock.Advance(TimeSpan.FromSeconds(250));
        rules.OnAudioLevel(0.5);
        _clock.Advance(TimeSpan.FromSeconds(250));
        rules.OnAudioLevel(TimeoutRules.SpeechLevel / 2); // noise floor is not speech
        _clock.Advance(TimeSpan.FromSeconds(49));
        Assert.Null(rules.Expired());
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TimeoutKind.Silence, rules.Expired());
    }

    [Fact]
    public void Silence_is_not_enforced_for_an_adapter_that_cannot_hear()
    {
        var rules = new TimeoutRules(Config, _clock, silenceEnabled: false);
        rules.OnStatus(BotStatus.InCallRecording);
        rules.OnParticipantCount(3);
        _clock.Advance(TimeSpan.FromDays(1));
        Assert.Null(rules.Expired());
        Assert.Null(rules.NextDeadline());
    }

    [Fact]
    public void Endings_of_timeouts_use_the_error_codes_of_the_API()
    {
        Assert.Equal(BotErrorCode.TimeoutWaitingToStart, BotEnding.Timeout(TimeoutKind.WaitingRoom, Config).ErrorCode);
        Assert.Equal(BotStatus.WaitingRoomTimeout, BotEnding.Timeout(TimeoutKind.WaitingRoom, Config).ReasonStatus);
        Assert.Equal(BotErrorCode.NoAttendees, BotEnding.Timeout(TimeoutKind.NoOneJoined, Config).ErrorCode);
        Assert.Equal(BotErrorCode.NoAttendees, BotEnding.Timeout(TimeoutKind.EveryoneLeft, Config).ErrorCode);
        Assert.Equal(BotErrorCode.NoSpeaker, BotEnding.Timeout(TimeoutKind.Silence, Config).ErrorCode);
        // Every ending's path is legal from an in-call status.
        foreach (var kind in Enum.GetValues<TimeoutKind>())
        {
            var ending = BotEnding.Timeout(kind, Config);
            var from = ending.ReasonStatus ?? BotStatus.CallEnded;
            Assert.True(ending.ReasonStatus is null || BotStatus.CanTransition(BotStatus.InCallRecording, ending.ReasonStatus));
            Assert.True(BotStatus.CanTransition(from, ending.Terminal));
        }
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
