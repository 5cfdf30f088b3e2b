using Parley.WebRtc.Rtcp;
using Parley.WebRtc.Rtp;

namespace Parley.WebRtc.Tests.Rtp;

public class NackTrackerTests
{
    private static ushort[] Collect(NackTracker tracker, long now, long rtt = 0, int room = 64)
    {
        var buffer = new ushort[room];
        var n = tracker.CollectNacks(now, rtt, buffer);
        return buffer[..n];
    }

    private static void Feed(NackTracker tracker, long now, params int[] sequenceNumbers)
    {
        foreach (var n in sequenceNumbers)
        {
            tracker.OnPacket((ushort)n, now);
        }
    }

    [Fact]
    public void In_order_packets_leave_nothing_to_request()
    {
        var tracker = new NackTracker();
        Feed(tracker, 0, 100, 101, 102, 103);
        Assert.Equal(0, tracker.MissingCount);
        Assert.Empty(Collect(tracker, 10));
        Assert.Equal((ushort)103, tracker.HighestSequenceNumber);
    }

    [Fact]
    public void A_gap_is_requested_at_once_in_ascending_order()
    {
        var tracker = new NackTracker();
        Feed(tracker, 0, 10, 11, 15);
        Assert.Equal(3, tracker.MissingCount);
        Assert.Equal([12, 13, 14], Collect(tracker, 0));
    }

    [Fact]
    public void A_gap_across_the_wrap_is_requested_in_wrap_order()
    {
        var tracker = new NackTracker();
        Feed(tracker, 0, 65533, 1);
        Assert.Equal([65534, 65535, 0], Collect(tracker, 0));
        Assert.Equal((ushort)1, tracker.HighestSequenceNumber);
    }

    [Fact]
    public void A_late_packet_is_recovered_and_no_longer_requested()
    {
        var tracker = new NackTracker();
        Feed(tracker, 0, 65534, 2);                           // 65535, 0, 1 missing
        Assert.Equal(3, tracker.MissingCount);
        Feed(tracker, 5, 0);                                  // reordered across the wrap
        Assert.Equal(2, tracker.MissingCount);
        Assert.Equal(1, tracker.RecoveredCount);
        Assert.Equal([65535, 1], Collect(tracker, 5));
        Feed(tracker, 40, 65535, 1);                          // retransmissions answer the NACK
        Assert.Equal(0, tracker.MissingCount);
        Assert.Equal(3, tracker.RecoveredCount);
        Assert.Empty(Collect(tracker, 100));
    }

    [Fact]
    public void Duplicates_change_nothing()
    {
        var tracker = new NackTracker();
        Feed(tracker, 0, 1, 2, 4, 4, 2, 1);
        Assert.Equal(1, tracker.MissingCount);
        Assert.Equal(0, tracker.RecoveredCount);
        Assert.Equal([3], Collect(tracker, 0));
    }

    [Fact]
    public void Repeats_wait_for_the_round_trip_time_with_a_floor_of_20_ms()
    {
        var tracker = new NackTracker();
        Feed(tracker, 0, 1, 3);
        Assert.Equal([2], Collect(tracker, 0, rtt: 50));
        Assert.Empty(Collect(tracker, 49, rtt: 50));
        Assert.Equal([2], Collect(tracker, 50, rtt: 50));

        // A tiny or unknown RTT still spaces requests 20 ms apart.
        Assert.Empty(Collect(tracker, 69, rtt: 0));
        Assert.Equal([2], Collect(tracker, 70, rtt: 0));
        Assert.Empty(Collect(tracker, 80, rtt: -5));
    }

    [Fact]
    public void A_new_gap_is_requested_at_once_while_older_ones_wait()
    {
        var tracker = new NackTracker();
        Feed(tracker, 0, 1, 3);
        Assert.Equal([2], Collect(tracker, 0, rtt: 100));
        Feed(tracker, 10, 5);
        Assert.Equal([4], Collect(tracker, 10, rtt: 100));
        Assert.Equal([2, 4], Collect(tracker, 110, rtt: 100));
    }

    [Fact]
    public void A_packet_is_given_up_after_max_retries()
    {
        var tracker = new NackTracker(maxRetries: 3);
        Feed(tracker, 0, 1, 3);
        Assert.Equal([2], Collect(tracker, 0));
        Assert.Equal([2], Collect(tracker, 20));
        Assert.Equal([2], Collect(tracker, 40));
        Assert.Empty(Collect(tracker, 60));
        Assert.Equal(0, tracker.MissingCount);
        Assert.Equal(1, tracker.ForgottenCount);
    }

