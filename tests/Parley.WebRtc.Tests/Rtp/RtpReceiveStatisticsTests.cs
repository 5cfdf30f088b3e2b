using Parley.WebRtc.Rtp;

namespace Parley.WebRtc.Tests.Rtp;

public class RtpReceiveStatisticsTests
{
    // 50 packets per second of 20 ms audio at 48 kHz: 960 timestamp units and 20,000 µs apart.
    private static void Feed(RtpReceiveStatistics stats, IEnumerable<int> sequence, Func<int, long>? jitterMicroseconds = null)
    {
        foreach (var n in sequence)
        {
            stats.OnPacket((ushort)n, (uint)(n * 960), (n * 20_000L) + (jitterMicroseconds?.Invoke(n) ?? 0));
        }
    }

    [Fact]
    public void Probation_then_counting_across_the_sequence_wrap()
    {
        var stats = new RtpReceiveStatistics(7, 48000);
        Assert.False(stats.OnPacket(65530, 0, 0));              // first packet: probation
        Assert.True(stats.OnPacket(65531, 960, 20_000));        // second in sequence: valid
        Assert.True(stats.IsValid);
        Feed(stats, Enumerable.Range(65532, 14));               // 65532 .. 65545 → wraps past 65535
        Assert.Equal((uint)(65536 + 9), stats.ExtendedHighestSequenceNumber);
        Assert.Equal(15, stats.PacketsReceived);                // A.1 counts from the validating packet
        Assert.Equal(15, stats.PacketsExpected);
        Assert.Equal(0, stats.CumulativeLost);
    }

    [Fact]
    public void Losses_duplicates_and_fraction_lost_per_interval()
    {
        var stats = new RtpReceiveStatistics(7, 48000);
        Feed(stats, Enumerable.Range(0, 100).Where(n => n % 10 != 5)); // 10 lost of 99 expected after validation
        var block = stats.CreateReportBlock(2_000_000);
        Assert.Equal(7u, block.Ssrc);
        Assert.Equal(10, block.CumulativeLost);
        Assert.Equal(99u, block.HighestSequenceNumber);
        Assert.Equal((byte)(10 * 256 / 99), block.FractionLost);

        Feed(stats, [100, 101, 101, 102]);                       // a duplicate: more received than expected
        block = stats.CreateReportBlock(2_100_000);
        Assert.Equal(0, block.FractionLost);
        Assert.Equal(9, block.CumulativeLost);
    }

    [Fact]
    public void Jitter_is_zero_for_perfect_spacing_and_tracks_alternating_delay()
    {
        var steady = new RtpReceiveStatistics(1, 48000);
        Feed(steady, Enumerable.Range(0, 200));
        Assert.Equal(0u, steady.Jitter);

        // Every other packet 2 ms late: |D| alternates 96 timestamp units; J converges towards 96.
        var jittery = new RtpReceiveStatistics(1, 48000);
        Feed(jittery, Enumerable.Range(0, 400), n => n % 2 == 0 ? 0 : 2_000);
        Assert.InRange(jittery.Jitter, 90u, 96u);
    }

    [Fact]
    public void A_restarted_sender_is_accepted_after_two_packets_confirm_the_jump()
    {
        var stats = new RtpReceiveStatistics(1, 90000);
        Feed(stats, Enumerable.Range(0, 10));
        Assert.False(stats.OnPacket(30_000, 0, 1_000_000));      // big jump: not believed yet
        Assert.True(stats.OnPacket(30_001, 0, 1_020_000));       // confirmed: statistics restart
        Assert.Equal(30_001u, stats.ExtendedHighestSequenceNumber);
        Assert.Equal(1, stats.PacketsReceived);
    }

    [Fact]
    public void Lsr_and_dlsr_come_from_the_last_sender_report()
    {
        var stats = new RtpReceiveStatistics(1, 90000);
        Feed(stats, [0, 1, 2]);
        Assert.Equal(0u, stats.CreateReportBlock(0).LastSenderReport);
        stats.OnSenderReport(0x1234_5678_9ABC_DEF0, 1_000_000);
        var block = stats.CreateReportBlock(1_500_000);
        Assert.Equal(0x5678_9ABCu, block.LastSenderReport);
        Assert.Equal(32768u, block.DelaySinceLastSenderReport); // 0.5 s in 1/65536 s
    }
}
