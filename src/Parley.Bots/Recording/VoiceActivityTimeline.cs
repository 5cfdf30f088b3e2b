namespace Parley.Bots.Recording;

/// <summary>A stretch of speech by one participant, in seconds from the recording start.</summary>
public readonly record struct SpeechSegment(string ParticipantId, double Start, double End)
{
    public double Duration => End - Start;
}

/// <summary>Thresholds of <see cref="VoiceActivityTimeline"/>.</summary>
public sealed record VoiceActivityOptions
{
    /// <summary>
    /// Loudest level still counted as silence, in -dBov as RFC 6464 carries it (0 loudest, 127 silence): a packet
    /// at 50 or less (louder than -50 dBov) is speech. Speech sits around -20 to -40 dBov, background noise below -60.
    /// </summary>
    public int SpeechLevelDbov { get; init; } = 50;

    /// <summary>Also require the sender's own V flag (RFC 6464 §3), when senders set it reliably.</summary>
    public bool RequireVoiceActivityFlag { get; init; }

    /// <summary>Quiet time that does not end a segment (pauses between words): the VAD's hangover.</summary>
    public TimeSpan Hangover { get; init; } = TimeSpan.FromMilliseconds(600);

    /// <summary>Audio one level sample stands for (one Opus packet): added after the last loud packet.</summary>
    public TimeSpan PacketDuration { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Segments shorter than this are dropped as clicks.</summary>
    public TimeSpan MinimumSegment { get; init; } = TimeSpan.Zero;
}

/// <summary>
/// Per-participant voice activity from the audio levels every WebRTC sender puts in its packets (RFC 6464
/// ssrc-audio-level): a level-threshold VAD with hangover, so no audio is decoded while recording. Feed one call
/// per audio packet; closed segments are kept in time order per participant. Thread-safe (tracks of different
/// participants may report from different threads); a call allocates nothing unless a segment closes.
/// </summary>
public sealed class VoiceActivityTimeline(VoiceActivityOptions? options = null)
{
    private readonly VoiceActivityOptions _options = options ?? new VoiceActivityOptions();
    private readonly Dictionary<string, State> _states = new(StringComparer.Ordinal);
    private readonly List<SpeechSegment> _closed = [];
    private readonly Lock _gate = new();

    /// <summary>Raised (under no lock) when a segment closes; the session saves it in the manifest.</summary>
    public event Action<SpeechSegment>? SegmentClosed;

    /// <summary>Records the level of one audio packet of <paramref name="participantId"/> at <paramref name="timeSeconds"/>.</summary>
    /// <param name="level">RFC 6464 level, 0..127 -dBov.</param>
    /// <param name="voiceActivity">RFC 6464 V flag.</param>
    public void OnAudioLevel(string participantId, double timeSeconds, byte level, bool voiceActivity)
    {
        var loud = level <= _options.SpeechLevelDbov && (voiceActivity || !_options.RequireVoiceActivityFlag);
        SpeechSegment? closed = null;
        lock (_gate)
        {
            if (!_states.TryGetValue(participantId, out var state))
            {
                state = new State(participantId);
                _states.Add(participantId, state);
            }

            var hangover = _options.Hangover.TotalSeconds;
            if (loud)
            {
                if (state.Open && timeSeconds - state.LastLoud > hangover)
                {
                    closed = Close(state);
                }

                if (!state.Open)
                {
                    state.Open = true;
                    state.Start = timeSeconds;
                }

                state.LastLoud = Math.Max(state.LastLoud, timeSeconds);
            }
            else if (state.Open && timeSeconds - state.LastLoud > hangover)
            {
                closed = Close(state);
            }
        }

        if (closed is { } segment)
        {
            SegmentClosed?.Invoke(segment);
        }
    }

    /// <summary>Whether the participant is inside a speech segment now (hangover included).</summary>
    public bool IsSpeaking(string participantId)
    {
        lock (_gate)
        {
            return _states.TryGetValue(participantId, out var state) && state.Open;
        }
    }

    /// <summary>Closes every open segment (end of recording, pause, participant gone) at its last loud packet.</summary>
    public void CloseAll()
    {
        List<SpeechSegment> closed = [];
        lock (_gate)
        {
            foreach (var state in _states.Values)
            {
                if (state.Open && Close(state) is { } segment)
                {
                    closed.Add(segment);
                }
            }
        }

        foreach (var segment in closed)
        {
            SegmentClosed?.Invoke(segment);
        }
    }

    /// <summary>Closed segments plus the open ones as they stand, ordered by start.</summary>
    public IReadOnlyList<SpeechSegment> GetSegments()
    {
        lock (_gate)
        {
            var all = new List<SpeechSegment>(_closed);
            foreach (var state in _states.Values)
            {
                if (state.Open)
                {
                    all.Add(new SpeechSegment(state.ParticipantId, state.Start, state.LastLoud + _options.PacketDuration.TotalSeconds));
                }
            }

            all.Sort(static (a, b) => a.Start.CompareTo(b.Start));
            return all;
        }
    }

    private SpeechSegment? Close(State state)
    {
        state.Open = false;
        var segment = new SpeechSegment(state.ParticipantId, state.Start, state.LastLoud + _options.PacketDuration.TotalSeconds);
        if (segment.Duration < _options.MinimumSegment.TotalSeconds)
        {
            return null;
        }

        _closed.Add(segment);
        return segment;
    }

    private sealed class State(string participantId)
    {
        public string ParticipantId { get; } = participantId;

        public bool Open { get; set; }

        public double Start { get; set; }

        public double LastLoud { get; set; } = double.NegativeInfinity;
    }
}
