using Parley.Core.Bots;

namespace Parley.Bots.Runtime;

/// <summary>Which timeout_config rule made the bot leave.</summary>
public enum TimeoutKind
{
    WaitingRoom,
    NoOneJoined,
    EveryoneLeft,
    Silence,
}

/// <summary>
/// The timeout_config rules of API.md, driven by the adapter's signals and a clock. Kept free of I/O so that
/// the rules are tested with a fake <see cref="TimeProvider"/>:
/// - waiting_room_timeout: in a waiting state (in_waiting_room, in_waiting_for_host) that long without being admitted;
/// - no_one_joined_timeout: in the call that long and nobody else has ever been there;
/// - everyone_left_timeout: somebody was there, and the bot has been alone that long since the last one left;
/// - silence_timeout: in the call and no audio above <see cref="SpeechLevel"/> for that long (only for adapters
///   that measure audio: an adapter that cannot hear must not be taken for a silent meeting).
/// </summary>
public sealed class TimeoutRules
{
    /// <summary>Audio level (0..1) counted as somebody speaking; below it is silence. About -40 dBFS.</summary>
    public const double SpeechLevel = 0.01;

    private readonly TimeoutConfig _config;
    private readonly TimeProvider _time;
    private readonly bool _silenceEnabled;
    private DateTimeOffset? _waitingSince;
    private DateTimeOffset? _inCallSince;
    private DateTimeOffset? _aloneSince;
    private DateTimeOffset? _lastSound;
    private bool _someoneJoined;

    public TimeoutRules(TimeoutConfig config, TimeProvider time, bool silenceEnabled)
    {
        _config = config;
        _time = time;
        _silenceEnabled = silenceEnabled;
    }

    public void OnStatus(string status)
    {
        var now = _time.GetUtcNow();
        if (status is BotStatus.InWaitingRoom or BotStatus.InWaitingForHost)
        {
            _waitingSince ??= now;
        }
        else if (BotStatus.IsInCall(status))
        {
            _waitingSince = null;
            if (_inCallSince is null)
            {
                _inCallSince = now;
                _lastSound = now;
            }
        }
    }

    /// <summary>Participants other than the bot.</summary>
    public void OnParticipantCount(int count)
    {
        if (count > 0)
        {
            _someoneJoined = true;
            _aloneSince = null;
        }
        else if (_someoneJoined)
        {
            _aloneSince ??= _time.GetUtcNow();
        }
    }

    public void OnAudioLevel(double level)
    {
        if (level >= SpeechLevel)
        {
            _lastSound = _time.GetUtcNow();
        }
    }

    /// <summary>The first rule that has expired, if any.</summary>
    public TimeoutKind? Expired()
    {
        var now = _time.GetUtcNow();
        foreach (var (kind, deadline) in Deadlines())
        {
            if (now >= deadline)
            {
                return kind;
            }
        }

        return null;
    }

    /// <summary>When the next rule would expire if nothing changes; null when none is running.</summary>
    public DateTimeOffset? NextDeadline() => Deadlines().Select(d => (DateTimeOffset?)d.Deadline).Min();

    private IEnumerable<(TimeoutKind Kind, DateTimeOffset Deadline)> Deadlines()
    {
        if (_waitingSince is { } waiting)
        {
            yield return (TimeoutKind.WaitingRoom, waiting.AddSeconds(_config.WaitingRoomSeconds));
        }

        if (_inCallSince is { } inCall && !_someoneJoined)
        {
            yield return (TimeoutKind.NoOneJoined, inCall.AddSeconds(_config.NoOneJoinedSeconds));
        }

        if (_aloneSince is { } alone)
        {
            yield return (TimeoutKind.EveryoneLeft, alone.AddSeconds(_config.EveryoneLeftSeconds));
        }

        if (_silenceEnabled && _lastSound is { } sound)
        {
            yield return (TimeoutKind.Silence, sound.AddSeconds(_config.SilenceSeconds));
        }
    }
}
