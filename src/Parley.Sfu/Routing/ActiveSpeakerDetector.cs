namespace Parley.Sfu.Routing;

/// <summary>
/// Picks the active speaker of a room from the client-to-mixer audio levels publishers attach to their audio
/// packets (RFC 6464 §3: 0 = 0 dBov, the loudest, … 127 = −127 dBov, silence; plus the V bit, the sender's
/// voice activity flag).
/// <para>
/// Each observation scores <c>silenceLevel − level</c> when it is voice (V set and louder than the silence
/// level), else 0; a participant's loudness is the mean score over the window (ten buckets), so someone who
/// speaks continuously beats a single loud cough. Hysteresis: the active speaker keeps the floor at least
/// <c>minHold</c>, and after that is replaced only by someone strictly louder on average over the window (or
/// by nobody once the whole room has been silent for a window) — without it the speaker would flap between
/// two people talking over each other at every evaluation.
/// </para>
/// <para>
/// A sender that negotiated <c>vad=off</c> (RFC 6464 §4) does not use the V bit: pass true for it then.
/// <see cref="Observe"/> does not allocate once a participant is known (its first observation allocates its
/// buckets); <see cref="Evaluate"/> does not allocate; <see cref="Levels"/> returns a new list.
/// </para>
/// Not thread-safe: owned by the worker thread of the room.
/// </summary>
public sealed class ActiveSpeakerDetector
{
    private const int Buckets = 10;

    private readonly long _bucketMilliseconds;
    private readonly long _minHoldMilliseconds;
    private readonly int _silenceLevel;
    private readonly Dictionary<string, Participant> _participants = new(StringComparer.Ordinal);
    private string? _activeSpeaker;
    private long _activeSince;

    /// <param name="window">Averaging window, 1 s by default, kept as ten buckets (at least 10 ms).</param>
    /// <param name="minHold">Shortest time a speaker stays active, 1 s by default.</param>
    /// <param name="silenceLevel">Levels at or above this (−dBov) count as silence: 70 by default, i.e.
    /// −70 dBov, below which a desk microphone only picks up room noise.</param>
    public ActiveSpeakerDetector(TimeSpan? window = null, TimeSpan? minHold = null, byte silenceLevel = 70)
    {
        var windowMilliseconds = (long)(window ?? TimeSpan.FromSeconds(1)).TotalMilliseconds;
        ArgumentOutOfRangeException.ThrowIfLessThan(windowMilliseconds, Buckets, nameof(window));
        var hold = (long)(minHold ?? TimeSpan.FromSeconds(1)).TotalMilliseconds;
        ArgumentOutOfRangeException.ThrowIfNegative(hold, nameof(minHold));
        ArgumentOutOfRangeException.ThrowIfZero(silenceLevel);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(silenceLevel, (byte)127);
        _bucketMilliseconds = windowMilliseconds / Buckets;
        _minHoldMilliseconds = hold;
        _silenceLevel = silenceLevel;
    }

    /// <summary>The current active speaker (as of the last <see cref="Evaluate"/>), or null.</summary>
    public string? ActiveSpeaker => _activeSpeaker;

    /// <summary>
    /// Records one audio level of <paramref name="participantId"/>. A level above 127 (the V bit left in)
    /// counts as silence.
    /// </summary>
    public void Observe(string participantId, byte level, bool voiceActivity, long nowMilliseconds)
    {
        if (!_participants.TryGetValue(participantId, out var participant))
        {
            participant = new Participant();
            _participants.Add(participantId, participant);
        }

        var score = voiceActivity && level < _silenceLevel ? _silenceLevel - level : 0;
        participant.Add(Epoch(nowMilliseconds), score);
    }

    /// <summary>Forgets a participant; if it was the active speaker the next <see cref="Evaluate"/> replaces it at once.</summary>
    public void Remove(string participantId) => _participants.Remove(participantId);

