using Parley.Sfu.Routing;

namespace Parley.Sfu.Tests.Routing;

public class SequenceRewriterTests
{
    private const uint LayerA = 0xAAAA;
    private const uint LayerB = 0xBBBB;
    private const int Video = 90_000;

    /// <summary>Fixes the "random" initial sequence number and timestamp.</summary>
    private sealed class FixedRandom(int sequence, long timestamp) : Random
    {
        public override int Next(int minValue, int maxValue) => sequence;

        public override long NextInt64(long minValue, long maxValue) => timestamp;
    }

    private static (ushort Sequence, uint Timestamp) Rewrite(SequenceRewriter rewriter, uint ssrc, int sequence, uint timestamp, long now = 0)
    {
        Assert.True(rewriter.TryRewrite(ssrc, (ushort)sequence, timestamp, now, Video, out var outSequence, out var outTimestamp));
        return (outSequence, outTimestamp);
    }

    private static bool Refused(SequenceRewriter rewriter, uint ssrc, int sequence, uint timestamp = 0, long now = 0) =>
        !rewriter.TryRewrite(ssrc, (ushort)sequence, timestamp, now, Video, out _, out _);

    [Fact]
    public void The_first_packet_starts_at_random_values_then_input_steps_are_kept()
    {
        var seeded = new Random(1234);
        var expectedSequence = (ushort)seeded.Next(0, 1 << 16);
        var expectedTimestamp = (uint)seeded.NextInt64(0, 1L << 32);

        var rewriter = new SequenceRewriter(new Random(1234));
        Assert.Null(rewriter.SourceSsrc);
        Assert.Equal((expectedSequence, expectedTimestamp), Rewrite(rewriter, LayerA, 500, 9000));
        Assert.Equal(((ushort)(expectedSequence + 1), expectedTimestamp), Rewrite(rewriter, LayerA, 501, 9000));
        Assert.Equal(((ushort)(expectedSequence + 2), expectedTimestamp + 3000), Rewrite(rewriter, LayerA, 502, 12000));
        Assert.Equal((ushort)(expectedSequence + 2), rewriter.LastOutSequence);
        Assert.Equal(expectedTimestamp + 3000, rewriter.LastOutTimestamp);
        Assert.Equal(3, rewriter.PacketsOut);
        Assert.Equal(LayerA, rewriter.SourceSsrc);
    }

    [Fact]
    public void Two_rewriters_without_a_seed_do_not_start_at_the_same_place()
    {
        // RFC 3550 §5.1 wants unpredictable initial values; 16 + 32 random bits colliding twice in a row would be a bug.
        var starts = Enumerable.Range(0, 3).Select(_ =>
        {
            var rewriter = new SequenceRewriter();
            rewriter.TryRewrite(LayerA, 0, 0, 0, Video, out var sequence, out var timestamp);
            return ((ulong)sequence << 32) | timestamp;
        }).ToHashSet();
        Assert.True(starts.Count > 1);
    }

    [Fact]
    public void Input_and_output_wrap_around_65535_continuously()
    {
        var rewriter = new SequenceRewriter(new FixedRandom(65534, uint.MaxValue - 100));
        var outputs = new List<ushort>();
        var timestamps = new List<uint>();
        for (var n = 65530; n < 65536 + 5; n++)
        {
            var (sequence, timestamp) = Rewrite(rewriter, LayerA, n & 0xFFFF, (uint)(n * 100));
            outputs.Add(sequence);
            timestamps.Add(timestamp);
        }

        Assert.Equal(new ushort[] { 65534, 65535, 0, 1, 2, 3, 4, 5, 6, 7, 8 }, outputs);
        for (var i = 1; i < timestamps.Count; i++)
        {
            Assert.Equal(100u, timestamps[i] - timestamps[i - 1]);  // wraps through uint.MaxValue too
        }
    }

    [Fact]
    public void Packets_of_another_source_are_refused_until_a_switch()
    {
        var rewriter = new SequenceRewriter(new FixedRandom(1000, 0));
        Rewrite(rewriter, LayerA, 10, 0);
        Assert.True(Refused(rewriter, LayerB, 77));
        Assert.Equal(1, rewriter.PacketsOut);
        Assert.Equal((ushort)1001, Rewrite(rewriter, LayerA, 11, 0).Sequence);
    }

