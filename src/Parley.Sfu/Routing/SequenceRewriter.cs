namespace Parley.Sfu.Routing;

/// <summary>
/// The sequence numbers and timestamps one consumer sends (RFC 3550 §5.1), rewritten from whichever source
/// stream it forwards at the moment (a simulcast layer, or a new SSRC after the publisher restarted), so the
/// subscriber sees one continuous stream: no gap and no step back in sequence numbers across a switch, and
/// timestamps that keep increasing with wall-clock time.
/// <para>
/// Each source run is a <em>mapping</em>: output = extended input − (packets intentionally dropped before it
/// in this run) + offset; output timestamp = input timestamp + offset. Extended (64-bit) sequence numbers are
/// used inside so the 65535 → 0 wrap is ordinary arithmetic. The mapping before the current one is kept so a
/// NACK arriving just after a switch can still be traced back (<see cref="TryMapToSource"/>). The same idea
/// as mediasoup's SeqManager and RtpStreamSend, written from the RFC, without per-packet allocation.
/// </para>
/// Not thread-safe: owned by the worker thread that sends to the consumer.
/// </summary>
public sealed class SequenceRewriter
{
    // RFC 3550 §A.1 MAX_DROPOUT: a forward jump this large is not "some packets were lost" but a restart.
    private const int MaxDropout = 3000;

    // How far behind the newest packet a packet may be and still be mapped (reordering, and retransmissions
    // the consumer rewrites again after a NACK). RFC 3550 §A.1 uses 100 for statistics; here it must cover
    // a whole retransmission buffer (1024 packets by default), so older packets are not mistaken for a
    // restart of the source. A packet further back is treated like a big forward jump.
    private const int MaxMisorder = 8192;

    // Runs of intentionally dropped packets remembered per mapping (power of two); older runs are folded into
    // a count, and packets older than the folded ones are refused (their shift is no longer known exactly).
    private const int DropHistory = 128;

    private readonly Random _random;
    private Mapping _current = new();
    private Mapping _previous = new();
    private bool _started;
    private bool _switchPending;
    private long _lastOutExtended;
    private uint _lastOutTimestamp;
    private long _lastOutMicroseconds;
    private int _pendingRestartSequence = -1;

    /// <param name="random">Source of the random initial sequence number and timestamp that RFC 3550 §5.1
    /// recommends (so a known-plaintext attack on SRTP cannot rely on them); tests pass a seeded one.
    /// <see cref="Random.Shared"/> when null.</param>
    public SequenceRewriter(Random? random = null)
    {
        _random = random ?? Random.Shared;
    }

    /// <summary>Sequence number of the newest packet sent (the highest output number), or 0 before the first.</summary>
    public ushort LastOutSequence => (ushort)_lastOutExtended;

    /// <summary>Timestamp of the packet with the highest output sequence number.</summary>
    public uint LastOutTimestamp => _lastOutTimestamp;

    /// <summary>Successful <see cref="TryRewrite"/> calls (packets handed to the consumer, retransmissions included).</summary>
    public long PacketsOut { get; private set; }

    /// <summary>The SSRC of the source being forwarded, or null before the first packet.</summary>
    public uint? SourceSsrc => _current.Active ? _current.Ssrc : null;

    /// <summary>True after <see cref="SwitchSource"/> until the next packet starts the new mapping.</summary>
    public bool SwitchPending => _switchPending;

    /// <summary>
    /// The next packet passed to <see cref="TryRewrite"/>, from any source (the same one included), starts a
    /// new mapping continuing the output: sequence = last output + 1, timestamp = last output timestamp +
    /// the wall-clock time since that packet in the new clock rate (at least 1).
    /// </summary>
    public void SwitchSource()
    {
        if (_started)
        {
            _switchPending = true;
        }
    }