    [Fact]
    public void A_packet_older_than_the_maximum_age_is_forgotten()
    {
        var tracker = new NackTracker(maxRetries: 1000);
        Feed(tracker, 0, 1, 3);
        Assert.Equal([2], Collect(tracker, 0));
        Assert.Equal([2], Collect(tracker, 1000));            // exactly 1 s old: still requested
        Assert.Empty(Collect(tracker, 1001));
        Assert.Equal(0, tracker.MissingCount);
        Assert.Equal(1, tracker.ForgottenCount);
    }

    [Fact]
    public void Expired_packets_are_also_dropped_when_new_packets_arrive()
    {
        var tracker = new NackTracker(maxAge: TimeSpan.FromMilliseconds(100));
        Feed(tracker, 0, 1, 3);
        Feed(tracker, 50, 6);                                 // 4, 5 missing, 2 still young
        Assert.Equal(3, tracker.MissingCount);
        Feed(tracker, 120, 7);                                // 2 is 120 ms old now
        Assert.Equal(2, tracker.MissingCount);
        Assert.Equal([4, 5], Collect(tracker, 120));
    }

    [Fact]
    public void A_huge_jump_resets_instead_of_requesting_everything()
    {
        var tracker = new NackTracker(capacity: 1000);
        Feed(tracker, 0, 100, 102);
        Assert.Equal(1, tracker.MissingCount);
        Feed(tracker, 10, 102 + 1001);
        Assert.Equal(0, tracker.MissingCount);
        Assert.Empty(Collect(tracker, 10));
        Assert.Equal((ushort)1103, tracker.HighestSequenceNumber);

        // A jump of exactly the threshold is still a gap.
        Feed(tracker, 20, 1103 + 1000);
        Assert.Equal(999, tracker.MissingCount);

        // Backwards beyond the threshold: the sender restarted with lower numbers.
        Feed(tracker, 30, 5, 6, 8);
        Assert.Equal([7], Collect(tracker, 30));
    }

    [Fact]
    public void At_most_capacity_numbers_are_remembered_the_oldest_forgotten_first()
    {
        var tracker = new NackTracker(capacity: 8);
        Feed(tracker, 0, 0, 6);                               // 1..5 missing
        Feed(tracker, 1, 12);                                 // 7..11 missing: 10 in all, keep 8
        Assert.Equal(8, tracker.MissingCount);
        Assert.Equal(2, tracker.ForgottenCount);
        Assert.Equal([3, 4, 5, 7, 8, 9, 10, 11], Collect(tracker, 1));

        // One gap larger than the capacity keeps its newest numbers.
        Feed(tracker, 2, 30);                                 // 13..29 missing
        Assert.Equal(8, tracker.MissingCount);
        Assert.Equal([22, 23, 24, 25, 26, 27, 28, 29], Collect(tracker, 2));
    }

    [Fact]
    public void Numbers_that_do_not_fit_stay_due_for_the_next_call()
    {
        var tracker = new NackTracker();
        Feed(tracker, 0, 0, 6);
        Assert.Equal([1, 2], Collect(tracker, 0, room: 2));
        Assert.Equal([3, 4, 5], Collect(tracker, 0, room: 10));
        Assert.Empty(Collect(tracker, 5, room: 10));
    }

    [Fact]
    public void Reset_forgets_everything()
    {
        var tracker = new NackTracker();
        Feed(tracker, 0, 1, 5);
        tracker.Reset();
        Assert.Equal(0, tracker.MissingCount);
        Assert.Null(tracker.HighestSequenceNumber);
        Feed(tracker, 1, 900, 901);
        Assert.Empty(Collect(tracker, 1));
    }

    [Fact]
    public void Collected_numbers_make_a_nack_that_parses_back_to_them()
    {
        var tracker = new NackTracker();
        Feed(tracker, 0, 65530, 65531, 65535, 3, 40);         // 65532..65534, 0..2, 4..39 missing
        var lost = Collect(tracker, 0);
        Assert.Equal(42, lost.Length);

        var packet = new byte[256];
        var length = RtcpNack.Write(packet, 1, 2, lost);
        var compound = new RtcpCompoundEnumerator(packet.AsSpan(0, length));
        Assert.True(compound.MoveNext());
        Assert.True(RtcpNack.TryParse(compound.Current, out var nack));
        var parsed = new ushort[64];
        var count = nack.GetLostSequenceNumbers(parsed);
        Assert.Equal(lost, parsed[..count]);
    }
}