    [Fact]
    public void A_layer_switch_continues_sequence_numbers_and_advances_timestamps_by_wall_time()
    {
        var rewriter = new SequenceRewriter(new FixedRandom(100, 50_000));
        // Layer A: 30 fps, one packet per frame, 33,333 µs and 3000 ticks apart.
        for (var i = 0; i < 10; i++)
        {
            Rewrite(rewriter, LayerA, 7000 + i, 1_000_000u + (uint)(3000 * i), i * 33_333L);
        }

        Assert.Equal((ushort)109, rewriter.LastOutSequence);
        Assert.Equal(50_000u + 27_000u, rewriter.LastOutTimestamp);

        // Switch to layer B 20 ms after the last packet of A: its numbers and timestamps are unrelated.
        rewriter.SwitchSource();
        Assert.True(rewriter.SwitchPending);
        var switchTime = (9 * 33_333L) + 20_000;
        var first = Rewrite(rewriter, LayerB, 40_000, 123, switchTime);
        Assert.Equal((ushort)110, first.Sequence);
        Assert.Equal(50_000u + 27_000u + 1800u, first.Timestamp);   // 20 ms at 90 kHz
        Assert.False(rewriter.SwitchPending);
        Assert.Equal(LayerB, rewriter.SourceSsrc);

        // B's own steps are kept from then on.
        var second = Rewrite(rewriter, LayerB, 40_001, 123 + 3000, switchTime + 33_333);
        Assert.Equal((ushort)111, second.Sequence);
        Assert.Equal(first.Timestamp + 3000, second.Timestamp);

        // A is now the other source.
        Assert.True(Refused(rewriter, LayerA, 7010, 1_030_000));
    }

    [Fact]
    public void A_switch_without_elapsed_time_still_moves_the_timestamp_forward()
    {
        var rewriter = new SequenceRewriter(new FixedRandom(0, 1000));
        Rewrite(rewriter, LayerA, 1, 5, now: 100);
        rewriter.SwitchSource();
        Assert.Equal(((ushort)1, 1001u), Rewrite(rewriter, LayerB, 9, 999_999, now: 100));
        rewriter.SwitchSource();
        Assert.Equal(((ushort)2, 1002u), Rewrite(rewriter, LayerA, 2, 5, now: 50)); // the clock went back: still +1
    }

    [Fact]
    public void Many_switches_keep_the_output_continuous_and_increasing()
    {
        var rewriter = new SequenceRewriter(new FixedRandom(65000, uint.MaxValue - 1_000_000));
        var random = new Random(7);
        var now = 0L;
        ushort? lastSequence = null;
        uint? lastTimestamp = null;
        for (var run = 0; run < 20; run++)
        {
            var ssrc = (uint)random.Next();
            var sequence = random.Next(0, 1 << 16);
            var timestamp = (uint)random.NextInt64(0, 1L << 32);
            rewriter.SwitchSource();
            for (var i = 0; i < 200; i++)
            {
                now += 10_000;
                var (outSequence, outTimestamp) = Rewrite(rewriter, ssrc, (sequence + i) & 0xFFFF, unchecked(timestamp + (uint)(900 * i)), now);
                if (lastSequence is { } previous)
                {
                    Assert.Equal((ushort)(previous + 1), outSequence);
                    var step = unchecked(outTimestamp - lastTimestamp!.Value);
                    Assert.InRange(step, 1u, 900u);
                }

                lastSequence = outSequence;
                lastTimestamp = outTimestamp;
            }
        }
    }