    /// <summary>
    /// Re-evaluates the active speaker. Returns true when it changed; <paramref name="activeSpeaker"/> is the
    /// active speaker after the call (null when nobody spoke above the silence level during the window).
    /// </summary>
    public bool Evaluate(long nowMilliseconds, out string? activeSpeaker)
    {
        var epoch = Epoch(nowMilliseconds);
        string? loudest = null;
        double loudestScore = 0;
        double currentScore = 0;
        var currentPresent = false;
        foreach (var (id, participant) in _participants)
        {
            var score = participant.MeanScore(epoch);
            if (id == _activeSpeaker)
            {
                currentPresent = true;
                currentScore = score;
            }

            // Ties go to the smaller id so the choice does not depend on dictionary order.
            if (score > 0 && (score > loudestScore || (score == loudestScore && string.CompareOrdinal(id, loudest) < 0)))
            {
                loudest = id;
                loudestScore = score;
            }
        }

        string? next;
        if (_activeSpeaker is null || !currentPresent)
        {
            next = loudest;
        }
        else if (nowMilliseconds - _activeSince < _minHoldMilliseconds)
        {
            next = _activeSpeaker;
        }
        else if (loudest is null || loudestScore > currentScore)
        {
            next = loudest;
        }
        else
        {
            next = _activeSpeaker;
        }

        var changed = !string.Equals(next, _activeSpeaker, StringComparison.Ordinal);
        if (changed)
        {
            _activeSpeaker = next;
            _activeSince = nowMilliseconds;
        }

        activeSpeaker = _activeSpeaker;
        return changed;
    }

    /// <summary>
    /// Participants who spoke during the window with their mean loudness normalised to 0..1
    /// (1 = 0 dBov voice in every observation), loudest first, ties by id.
    /// </summary>
    public IReadOnlyList<(string ParticipantId, double Level)> Levels(long nowMilliseconds)
    {
        var epoch = Epoch(nowMilliseconds);
        var levels = new List<(string ParticipantId, double Level)>();
        foreach (var (id, participant) in _participants)
        {
            var score = participant.MeanScore(epoch);
            if (score > 0)
            {
                levels.Add((id, Math.Min(1.0, score / _silenceLevel)));
            }
        }

        levels.Sort(static (a, b) => b.Level != a.Level ? b.Level.CompareTo(a.Level) : string.CompareOrdinal(a.ParticipantId, b.ParticipantId));
        return levels;
    }

    /// <summary>Bucket number of a time (floor division, so times before 0 do not share bucket 0).</summary>
    private long Epoch(long nowMilliseconds)
    {
        var epoch = nowMilliseconds / _bucketMilliseconds;
        return nowMilliseconds % _bucketMilliseconds < 0 ? epoch - 1 : epoch;
    }

    /// <summary>Ten buckets of (score sum, observations), each tagged with the bucket's epoch.</summary>
    private sealed class Participant
    {
        private readonly long[] _epochs = new long[Buckets];
        private readonly long[] _sums = new long[Buckets];
        private readonly int[] _counts = new int[Buckets];

        public Participant()
        {
            Array.Fill(_epochs, long.MinValue);
        }

        public void Add(long epoch, int score)
        {
            var slot = Slot(epoch);
            if (_epochs[slot] != epoch)
            {
                if (_epochs[slot] > epoch)
                {
                    return; // a late observation whose bucket has already been reused
                }

                _epochs[slot] = epoch;
                _sums[slot] = 0;
                _counts[slot] = 0;
            }

            _sums[slot] += score;
            _counts[slot]++;
        }

        public double MeanScore(long nowEpoch)
        {
            long sum = 0;
            long count = 0;
            for (var i = 0; i < Buckets; i++)
            {
                var epoch = _epochs[i];
                if (epoch <= nowEpoch && epoch > nowEpoch - Buckets)
                {
                    sum += _sums[i];
                    count += _counts[i];
                }
            }

            return count == 0 ? 0 : (double)sum / count;
        }

        private static int Slot(long epoch) => (int)(((epoch % Buckets) + Buckets) % Buckets);
    }
}
