namespace Parley.WebRtc.Rtp;

/// <summary>
/// Receiver side of generic NACK (RFC 4585 §6.2.1) for ONE incoming RTP stream: notices gaps in the sequence
/// numbers, remembers the missing packets and says which are due to be requested (again), for
/// <see cref="Rtcp.RtcpNack.Write"/>. Used by the SFU towards publishers and by the recording bot.
/// <para>
/// A missing packet is requested at once, then again at most once per max(RTT, 20 ms) (a request sooner
/// than a round trip cannot have been answered yet), until it arrives (recovered: forgotten), is older than
/// the maximum age (1 s: a receiver's jitter buffer has given up on it by then), or was requested
/// <c>maxRetries</c> times. At most <c>capacity</c> numbers are remembered, the oldest forgotten first. A jump
/// of more than <see cref="ResetThreshold"/> either way means the sender restarted its numbering (or the
/// stream was down long): state is cleared rather than NACKing a thousand packets.
/// </para>
/// <para>
/// Sequence numbers are extended to 64 bits inside (RFC 3550 §A.1 arithmetic on 16-bit differences), so the
/// 65535 → 0 wrap needs no special case. Missing packets live in one preallocated array sorted by number;
/// no allocation after construction.
/// </para>
/// Not thread-safe: owned by the receive loop of the stream.
/// </summary>
public sealed class NackTracker
{
    /// <summary>A sequence jump larger than this, forwards or backwards, resets the tracker.</summary>
    public const int ResetThreshold = 1000;

    /// <summary>Floor of the retry interval when the RTT is small or unknown.</summary>
    public const long MinRetryIntervalMilliseconds = 20;

    private readonly Entry[] _entries;
    private readonly int _maxRetries;
    private readonly long _maxAgeMilliseconds;
    private int _count;
    private bool _started;
    private long _highest;

    /// <param name="capacity">Most missing numbers remembered (512 by default).</param>
    /// <param name="maxRetries">Requests per missing packet before giving up (10 by default).</param>
    /// <param name="maxAge">How long a missing packet is requested, 1 s by default.</param>
    public NackTracker(int capacity = 512, int maxRetries = 10, TimeSpan? maxAge = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRetries);
        var age = maxAge ?? TimeSpan.FromSeconds(1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(age, TimeSpan.Zero, nameof(maxAge));
        _entries = new Entry[capacity];
        _maxRetries = maxRetries;
        _maxAgeMilliseconds = (long)age.TotalMilliseconds;
    }

    /// <summary>Missing packets remembered (including any that expire at the next call).</summary>
    public int MissingCount => _count;

    /// <summary>Missing packets that arrived later (out of order or retransmitted).</summary>
    public long RecoveredCount { get; private set; }

    /// <summary>Missing packets given up on: too old, requested too often, over capacity, or cleared by a reset.</summary>
    public long ForgottenCount { get; private set; }

    /// <summary>Highest sequence number seen, or null before the first packet.</summary>
    public ushort? HighestSequenceNumber => _started ? (ushort)_highest : null;

    /// <summary>Records the arrival of a packet of the stream.</summary>
    public void OnPacket(ushort sequenceNumber, long nowMilliseconds)
    {
        if (!_started)
        {
            Restart(sequenceNumber);
            return;
        }

        var delta = (short)(ushort)(sequenceNumber - (ushort)_highest);
        if (delta == 0)
        {
            return; // duplicate of the newest packet
        }

        if (delta > ResetThreshold || delta < -ResetThreshold)
        {
            ForgottenCount += _count;
            Restart(sequenceNumber);
            return;
        }

        var extended = _highest + delta;
        if (delta < 0)
        {
            Recover(extended);
            return;
        }

        ExpireOldest(nowMilliseconds);
        if (delta > 1)
        {
            AddMissing(_highest + 1, extended - 1, nowMilliseconds);
        }

        _highest = extended;
    }

    /// <summary>
    /// Writes the missing sequence numbers due for a (re)request into <paramref name="destination"/>, in
    /// ascending order modulo 2^16 (as <see cref="Rtcp.RtcpNack.Write"/> wants them), and counts them as
    /// requested. Returns how many were written; those that do not fit stay due for the next call.
    /// </summary>
    public int CollectNacks(long nowMilliseconds, long rttMilliseconds, Span<ushort> destination)
    {
        var interval = Math.Max(rttMilliseconds, MinRetryIntervalMilliseconds);
        var written = 0;
        var kept = 0;
        for (var i = 0; i < _count; i++)
        {
            var entry = _entries[i];
            if (nowMilliseconds - entry.DetectedAt > _maxAgeMilliseconds || entry.Retries >= _maxRetries)
            {
                ForgottenCount++;
                continue;
            }

            if (written < destination.Length && (entry.Retries == 0 || nowMilliseconds - entry.LastRequestedAt >= interval))
            {
                destination[written++] = (ushort)entry.Sequence;
                entry.Retries++;
                entry.LastRequestedAt = nowMilliseconds;
            }

            _entries[kept++] = entry;
        }

        _count = kept;
        return written;
    }

    /// <summary>Forgets everything, as before the first packet.</summary>
    public void Reset()
    {
        _count = 0;
        _started = false;
    }

    private void Restart(ushort sequenceNumber)
    {
        _count = 0;
        _started = true;
        // One cycle up, so numbers just below the first packet stay positive.
        _highest = (1L << 16) + sequenceNumber;
    }

    private void Recover(long extended)
    {
        var index = BinarySearch(extended);
        if (index < 0)
        {
            return; // a duplicate, or a packet already given up on
        }

        _entries.AsSpan(index + 1, _count - index - 1).CopyTo(_entries.AsSpan(index));
        _count--;
        RecoveredCount++;
    }

    /// <summary>Entries are added in sequence order with non-decreasing detection times: the oldest lead.</summary>
    private void ExpireOldest(long nowMilliseconds)
    {
        var expired = 0;
        while (expired < _count && nowMilliseconds - _entries[expired].DetectedAt > _maxAgeMilliseconds)
        {
            expired++;
        }

        RemoveFirst(expired);
    }

    private void AddMissing(long first, long last, long nowMilliseconds)
    {
        var capacity = _entries.Length;
        var added = last - first + 1;
        if (added > capacity)
        {
            ForgottenCount += added - capacity;
            first = last - capacity + 1;
            added = capacity;
        }

        RemoveFirst((int)Math.Max(0, _count + added - capacity));
        for (var sequence = first; sequence <= last; sequence++)
        {
            _entries[_count++] = new Entry { Sequence = sequence, DetectedAt = nowMilliseconds };
        }
    }

    private void RemoveFirst(int n)
    {
        if (n == 0)
        {
            return;
        }

        ForgottenCount += n;
        _entries.AsSpan(n, _count - n).CopyTo(_entries);
        _count -= n;
    }

    private int BinarySearch(long sequence)
    {
        int low = 0, high = _count - 1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            var value = _entries[mid].Sequence;
            if (value == sequence)
            {
                return mid;
            }

            if (value < sequence)
            {
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        return -1;
    }

    private struct Entry
    {
        public long Sequence;
        public long DetectedAt;
        public long LastRequestedAt;
        public int Retries;
    }
}
