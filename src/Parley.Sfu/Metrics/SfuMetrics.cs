namespace Parley.Sfu.Metrics;

/// <summary>Why a packet the SFU received was not used; each reason has its own counter.</summary>
public enum DropReason
{
    /// <summary>A datagram no transport claimed (garbage, scans, packets of a closed transport).</summary>
    Unrouted,
    /// <summary>SRTP/SRTCP that failed authentication or replay checks, or was malformed.</summary>
    Srtp,
    /// <summary>RTP that does not parse or belongs to no published track.</summary>
    UnknownStream,
    /// <summary>RTCP that does not parse.</summary>
    MalformedRtcp,
    /// <summary>A consumer skipped the packet (waiting for a keyframe, another layer, muted).</summary>
    Filtered,
    /// <summary>Audio marked as digital silence (RFC 6464 level 127), not forwarded (RTC_DROP_SILENT_AUDIO).</summary>
    Silence,
    /// <summary>A datagram larger than the socket loop's 2,048-byte slots (nothing WebRTC sends at a 1,500 MTU).</summary>
    Oversized,
    /// <summary>A datagram the kernel refused to send (send buffer full, no route).</summary>
    SendFailed,
}

/// <summary>
/// Counters of the media engine, updated with Interlocked from the worker threads and read by the
/// metrics endpoint (the host maps them onto Prometheus names; the engine has no metrics dependency).
/// </summary>
public sealed class SfuMetrics
{
    private readonly long[] _drops = new long[Enum.GetValues<DropReason>().Length];
    private long _packetsIn;
    private long _bytesIn;
    private long _packetsOut;
    private long _bytesOut;
    private long _nacksReceived;
    private long _nacksSent;
    private long _retransmissions;
    private long _plisSent;
    private long _keyframeRequestsReceived;
    private long _transportsCreated;
    private long _producersCreated;
    private long _consumersCreated;

    public long PacketsIn => Interlocked.Read(ref _packetsIn);

    public long BytesIn => Interlocked.Read(ref _bytesIn);

    public long PacketsOut => Interlocked.Read(ref _packetsOut);

    public long BytesOut => Interlocked.Read(ref _bytesOut);

    /// <summary>NACKs (RTCP generic NACK packets) received from subscribers.</summary>
    public long NacksReceived => Interlocked.Read(ref _nacksReceived);

    /// <summary>NACKs the SFU sent to publishers for packets it did not receive.</summary>
    public long NacksSent => Interlocked.Read(ref _nacksSent);

    /// <summary>Packets resent from the retransmission buffers.</summary>
    public long Retransmissions => Interlocked.Read(ref _retransmissions);

    /// <summary>PLIs sent to publishers (keyframe requests).</summary>
    public long PlisSent => Interlocked.Read(ref _plisSent);

    /// <summary>PLI/FIR received from subscribers.</summary>
    public long KeyframeRequestsReceived => Interlocked.Read(ref _keyframeRequestsReceived);

    public long TransportsCreated => Interlocked.Read(ref _transportsCreated);

    public long ProducersCreated => Interlocked.Read(ref _producersCreated);

    public long ConsumersCreated => Interlocked.Read(ref _consumersCreated);

    /// <summary>Seconds from a transport's creation to DTLS connected (a bounded list drained by the host).</summary>
    public DurationRecorder TransportConnectSeconds { get; } = new();

    public DurationRecorder ProducerCreationSeconds { get; } = new();

    public DurationRecorder ConsumerCreationSeconds { get; } = new();

    public long Drops(DropReason reason) => Interlocked.Read(ref _drops[(int)reason]);

    public void Drop(DropReason reason) => Interlocked.Increment(ref _drops[(int)reason]);

    public void Received(int bytes)
    {
        Interlocked.Increment(ref _packetsIn);
        Interlocked.Add(ref _bytesIn, bytes);
    }

    public void Sent(int bytes)
    {
        Interlocked.Increment(ref _packetsOut);
        Interlocked.Add(ref _bytesOut, bytes);
    }

    public void NackReceived() => Interlocked.Increment(ref _nacksReceived);

    public void NackSent() => Interlocked.Increment(ref _nacksSent);

    public void Retransmitted() => Interlocked.Increment(ref _retransmissions);

    public void PliSent() => Interlocked.Increment(ref _plisSent);

    public void KeyframeRequestReceived() => Interlocked.Increment(ref _keyframeRequestsReceived);

    public void TransportCreated() => Interlocked.Increment(ref _transportsCreated);

    public void ProducerCreated() => Interlocked.Increment(ref _producersCreated);

    public void ConsumerCreated() => Interlocked.Increment(ref _consumersCreated);
}

/// <summary>
/// Durations waiting to be observed by a histogram: the engine records, the metrics exporter drains.
/// Bounded so that an exporter that never drains cannot grow memory.
/// </summary>
public sealed class DurationRecorder
{
    private const int Capacity = 4096;
    private readonly Queue<double> _pending = new();
    private readonly Lock _lock = new();

    public void Record(TimeSpan duration)
    {
        lock (_lock)
        {
            if (_pending.Count < Capacity)
            {
                _pending.Enqueue(duration.TotalSeconds);
            }
        }
    }

    public int Drain(Action<double> observe)
    {
        ArgumentNullException.ThrowIfNull(observe);
        lock (_lock)
        {
            var count = _pending.Count;
            while (_pending.TryDequeue(out var value))
            {
                observe(value);
            }

            return count;
        }
    }
}