    [Fact]
    public void Reordered_and_duplicate_packets_map_to_the_numbers_they_would_have_had()
    {
        var rewriter = new SequenceRewriter(new FixedRandom(0, 0));
        Assert.Equal(((ushort)0, 0u), Rewrite(rewriter, LayerA, 65535, 100));
        Assert.Equal(((ushort)3, 300u), Rewrite(rewriter, LayerA, 2, 400));
        Assert.Equal(((ushort)1, 100u), Rewrite(rewriter, LayerA, 0, 200));      // late, across the wrap
        Assert.Equal(((ushort)2, 200u), Rewrite(rewriter, LayerA, 1, 300));
        Assert.Equal(((ushort)2, 200u), Rewrite(rewriter, LayerA, 1, 300));      // duplicate
        Assert.Equal((ushort)3, rewriter.LastOutSequence);                          // late ones do not move it back
        Assert.Equal(300u, rewriter.LastOutTimestamp);
        Assert.Equal(5, rewriter.PacketsOut);
    }

    [Fact]
    public void A_packet_from_before_the_start_of_the_mapping_is_refused()
    {
        var rewriter = new SequenceRewriter(new FixedRandom(10, 0));
        Rewrite(rewriter, LayerA, 100, 0);
        Rewrite(rewriter, LayerA, 101, 0);
        rewriter.SwitchSource();
        Rewrite(rewriter, LayerA, 200, 0);                                        // same source, new mapping
        Assert.True(Refused(rewriter, LayerA, 199));
        Assert.True(Refused(rewriter, LayerA, 101));
        Assert.Equal((ushort)13, Rewrite(rewriter, LayerA, 201, 0).Sequence);
    }

    [Fact]
    public void Dropped_packets_leave_no_gap_in_the_output()
    {
        var rewriter = new SequenceRewriter(new FixedRandom(0, 0));
        Assert.Equal((ushort)0, Rewrite(rewriter, LayerA, 10, 0).Sequence);
        Assert.Equal((ushort)1, Rewrite(rewriter, LayerA, 11, 0).Sequence);
        rewriter.MarkDropped(12);                                                 // padding only
        rewriter.MarkDropped(13);
        Assert.Equal((ushort)3, Rewrite(rewriter, LayerA, 15, 0).Sequence);        // 14 lost so far: out 2 is its
        Assert.Equal((ushort)2, Rewrite(rewriter, LayerA, 14, 0).Sequence);        // late, between the drops and 15
        Assert.True(Refused(rewriter, LayerA, 12));                                // a dropped packet again
        Assert.Equal((ushort)3, rewriter.LastOutSequence);
    }

    [Fact]
    public void A_drop_of_a_packet_older_than_the_newest_is_ignored()
    {
        var rewriter = new SequenceRewriter(new FixedRandom(0, 0));
        Rewrite(rewriter, LayerA, 10, 0);
        Rewrite(rewriter, LayerA, 12, 0);                                          // out 2
        rewriter.MarkDropped(11);                                                  // too late: 12 went out as 2
        rewriter.MarkDropped(12);                                                  // already sent
        Assert.Equal((ushort)3, Rewrite(rewriter, LayerA, 13, 0).Sequence);
        Assert.Equal((ushort)1, Rewrite(rewriter, LayerA, 11, 0).Sequence);
    }

    [Fact]
    public void A_drop_before_the_first_packet_of_a_mapping_changes_nothing()
    {
        var rewriter = new SequenceRewriter(new FixedRandom(0, 0));
        rewriter.MarkDropped(5);
        Assert.Equal((ushort)0, Rewrite(rewriter, LayerA, 6, 0).Sequence);
        rewriter.SwitchSource();
        rewriter.MarkDropped(80);                                                  // the new layer's first packet is padding
        Assert.Equal((ushort)1, Rewrite(rewriter, LayerB, 81, 0).Sequence);
        Assert.Equal((ushort)2, Rewrite(rewriter, LayerB, 82, 0).Sequence);
    }