    /// <summary>
    /// Maps one packet of the current source to its output sequence number and timestamp. The first packet
    /// ever, or the first after <see cref="SwitchSource"/>, starts a mapping. False (do not send) for a
    /// packet from another source, from before the start of the current mapping, one that was marked
    /// dropped, or the first of a big sequence jump (RFC 3550 §A.1: a jump is believed, as a restart of the
    /// source with a new mapping, only when the next packet follows it). A duplicate or reordered packet
    /// maps to the same output number as it would have in order.
    /// </summary>
    public bool TryRewrite(uint sourceSsrc, ushort sequenceNumber, uint timestamp, long nowMicroseconds, int clockRate, out ushort outSequence, out uint outTimestamp)
    {
        outSequence = 0;
        outTimestamp = 0;
        long extended;
        if (!_started || _switchPending)
        {
            extended = StartMapping(sourceSsrc, sequenceNumber, timestamp, nowMicroseconds, clockRate);
        }
        else
        {
            if (sourceSsrc != _current.Ssrc)
            {
                return false;
            }

            var delta = (short)(ushort)(sequenceNumber - (ushort)_current.MaxIn);
            if (delta >= MaxDropout || delta < -MaxMisorder)
            {
                if (_pendingRestartSequence != sequenceNumber)
                {
                    _pendingRestartSequence = (ushort)(sequenceNumber + 1);
                    return false;
                }

                extended = StartMapping(sourceSsrc, sequenceNumber, timestamp, nowMicroseconds, clockRate);
            }
            else
            {
                extended = _current.MaxIn + delta;
                if (extended < _current.BaseIn || extended <= _current.FoldedUpTo)
                {
                    return false;
                }
            }
        }

        _pendingRestartSequence = -1;
        var mapping = _current;
        var dropsBefore = mapping.DropsBefore(extended, out var dropped);
        if (dropped)
        {
            return false;
        }

        var outExtended = extended - dropsBefore + mapping.SequenceOffset;
        outSequence = (ushort)outExtended;
        outTimestamp = timestamp + mapping.TimestampOffset;
        mapping.MaxIn = Math.Max(mapping.MaxIn, extended);
        mapping.MaxOut = Math.Max(mapping.MaxOut, outExtended);
        if (outExtended > _lastOutExtended)
        {
            _lastOutExtended = outExtended;
            _lastOutTimestamp = outTimestamp;
            _lastOutMicroseconds = nowMicroseconds;
        }

        PacketsOut++;
        return true;
    }

    /// <summary>
    /// Records that the consumer will not send the current source's packet <paramref name="sequenceNumber"/>
    /// (a padding-only packet, a VP8 packet of a temporal layer it skips): later packets move down by one so
    /// the subscriber sees no gap and sends no NACK for it. Only a packet newer than every packet seen so far
    /// can be dropped this way; a late one is ignored (the numbers after it are already out), and so is a
    /// drop before the first packet of a mapping (the mapping simply starts at the next packet).
    /// </summary>
    public void MarkDropped(ushort sequenceNumber)
    {
        if (!_started || _switchPending)
        {
            return;
        }

        var mapping = _current;
        var delta = (short)(ushort)(sequenceNumber - (ushort)mapping.MaxIn);
        if (delta <= 0 || delta >= MaxDropout)
        {
            return;
        }

        mapping.MaxIn += delta;
        mapping.AddDrop(mapping.MaxIn);
    }

    /// <summary>
    /// Traces an output sequence number named in a subscriber's NACK (RFC 4585 §6.2.1) back to the source
    /// packet, in the current mapping or the one before it. False for a number not sent yet, from an older
    /// mapping, or whose source packet can no longer be worked out.
    /// </summary>
    public bool TryMapToSource(ushort outSequence, out uint sourceSsrc, out ushort sourceSequence)
    {
        sourceSsrc = 0;
        sourceSequence = 0;
        if (!_started)
        {
            return false;
        }

        var outExtended = _lastOutExtended + (short)(ushort)(outSequence - (ushort)_lastOutExtended);
        var mapping = _current.TryMapOut(outExtended, out var extended) ? _current
            : _previous.TryMapOut(outExtended, out extended) ? _previous
            : null;
        if (mapping is null)
        {
            return false;
        }

        sourceSsrc = mapping.Ssrc;
        sourceSequence = (ushort)extended;
        return true;
    }

    /// <summary>Starts a mapping at this packet and returns its extended sequence number.</summary>
    private long StartMapping(uint sourceSsrc, ushort sequenceNumber, uint timestamp, long nowMicroseconds, int clockRate)
    {
        long firstOut;
        uint firstTimestamp;
        if (!_started)
        {
            // RFC 3550 §5.1: random initial values.
            firstOut = _random.Next(0, 1 << 16);
            firstTimestamp = (uint)_random.NextInt64(0, 1L << 32);
            _lastOutExtended = firstOut - 1;
            _started = true;
        }
        else
        {
            // The new source's timestamps are unrelated to the old one's: continue from the last output
            // timestamp by the wall-clock time that passed, so the subscriber's jitter buffer and lip sync see
            // time moving forward, never standing still.
            var elapsed = Math.Max(0, nowMicroseconds - _lastOutMicroseconds);
            var units = clockRate <= 0 ? 0 : (elapsed / 1_000_000 * clockRate) + (elapsed % 1_000_000 * clockRate / 1_000_000);
            firstOut = _lastOutExtended + 1;
            firstTimestamp = unchecked(_lastOutTimestamp + (uint)Math.Max(1, units));
        }

        (_previous, _current) = (_current, _previous);
        // Extended numbers start one cycle up so reordered packets just before the start stay positive.
        var baseIn = (1L << 16) + sequenceNumber;
        _current.Start(sourceSsrc, baseIn, firstOut - baseIn, unchecked(firstTimestamp - timestamp), firstOut);
        _switchPending = false;
        return baseIn;
    }

