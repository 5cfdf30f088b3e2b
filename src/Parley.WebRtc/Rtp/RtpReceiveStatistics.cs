using Parley.WebRtc.Rtcp;

namespace Parley.WebRtc.Rtp;

/// <summary>
/// Per-SSRC reception statistics for receiver reports (RFC 3550 §6.4.1, Appendix A.1, A.3, A.8):
/// sequence number validation with probation, extended highest sequence number, packets lost (cumulative
/// and since the last report) and interarrival jitter. Feed every packet of one SSRC to
/// <see cref="OnPacket"/>; call <see cref="CreateReportBlock"/> when sending an RR or SR.
/// No allocation. Not thread-safe: one receive loop owns it.
/// </summary>
public sealed class RtpReceiveStatistics
{
    // RFC 3550 Appendix A.1 constants.
    private const int MaxDropout = 3000;
    private const int MaxMisorder = 100;
    private const int MinSequential = 2;
    private const uint SequenceModulus = 1 << 16;

    private readonly int _clockRate;
    private ushort _maxSeq;
    private uint _cycles;
    private uint _baseSeq;
    private uint _badSeq = SequenceModulus + 1;
    private int _probation = MinSequential;
    private bool _started;
    private long _received;
    private long _expectedPrior;
    private long _receivedPrior;
    private long _lastTransit;
    private bool _haveTransit;
    private double _jitter;
    private uint _lastSenderReport;
    private long _lastSenderReportArrival = -1;

    public RtpReceiveStatistics(uint ssrc, int clockRate)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(clockRate);
        Ssrc = ssrc;
        _clockRate = clockRate;
    }

    public uint Ssrc { get; }

    /// <summary>True once <see cref="MinSequential"/> packets in sequence validated the source (A.1).</summary>
    public bool IsValid => _probation == 0;

    public long PacketsReceived => _received;

    /// <summary>Cycles × 2^16 + highest sequence number (RFC 3550 §6.4.1).</summary>
    public uint ExtendedHighestSequenceNumber => _cycles + _maxSeq;

    public long PacketsExpected => IsValid ? (long)ExtendedHighestSequenceNumber - _baseSeq + 1 : 0;

    /// <summary>Expected minus received; negative with duplicates (RFC 3550 A.3).</summary>
    public long CumulativeLost => PacketsExpected - _received;

    /// <summary>Interarrival jitter in RTP timestamp units (RFC 3550 A.8).</summary>
    public uint Jitter => (uint)_jitter;

    /// <summary>
    /// Records a packet. <paramref name="arrivalMicroseconds"/> is the local arrival time on any monotonic
    /// clock. Returns false for a packet A.1 rejects (during probation, or a big jump not yet confirmed).
    /// </summary>
    public bool OnPacket(ushort sequenceNumber, uint rtpTimestamp, long arrivalMicroseconds)
    {
        if (!UpdateSequence(sequenceNumber))
        {
            return false;
        }

        _received++;

        // A.8: transit time in timestamp units; jitter follows |D| with gain 1/16.
        var arrival = arrivalMicroseconds * _clockRate / 1_000_000;
        var transit = arrival - rtpTimestamp;
        if (_haveTransit)
        {
            var d = Math.Abs(transit - _lastTransit);
            _jitter += (d - _jitter) / 16.0;
        }

        _lastTransit = transit;
        _haveTransit = true;
        return true;
    }

    /// <summary>Remembers the middle 32 bits of a sender report's NTP time and when it arrived (for LSR/DLSR).</summary>
    public void OnSenderReport(ulong ntpTimestamp, long arrivalMicroseconds)
    {
        _lastSenderReport = (uint)(ntpTimestamp >> 16);
        _lastSenderReportArrival = arrivalMicroseconds;
    }

    /// <summary>
    /// The report block for this source; the fraction lost covers the interval since the previous call
    /// (RFC 3550 A.3). DLSR is in 1/65536 s.
    /// </summary>
    public RtcpReportBlock CreateReportBlock(long nowMicroseconds)
    {
        var expected = PacketsExpected;
        var expectedInterval = expected - _expectedPrior;
        var receivedInterval = _received - _receivedPrior;
        _expectedPrior = expected;
        _receivedPrior = _received;
        var lostInterval = expectedInterval - receivedInterval;
        var fraction = expectedInterval == 0 || lostInterval <= 0 ? (byte)0 : (byte)Math.Min(255, (lostInterval << 8) / expectedInterval);
        var dlsr = _lastSenderReportArrival < 0 ? 0u : (uint)((nowMicroseconds - _lastSenderReportArrival) * 65536 / 1_000_000);
        return new RtcpReportBlock(
            Ssrc, fraction, (int)Math.Clamp(CumulativeLost, -0x800000, 0x7FFFFF), ExtendedHighestSequenceNumber, Jitter,
            _lastSenderReportArrival < 0 ? 0 : _lastSenderReport, dlsr);
    }

    /// <summary>RFC 3550 Appendix A.1 update_seq; the caller counts the packet when this returns true.</summary>
    private bool UpdateSequence(ushort seq)
    {
        if (!_started)
        {
            // A.1: a new source starts on probation, as if the packet before this one had been seen.
            _started = true;
            InitSequence(seq);
            _maxSeq = (ushort)(seq - 1);
            _probation = MinSequential;
        }

        var delta = (ushort)(seq - _maxSeq);
        if (_probation > 0)
        {
            if (seq == (ushort)(_maxSeq + 1))
            {
                _probation--;
                _maxSeq = seq;
                if (_probation == 0)
                {
                    InitSequence(seq);
                    return true;
                }
            }
            else
            {
                _probation = MinSequential - 1;
                _maxSeq = seq;
            }

            return false;
        }

        if (delta < MaxDropout)
        {
            // In order, with a permissible gap.
            if (seq < _maxSeq)
            {
                _cycles += SequenceModulus; // wrapped
            }

            _maxSeq = seq;
        }
        else if (delta <= SequenceModulus - MaxMisorder)
        {
            // A very large jump: accept it only when the next packet confirms it (the sender restarted).
            if (seq == _badSeq)
            {
                InitSequence(seq);
            }
            else
            {
                _badSeq = (uint)((seq + 1) & (SequenceModulus - 1));
                return false;
            }
        }

        // Otherwise a duplicate or reordered packet: counted as received (A.3 lets loss go negative).
        return true;
    }

    private void InitSequence(ushort seq)
    {
        _baseSeq = seq;
        _maxSeq = seq;
        _badSeq = SequenceModulus + 1;
        _cycles = 0;
        _received = 0;
        _expectedPrior = 0;
        _receivedPrior = 0;
    }
}
