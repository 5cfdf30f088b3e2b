using Parley.WebRtc.Rtcp;
using Parley.WebRtc.Rtp;

namespace Parley.Loadtest;

/// <summary>One incoming stream (a subscribed track) of a client.</summary>
internal sealed class ReceivedStream(string kind, int clockRate)
{
    public string Kind { get; } = kind;

    public int ClockRate { get; } = clockRate;

    public uint Ssrc { get; set; }

    public RtpReceiveStatistics? Statistics { get; set; }

    /// <summary>Statistics of earlier SSRCs of this track (the sender restarted): kept for the totals.</summary>
    public long PreviousExpected { get; set; }

    public long PreviousReceived { get; set; }

    public NackTracker Nacks { get; } = new();

    public long Packets { get; set; }

    public long Bytes { get; set; }
}

/// <summary>
/// The receiving side of one client (issue 8): per stream the RFC 3550 statistics (loss, jitter), a NACK
/// tracker, packet and byte counts, and one delay histogram from the publishers' send stamps. Feedback
/// (<see cref="Tick"/>, every 20 ms from the feedback thread): generic NACKs for gaps (RFC 4585 §6.2.1),
/// and once a second a receiver report for every stream plus a REMB of a generous estimate so the server
/// forwards the top simulcast layer. Packet handling allocates nothing; one lock per client, contended
/// only by its own feedback tick.
/// </summary>
internal sealed class MediaReceiver
{
    /// <summary>What the REMB announces: far above any test bitrate, the server's choice stays the top layer.</summary>
    public const ulong RembBitrate = 20_000_000;
    private const int MaxBlocks = 31;
    private readonly Lock _lock = new();
    private readonly List<ReceivedStream> _streams = [];
    private readonly byte[] _rtcp = new byte[1500];
    private long _nextReport;

    public LatencyHistogram Delay { get; } = new();

    public long NacksSent { get; private set; }

    public long Packets { get; private set; }

    public long Bytes { get; private set; }

    public ReceivedStream AddStream(string kind, int clockRate)
    {
        var stream = new ReceivedStream(kind, clockRate);
        lock (_lock)
        {
            _streams.Add(stream);
        }

        return stream;
    }

    /// <summary>An RTP packet of <paramref name="stream"/> (socket thread).</summary>
    public void OnRtp(ReceivedStream stream, ReadOnlySpan<byte> packet)
    {
        if (!RtpPacket.TryParse(packet, out var rtp))
        {
            return;
        }

        var now = LoadClock.NowMicroseconds;
        var stamp = SyntheticPublisher.ReadStamp(rtp.Payload);
        lock (_lock)
        {
            if (stream.Ssrc != rtp.Ssrc || stream.Statistics is null)
            {
                if (stream.Statistics is { } old)
                {
                    stream.PreviousExpected += old.PacketsExpected;
                    stream.PreviousReceived += old.PacketsReceived;
                }

                stream.Ssrc = rtp.Ssrc;
                stream.Statistics = new RtpReceiveStatistics(rtp.Ssrc, stream.ClockRate);
                stream.Nacks.Reset();
            }

            stream.Statistics.OnPacket(rtp.SequenceNumber, rtp.Timestamp, now);
            stream.Nacks.OnPacket(rtp.SequenceNumber, now / 1000);
            stream.Packets++;
            stream.Bytes += packet.Length;
            Packets++;
            Bytes += packet.Length;
            if (stamp >= 0)
            {
                Delay.Record(now - stamp);
            }
        }
    }

    /// <summary>NACKs due now; every second a receiver report and a REMB. <paramref name="send"/> protects and sends.</summary>
    public void Tick(long now, RtpSender send)
    {
        Span<ushort> lost = stackalloc ushort[64];
        Span<RtcpReportBlock> blocks = stackalloc RtcpReportBlock[MaxBlocks];
        Span<uint> ssrcs = stackalloc uint[MaxBlocks];
        lock (_lock)
        {
            foreach (var stream in _streams)
            {
                if (stream.Statistics is null)
                {
                    continue;
                }

                var count = stream.Nacks.CollectNacks(now / 1000, 20, lost);
                if (count > 0)
                {
                    var length = RtcpNack.Write(_rtcp, 1, stream.Ssrc, lost[..count]);
                    send(_rtcp, length);
                    NacksSent++;
                }
            }

            if (now < _nextReport)
            {
                return;
            }

            _nextReport = now + 1_000_000;
            var blockCount = 0;
            foreach (var stream in _streams)
            {
                if (stream.Statistics is { } statistics && blockCount < MaxBlocks)
                {
                    ssrcs[blockCount] = stream.Ssrc;
                    blocks[blockCount++] = statistics.CreateReportBlock(now);
                }
            }

            if (blockCount == 0)
            {
                return;
            }

            var total = RtcpReceiverReport.Write(_rtcp, 1, blocks[..blockCount]);
            total += RtcpRemb.Write(_rtcp.AsSpan(total), 1, RembBitrate, ssrcs[..blockCount]);
            send(_rtcp, total);
        }
    }

    /// <summary>Totals over every stream: expected and received packets (RFC 3550 A.3), jitter in ms.</summary>
    public ReceiveTotals Totals()
    {
        lock (_lock)
        {
            long expected = 0, received = 0;
            double jitterSum = 0, jitterMax = 0;
            var jitterCount = 0;
            foreach (var stream in _streams)
            {
                expected += stream.PreviousExpected;
                received += stream.PreviousReceived;
                if (stream.Statistics is { IsValid: true } statistics)
                {
                    expected += statistics.PacketsExpected;
                    received += statistics.PacketsReceived;
                    var jitter = statistics.Jitter * 1000.0 / stream.ClockRate;
                    jitterSum += jitter;
                    jitterMax = Math.Max(jitterMax, jitter);
                    jitterCount++;
                }
            }

            return new ReceiveTotals(Packets, Bytes, expected, received, jitterSum, jitterCount, jitterMax, NacksSent, _streams.Count);
        }
    }

    /// <summary>Merges this client's delay histogram into <paramref name="into"/>.</summary>
    public void AddDelayTo(LatencyHistogram into)
    {
        lock (_lock)
        {
            into.Add(Delay);
        }
    }
}

/// <summary>What one client received: packets and bytes, expected vs received (for loss), jitter.</summary>
internal readonly record struct ReceiveTotals(long Packets, long Bytes, long Expected, long ValidReceived, double JitterSumMs, int JitterStreams, double JitterMaxMs, long NacksSent, int Streams);