    private sealed class Mapping
    {
        private const int Mask = DropHistory - 1;

        // Runs of consecutive dropped numbers (a bandwidth probe is a burst of padding packets: one run),
        // ascending, in a ring; drops are only ever added above every number seen, so it stays sorted.
        private readonly long[] _runStarts = new long[DropHistory];
        private readonly int[] _runLengths = new int[DropHistory];
        private int _runStart;
        private int _runCount;
        private long _dropsInRing;
        private long _foldedDrops;

        public bool Active;
        public uint Ssrc;
        public long BaseIn;
        public long MaxIn;
        public long SequenceOffset;
        public uint TimestampOffset;
        public long FirstOut;
        public long MaxOut;
        public long FoldedUpTo;

        public void Start(uint ssrc, long baseIn, long sequenceOffset, uint timestampOffset, long firstOut)
        {
            Active = true;
            Ssrc = ssrc;
            BaseIn = baseIn;
            MaxIn = baseIn;
            SequenceOffset = sequenceOffset;
            TimestampOffset = timestampOffset;
            FirstOut = firstOut;
            MaxOut = firstOut - 1;
            FoldedUpTo = long.MinValue;
            _runStart = 0;
            _runCount = 0;
            _dropsInRing = 0;
            _foldedDrops = 0;
        }

        public void AddDrop(long extended)
        {
            _dropsInRing++;
            if (_runCount > 0)
            {
                var last = (_runStart + _runCount - 1) & Mask;
                if (_runStarts[last] + _runLengths[last] == extended)
                {
                    _runLengths[last]++;
                    return;
                }
            }

            if (_runCount == DropHistory)
            {
                var length = _runLengths[_runStart];
                FoldedUpTo = _runStarts[_runStart] + length - 1;
                _foldedDrops += length;
                _dropsInRing -= length;
                _runStart = (_runStart + 1) & Mask;
                _runCount--;
            }

            var slot = (_runStart + _runCount) & Mask;
            _runStarts[slot] = extended;
            _runLengths[slot] = 1;
            _runCount++;
        }

        /// <summary>
        /// Dropped packets with a number below <paramref name="extended"/>. Scans from the newest run: for the
        /// usual in-order packet the newest run is already below it, so this is O(1).
        /// </summary>
        public long DropsBefore(long extended, out bool dropped)
        {
            dropped = false;
            var count = _foldedDrops + _dropsInRing;
            for (var i = _runCount - 1; i >= 0; i--)
            {
                var slot = (_runStart + i) & Mask;
                var start = _runStarts[slot];
                var end = start + _runLengths[slot] - 1;
                if (end < extended)
                {
                    break;
                }

                if (start >= extended)
                {
                    dropped |= start == extended;
                    count -= _runLengths[slot];
                    continue;
                }

                dropped = true; // start < extended <= end
                count -= end - extended + 1;
                break;
            }

            return count;
        }

        public bool TryMapOut(long outExtended, out long extended)
        {
            extended = 0;
            if (!Active || outExtended < FirstOut || outExtended > MaxOut)
            {
                return false;
            }

            // Invert out = in − drops below in + offset: a run starting at or below the candidate lies wholly
            // below the answer (which is not dropped), so it pushes the candidate up by its length.
            var candidate = outExtended - SequenceOffset + _foldedDrops;
            for (var i = 0; i < _runCount; i++)
            {
                var slot = (_runStart + i) & Mask;
                if (_runStarts[slot] > candidate)
                {
                    break;
                }

                candidate += _runLengths[slot];
            }

            // The folded drops are only assumed to lie below the candidate: check by mapping forward again.
            if (candidate < BaseIn || candidate > MaxIn || candidate <= FoldedUpTo)
            {
                return false;
            }

            var forward = candidate - DropsBefore(candidate, out var dropped) + SequenceOffset;
            if (dropped || forward != outExtended)
            {
                return false;
            }

            extended = candidate;
            return true;
        }
    }
}
