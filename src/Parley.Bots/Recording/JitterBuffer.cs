using Parley.WebRtc.Rtp;

namespace Parley.Bots.Recording;

/// <summary>Sizes and delays of one <see cref="JitterBuffer"/>.</summary>
public sealed record JitterBufferOptions
{
    /// <summary>Audio: 200 ms of waiting for a missing packet, 64 slots (over a second of 20 ms Opus packets).</summary>
    public static JitterBufferOptions Audio { get; } = new() { MaxDelay = TimeSpan.FromMilliseconds(200), Capacity = 64 };

    /// <summary>Video: 500 ms, 512 slots (a 2 Mbit/s stream sends about 180 packets per second).</summary>
    public static JitterBufferOptions Video { get; } = new() { MaxDelay = TimeSpan.FromMilliseconds(500), Capacity = 512 };

    /// <summary>How long packets after a gap wait for the missing one before the gap is given up.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Slots; a power of two. A packet further ahead than this forces the oldest gaps to be given up.</summary>
    public int Capacity { get; init; } = 512;

    /// <summary>Largest RTP packet kept (bigger ones are dropped and counted); SRTP-decrypted WebRTC packets stay under 1,500.</summary>
    public int MaxPacketSize { get; init; } = 1500;

    /// <summary>Sequence numbers per NACK request batch of <see cref="JitterBuffer.CollectNacks"/>; how many are remembered.</summary>
    public int NackCapacity { get; init; } = 256;
}

/// <summary>What a <see cref="JitterBuffer.Insert"/> did with a packet.</summary>
public enum JitterBufferInsertResult
{
    /// <summary>Stored (and possibly emitted at once with the packets it completed).</summary>
    Accepted,

    /// <summary>Already stored or already emitted.</summary>
    Duplicate,

    /// <summary>Older than what was already emitted or given up on.</summary>
    TooLate,

    /// <summary>Not an RTP packet, or larger than <see cref="JitterBufferOptions.MaxPacketSize"/>.</summary>
    Dropped,

    /// <summary>A new SSRC or a restart of the numbering: what was buffered was flushed, the packet starts a new stream.</summary>
    Restarted,
}

/// <summary>Where a <see cref="JitterBuffer"/> sends packets, in sequence order. Called on the inserting thread.</summary>
public interface IJitterBufferOutput
{
    /// <summary>The next packet in order. The span is only valid during the call.</summary>
    void OnPacket(RtpPacket packet);

    /// <summary><paramref name="count"/> packets before the next one were given up on: drop any partial frame.</summary>
    void OnLoss(int count);

    /// <summary>A new stream starts (first packet, new SSRC, renumbering): its timestamps are a new space too.</summary>
    void OnStreamStart(uint ssrc);
}

/// <summary>
/// The receive-side jitter buffer of ONE remote track for recording: puts RTP packets back in sequence order,
/// waits at most <see cref="JitterBufferOptions.MaxDelay"/> for a missing one (meanwhile
/// <see cref="CollectNacks"/> says what to request, RFC 4585 §6.2.1), then gives the gap up, counts the loss and
/// moves on. Packets in order pass straight through: delay is only added while something is missing.
/// <para>
/// Sequence numbers are extended to 64 bits from 16-bit differences (RFC 3550 §A.1), so the 65535 → 0 wrap is
/// not a special case. A different SSRC, or a jump of more than <see cref="NackTracker.ResetThreshold"/>, is a
/// new sequence space: what is buffered is flushed in order (gaps skipped), then the stream restarts.
/// </para>
/// <para>
/// All storage is allocated in the constructor (one slab of <c>Capacity × MaxPacketSize</c> bytes); inserting,
/// emitting and polling allocate nothing. Not thread-safe: the owner serialises calls.
/// </para>
/// </summary>
public sealed class JitterBuffer
{
    private readonly IJitterBufferOutput _output;
    private readonly NackTracker _nacks;
    private readonly byte[] _slab;
    private readonly long[] _slotSequence;
    private readonly int[] _slotLength;
    private readonly long[] _slotArrival;
    private readonly long[] _slotEmitted;
    private readonly int _mask;
    private readonly int _maxPacketSize;
    private readonly long _maxDelayMilliseconds;
    private bool _started;
    private uint _ssrc;

    /// <summary>Extended number of the next packet to emit.</summary>
    private long _next;