    [Fact]
    public void Output_numbers_map_back_to_the_source_across_drops_and_one_switch()
    {
        var rewriter = new SequenceRewriter(new FixedRandom(65534, 0));
        Rewrite(rewriter, LayerA, 100, 0);                                         // out 65534
        rewriter.MarkDropped(101);
        Rewrite(rewriter, LayerA, 102, 0);                                         // out 65535
        Rewrite(rewriter, LayerA, 104, 0);                                         // out 1 (103 lost: out 0)
        rewriter.SwitchSource();
        Rewrite(rewriter, LayerB, 9000, 0);                                        // out 2
        Rewrite(rewriter, LayerB, 9001, 0);                                        // out 3

        AssertMaps(rewriter, 65534, LayerA, 100);
        AssertMaps(rewriter, 65535, LayerA, 102);
        AssertMaps(rewriter, 0, LayerA, 103);                                      // lost upstream: the consumer may ask the publisher
        AssertMaps(rewriter, 1, LayerA, 104);
        AssertMaps(rewriter, 2, LayerB, 9000);
        AssertMaps(rewriter, 3, LayerB, 9001);
        Assert.False(rewriter.TryMapToSource(4, out _, out _));                  // not sent yet
        Assert.False(rewriter.TryMapToSource(65533, out _, out _));              // before the first packet

        // After a second switch, layer A's mapping is two back and forgotten.
        rewriter.SwitchSource();
        Rewrite(rewriter, LayerA, 500, 0);                                         // out 4
        Assert.False(rewriter.TryMapToSource(65535, out _, out _));
        AssertMaps(rewriter, 3, LayerB, 9001);
        AssertMaps(rewriter, 4, LayerA, 500);
    }

    private static void AssertMaps(SequenceRewriter rewriter, ushort outSequence, uint ssrc, ushort sequence)
    {
        Assert.True(rewriter.TryMapToSource(outSequence, out var sourceSsrc, out var sourceSequence));
        Assert.Equal((ssrc, sequence), (sourceSsrc, sourceSequence));
    }

    [Fact]
    public void A_big_jump_restarts_the_mapping_only_when_the_next_packet_confirms_it()
    {
        var rewriter = new SequenceRewriter(new FixedRandom(0, 0));
        Rewrite(rewriter, LayerA, 1000, 0, now: 0);
        Rewrite(rewriter, LayerA, 1001, 3000, now: 33_333);

        // A stray packet far ahead is refused and does not disturb the stream.
        Assert.True(Refused(rewriter, LayerA, 30_000, 0, now: 40_000));
        Assert.Equal((ushort)2, Rewrite(rewriter, LayerA, 1002, 6000, now: 66_666).Sequence);

        // The publisher restarted its numbering: the first packet is refused, the second confirms it.
        Assert.True(Refused(rewriter, LayerA, 50_000, 777, now: 100_000));
        var restarted = Rewrite(rewriter, LayerA, 50_001, 777, now: 100_000);
        Assert.Equal((ushort)3, restarted.Sequence);
        Assert.Equal(6000u + 3000u, restarted.Timestamp);                          // 33,334 µs later at 90 kHz
        Assert.Equal((ushort)4, Rewrite(rewriter, LayerA, 50_002, 777 + 3000, now: 133_333).Sequence);
        AssertMaps(rewriter, 3, LayerA, 50_001);
        AssertMaps(rewriter, 2, LayerA, 1002);                                     // the mapping before is kept
    }

    [Fact]
    public void Packets_older_than_the_remembered_drops_are_refused()
    {
        var rewriter = new SequenceRewriter(new FixedRandom(0, 0));
        Rewrite(rewriter, LayerA, 0, 0);
        // Every odd packet is padding: 150 separate runs of drops, more than the 128 remembered.
        for (var n = 1; n <= 300; n++)
        {
            if (n % 2 == 1)
            {
                rewriter.MarkDropped((ushort)n);
            }
            else
            {
                Assert.Equal((ushort)(n / 2), Rewrite(rewriter, LayerA, n, 0).Sequence);
            }
        }

        Assert.True(Refused(rewriter, LayerA, 2));                                 // its shift is no longer known
        Assert.False(rewriter.TryMapToSource(1, out _, out _));
        Assert.Equal((ushort)145, Rewrite(rewriter, LayerA, 290, 0).Sequence);    // recent ones still map
        AssertMaps(rewriter, 145, LayerA, 290);
        AssertMaps(rewriter, 150, LayerA, 300);
    }