    /// <summary>Extended number of the newest packet stored or emitted.</summary>
    private long _highest;

    private int _buffered;

    public JitterBuffer(JitterBufferOptions options, IJitterBufferOutput output)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        if (options.Capacity < 2 || (options.Capacity & (options.Capacity - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Capacity, "Capacity must be a power of two, at least 2.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxPacketSize, RtpPacket.FixedHeaderLength, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.MaxDelay, TimeSpan.Zero, nameof(options));
        _output = output;
        _mask = options.Capacity - 1;
        _maxPacketSize = options.MaxPacketSize;
        _maxDelayMilliseconds = (long)options.MaxDelay.TotalMilliseconds;
        _slab = new byte[options.Capacity * options.MaxPacketSize];
        _slotSequence = new long[options.Capacity];
        _slotLength = new int[options.Capacity];
        _slotArrival = new long[options.Capacity];
        _slotEmitted = new long[options.Capacity];
        _slotSequence.AsSpan().Fill(-1);
        _slotEmitted.AsSpan().Fill(-1);
        // Past the jitter buffer's patience a NACK is pointless: the gap is given up by then.
        _nacks = new NackTracker(options.NackCapacity, maxRetries: 10, maxAge: options.MaxDelay);
    }

    /// <summary>SSRC of the current stream, or 0 before the first packet.</summary>
    public uint Ssrc => _started ? _ssrc : 0;

    /// <summary>Packets waiting for a gap before them to fill.</summary>
    public int BufferedCount => _buffered;

    public long PacketsAccepted { get; private set; }

    public long PacketsEmitted { get; private set; }

    /// <summary>Packets given up on (never arrived within the delay, or pushed out by the capacity).</summary>
    public long PacketsLost { get; private set; }

    public long Duplicates { get; private set; }

    public long LatePackets { get; private set; }

    public long DroppedPackets { get; private set; }

    /// <summary>New streams after the first: SSRC changes and renumberings.</summary>
    public long Restarts { get; private set; }

    /// <summary>
    /// When <see cref="Poll"/> will next give up a gap, on the caller's millisecond clock; null when nothing waits.
    /// </summary>
    public long? NextDeadline => _buffered > 0 && FirstBufferedArrival() is { } arrival ? arrival + _maxDelayMilliseconds : null;

    /// <summary>Stores one RTP packet (copied) and emits every packet that is now in order.</summary>
    /// <param name="packet">The decrypted RTP packet (RTX already unwrapped to the media SSRC).</param>
    /// <param name="nowMilliseconds">Arrival time on any monotonic millisecond clock, the same for every call.</param>
    public JitterBufferInsertResult Insert(ReadOnlySpan<byte> packet, long nowMilliseconds)
    {
        if (packet.Length > _maxPacketSize || !RtpPacket.TryParse(packet, out var rtp))
        {
            DroppedPackets++;
            return JitterBufferInsertResult.Dropped;
        }

        var restarted = false;
        if (!_started || rtp.Ssrc != _ssrc)
        {
            restarted = _started;
            Restart(rtp.Ssrc, rtp.SequenceNumber);
        }

        var delta = (short)(ushort)(rtp.SequenceNumber - (ushort)_highest);
        if (delta > NackTracker.ResetThreshold || delta < -NackTracker.ResetThreshold)
        {
            // The sender renumbered (or the stream was away long): a new sequence space on the same SSRC.
            restarted = true;
            Restart(rtp.Ssrc, rtp.SequenceNumber);
            delta = 0;
        }

        var extended = _highest + delta;
        if (extended < _next)
        {
            // Emitted already (a duplicate), or a gap given up before it arrived (too late).
            if (_slotEmitted[(int)(extended & _mask)] == extended)
            {
                Duplicates++;
                return JitterBufferInsertResult.Duplicate;
            }

            LatePackets++;
            return JitterBufferInsertResult.TooLate;
        }

        var slot = (int)(extended & _mask);
        if (_slotSequence[slot] == extended)
        {
            Duplicates++;
            return JitterBufferInsertResult.Duplicate;
        }

        _nacks.OnPacket(rtp.SequenceNumber, nowMilliseconds);

        if (extended - _next > _mask)
        {
            MakeRoomFor(extended);
        }

        packet.CopyTo(_slab.AsSpan(slot * _maxPacketSize, _maxPacketSize));
        _slotSequence[slot] = extended;
        _slotLength[slot] = packet.Length;
        _slotArrival[slot] = nowMilliseconds;
        _buffered++;
        PacketsAccepted++;
        if (extended > _highest)
        {
            _highest = extended;
        }

        Drain(nowMilliseconds);
        return restarted ? JitterBufferInsertResult.Restarted : JitterBufferInsertResult.Accepted;
    }

    /// <summary>Gives up the gaps whose following packets have waited <see cref="JitterBufferOptions.MaxDelay"/>, and emits.</summary>
    public void Poll(long nowMilliseconds) => Drain(nowMilliseconds);

    /// <summary>Emits everything buffered, skipping the gaps (at the end of a recording).</summary>
    public void Flush()
    {
        while (_buffered > 0)
        {
            AdvanceHead();
        }
    }

    /// <summary>
    /// Sequence numbers of the current SSRC to request in a generic NACK now (RFC 4585 §6.2.1), ascending; see
    /// <see cref="NackTracker.CollectNacks"/>. Returns how many were written.
    /// </summary>
    public int CollectNacks(long nowMilliseconds, long rttMilliseconds, Span<ushort> destination) =>
        _nacks.CollectNacks(nowMilliseconds, rttMilliseconds, destination);

    private void Restart(uint ssrc, ushort sequenceNumber)
    {
        if (_started)
        {
            Flush();
            Restarts++;
        }

        _nacks.Reset();
        _slotEmitted.AsSpan().Fill(-1);
        _started = true;
        _ssrc = ssrc;
        // One cycle up, so numbers just below the first packet (reordered ahead of it) stay positive.
        _highest = (1L << 16) + sequenceNumber;
        _next = _highest;
        _output.OnStreamStart(ssrc);
    }

    private void Drain(long nowMilliseconds)
    {
        while (_buffered > 0)
        {
            if (EmitHead())
            {
                continue;
            }

            // The head is missing: wait until the oldest packet behind the gap has waited long enough.
            if (FirstBufferedArrival() is { } arrival && nowMilliseconds - arrival >= _maxDelayMilliseconds)
            {
                SkipHead();
                continue;
            }

            return;
        }
    }

    /// <summary>A packet too far ahead for the window: the oldest packets are emitted and gaps given up until it fits.</summary>
    private void MakeRoomFor(long extended)
    {
        while (_buffered > 0 && extended - _next > _mask)
        {
            AdvanceHead();
        }

        if (extended - _next > _mask)
        {
            // Nothing buffered, and still too far: what lies before the window cannot be waited for.
            var lost = extended - _mask - _next;
            PacketsLost += lost;
            _next = extended - _mask;
            _output.OnLoss((int)Math.Min(lost, int.MaxValue));
        }
    }

    /// <summary>Emits the head, or gives up the gap at the head. Progresses whenever something is buffered.</summary>
    private void AdvanceHead()
    {
        if (!EmitHead())
        {
            SkipHead();
        }
    }

    /// <summary>Emits the packet at the head if it is there.</summary>
    private bool EmitHead()
    {
        var slot = (int)(_next & _mask);
        if (_slotSequence[slot] != _next)
        {
            return false;
        }

        _slotSequence[slot] = -1;
        _slotEmitted[slot] = _next;
        _buffered--;
        _next++;
        PacketsEmitted++;
        // Parsed already on insert; cannot fail on the same bytes.
        if (RtpPacket.TryParse(_slab.AsSpan(slot * _maxPacketSize, _slotLength[slot]), out var rtp))
        {
            _output.OnPacket(rtp);
        }

        return true;
    }

    /// <summary>Gives up the run of missing packets at the head (up to the next stored one).</summary>
    private void SkipHead()
    {
        var lost = 0;
        while (_next <= _highest && _slotSequence[(int)(_next & _mask)] != _next)
        {
            _next++;
            lost++;
        }

        if (lost > 0)
        {
            PacketsLost += lost;
            _output.OnLoss(lost);
        }
    }

    private long? FirstBufferedArrival()
    {
        for (var sequence = _next; sequence <= _highest; sequence++)
        {
            var slot = (int)(sequence & _mask);
            if (_slotSequence[slot] == sequence)
            {
                return _slotArrival[slot];
            }
        }

        return null;
    }

}