    [Fact]
    public void A_burst_of_padding_is_remembered_as_one_run()
    {
        var rewriter = new SequenceRewriter(new FixedRandom(0, 0));
        Rewrite(rewriter, LayerA, 0, 0);
        Rewrite(rewriter, LayerA, 1, 0);
        for (var n = 2; n < 1002; n++)
        {
            rewriter.MarkDropped((ushort)n);                                       // a bandwidth probe
        }

        Assert.Equal((ushort)2, Rewrite(rewriter, LayerA, 1002, 0).Sequence);
        Assert.Equal((ushort)1, Rewrite(rewriter, LayerA, 1, 0).Sequence);        // retransmitted after a NACK
        Assert.True(Refused(rewriter, LayerA, 500));
        AssertMaps(rewriter, 0, LayerA, 0);
        AssertMaps(rewriter, 2, LayerA, 1002);
    }

    [Fact]
    public void A_random_stream_with_loss_reordering_and_drops_stays_consistent()
    {
        var random = new Random(42);
        var rewriter = new SequenceRewriter(new FixedRandom(60_000, 0));
        const int Total = 3000;
        var dropped = new HashSet<int>();
        var output = new Dictionary<int, ushort>();
        var arrival = Enumerable.Range(0, Total).Where(_ => random.NextDouble() > 0.03).ToArray(); // 3 % lost
        for (var i = 0; i + 1 < arrival.Length; i++)
        {
            if (random.NextDouble() < 0.05)
            {
                (arrival[i], arrival[i + 1]) = (arrival[i + 1], arrival[i]);       // 5 % swapped with the next
            }
        }

        var highest = -1;
        foreach (var n in arrival)
        {
            var sequence = (ushort)(n + 65_000);                                  // wraps at n = 536
            if (n > highest && random.NextDouble() < 0.1)
            {
                rewriter.MarkDropped(sequence);
                dropped.Add(n);
            }
            else if (rewriter.TryRewrite(LayerA, sequence, 0, 0, Video, out var outSequence, out _))
            {
                output[n] = outSequence;
                Assert.True(rewriter.TryRewrite(LayerA, sequence, 0, 0, Video, out var again, out _)); // duplicate
                Assert.Equal(outSequence, again);
                AssertMaps(rewriter, outSequence, LayerA, sequence);              // a NACK for it maps back
            }

            highest = Math.Max(highest, n);
        }

        // Output numbers follow source order, skipping exactly the dropped packets, with no gaps otherwise.
        var expected = 60_000;
        var first = output.Keys.Min();
        for (var n = first; n < Total; n++)
        {
            if (dropped.Contains(n))
            {
                continue;
            }

            if (output.TryGetValue(n, out var outSequence))
            {
                Assert.Equal((ushort)expected, outSequence);
            }

            expected++;
        }

        Assert.Equal(output.Count * 2, rewriter.PacketsOut);
    }

    [Fact]
    public void Switching_before_any_packet_changes_nothing()
    {
        var rewriter = new SequenceRewriter(new FixedRandom(5, 6));
        rewriter.SwitchSource();
        Assert.False(rewriter.SwitchPending);
        Assert.Equal(((ushort)5, 6u), Rewrite(rewriter, LayerA, 1, 0));
        Assert.False(rewriter.TryMapToSource(4, out _, out _));
    }

    [Fact]
    public void Rewriting_does_not_allocate()
    {
        var rewriter = new SequenceRewriter(new FixedRandom(0, 0));
        Rewrite(rewriter, LayerA, 0, 0);
        rewriter.MarkDropped(1);
        Rewrite(rewriter, LayerA, 2, 0);
        rewriter.TryMapToSource(1, out _, out _);
        rewriter.SwitchSource();

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var n = 3; n < 10_000; n++)
        {
            if (n % 1000 == 0)
            {
                rewriter.SwitchSource();
            }

            if (n % 7 == 0)
            {
                rewriter.MarkDropped((ushort)n);
            }
            else
            {
                rewriter.TryRewrite(LayerA, (ushort)n, (uint)n, n, Video, out var outSequence, out _);
                rewriter.TryMapToSource(outSequence, out _, out _);
            }
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }
}
