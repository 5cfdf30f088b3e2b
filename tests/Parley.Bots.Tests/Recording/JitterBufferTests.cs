using Parley.Bots.Recording;

namespace Parley.Bots.Tests.Recording;

public sealed class JitterBufferTests
{
    private const uint Ssrc = 0x1234;
    private static readonly JitterBufferOptions Options = new() { MaxDelay = TimeSpan.FromMilliseconds(200), Capacity = 16 };

    private readonly Collector _out = new();

    [Fact]
    public void Packets_in_order_pass_straight_through()
    {
        var buffer = new JitterBuffer(Options, _out);
        for (ushort seq = 100; seq < 105; seq++)
        {
            Assert.Equal(JitterBufferInsertResult.Accepted, buffer.Insert(Packet(seq), 0));
        }

        Assert.Equal(["start4660", "p100", "p101", "p102", "p103", "p104"], _out.Events);
        Assert.Equal(0, buffer.BufferedCount);
        Assert.Null(buffer.NextDeadline);
    }

    [Fact]
    public void Reordered_packets_come_out_in_sequence_order()
    {
        var buffer = new JitterBuffer(Options, _out);
        buffer.Insert(Packet(10), 0);
        buffer.Insert(Packet(12), 1);
        buffer.Insert(Packet(13), 2);
        Assert.Equal([10], _out.Sequences);
        Assert.Equal(2, buffer.BufferedCount);
        Assert.Equal(201, buffer.NextDeadline);

        buffer.Insert(Packet(11), 3);
        Assert.Equal([10, 11, 12, 13], _out.Sequences);
        Assert.Equal(0, buffer.PacketsLost);
    }

    [Fact]
    public void A_gap_is_given_up_after_the_delay_and_counted_as_lost()
    {
        var buffer = new JitterBuffer(Options, _out);
        buffer.Insert(Packet(1), 0);
        buffer.Insert(Packet(4), 10);
        buffer.Insert(Packet(5), 20);
        buffer.Poll(209);
        Assert.Equal([1], _out.Sequences);

        buffer.Poll(210);
        Assert.Equal(["start4660", "p1", "loss2", "p4", "p5"], _out.Events);
        Assert.Equal(2, buffer.PacketsLost);

        // The missing packets arriving now are too late: already given up.
        Assert.Equal(JitterBufferInsertResult.TooLate, buffer.Insert(Packet(2), 300));
        Assert.Equal(1, buffer.LatePackets);
    }

    [Fact]
    public void Missing_packets_are_offered_for_nack_until_they_arrive()
    {
        var buffer = new JitterBuffer(Options, _out);
        buffer.Insert(Packet(1), 0);
        buffer.Insert(Packet(4), 0);
        Span<ushort> nacks = stackalloc ushort[8];
        var count = buffer.CollectNacks(0, 50, nacks);
        Assert.Equal([2, 3], nacks[..count].ToArray());

        buffer.Insert(Packet(2), 30);
        buffer.Insert(Packet(3), 31);
        Assert.Equal(0, buffer.CollectNacks(200, 50, nacks));
        Assert.Equal([1, 2, 3, 4], _out.Sequences);
    }

    [Fact]
    public void Sequence_numbers_wrap_from_65535_to_0()
    {
        var buffer = new JitterBuffer(Options, _out);
        buffer.Insert(Packet(65534), 0);
        buffer.Insert(Packet(0), 1);
        buffer.Insert(Packet(65535), 2);
        buffer.Insert(Packet(2), 3);
        buffer.Insert(Packet(1), 4);
        Assert.Equal([65534, 65535, 0, 1, 2], _out.Sequences);
        Assert.Equal(0, buffer.Restarts);
    }

    [Fact]
    public void Duplicates_are_dropped_whether_buffered_or_already_emitted()
    {
        var buffer = new JitterBuffer(Options, _out);
        buffer.Insert(Packet(1), 0);
        buffer.Insert(Packet(3), 0);
        Assert.Equal(JitterBufferInsertResult.Duplicate, buffer.Insert(Packet(3), 1));
        Assert.Equal(JitterBufferInsertResult.Duplicate, buffer.Insert(Packet(1), 1));
        buffer.Insert(Packet(2), 2);
        Assert.Equal(JitterBufferInsertResult.Duplicate, buffer.Insert(Packet(2), 3));
        Assert.Equal([1, 2, 3], _out.Sequences);
        Assert.Equal(3, buffer.Duplicates);
    }

    [Fact]
    public void A_new_ssrc_flushes_the_old_stream_and_starts_a_new_sequence_space()
    {
        var buffer = new JitterBuffer(Options, _out);
        buffer.Insert(Packet(100), 0);
        buffer.Insert(Packet(102), 1); // 101 missing
        Assert.Equal(JitterBufferInsertResult.Restarted, buffer.Insert(Packet(7, ssrc: 99), 2));
        buffer.Insert(Packet(8, ssrc: 99), 3);
        Assert.Equal(["start4660", "p100", "loss1", "p102", "start99", "p7", "p8"], _out.Events);
        Assert.Equal(99u, buffer.Ssrc);
        Assert.Equal(1, buffer.Restarts);
    }

    [Fact]
    public void A_large_jump_on_the_same_ssrc_is_a_renumbering()
    {
        var buffer = new JitterBuffer(Options, _out);
        buffer.Insert(Packet(100), 0);
        Assert.Equal(JitterBufferInsertResult.Restarted, buffer.Insert(Packet(30_000), 1));
        buffer.Insert(Packet(30_001), 2);
        Assert.Equal(["start4660", "p100", "start4660", "p30000", "p30001"], _out.Events);
        Assert.Equal(0, buffer.PacketsLost);
    }

    [Fact]
    public void A_packet_beyond_the_window_forces_the_oldest_gaps_out()
    {
        var buffer = new JitterBuffer(Options, _out); // 16 slots
        buffer.Insert(Packet(1), 0);
        buffer.Insert(Packet(3), 0);
        buffer.Insert(Packet(30), 0); // 30 - 2 > 15: 2 is given up, 3 emitted, 4..14 given up
        Assert.Equal(["start4660", "p1", "loss1", "p3", "loss11"], _out.Events);
        buffer.Insert(Packet(15), 1);
        Assert.Equal(15, _out.Sequences[^1]);
        buffer.Flush();
        Assert.Equal(["start4660", "p1", "loss1", "p3", "loss11", "p15", "loss14", "p30"], _out.Events);
    }

    [Fact]
    public void Malformed_and_oversized_packets_are_dropped_without_throwing()
    {
        var buffer = new JitterBuffer(Options with { MaxPacketSize = 100 }, _out);
        Assert.Equal(JitterBufferInsertResult.Dropped, buffer.Insert([0x80, 0x60, 0x00], 0));
        Assert.Equal(JitterBufferInsertResult.Dropped, buffer.Insert(new byte[12], 0)); // version 0
        Assert.Equal(JitterBufferInsertResult.Dropped, buffer.Insert(Rtp.Packet(1, 0, Ssrc, new byte[200]), 0));
        Assert.Equal(3, buffer.DroppedPackets);
        Assert.Empty(_out.Events);
    }

    [Fact]
    public void The_emitted_packet_is_the_inserted_packet()
    {
        var buffer = new JitterBuffer(Options, new PayloadCheck());
        buffer.Insert(Rtp.Packet(5, 1234, Ssrc, [9, 8, 7], marker: true), 0);
    }

    [Fact]
    public void Inserting_allocates_nothing_after_warm_up()
    {
        var buffer = new JitterBuffer(JitterBufferOptions.Video, new NullOutput());
        var packets = Enumerable.Range(0, 256).Select(i => Rtp.Packet((ushort)(65_400 + i), (uint)i * 3000, Ssrc, new byte[1000])).ToArray();
        for (var round = 0; round < 2; round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < packets.Length; i += 2)
            {
                // Pairs swapped: every second packet waits for the one before it.
                buffer.Insert(packets[i + 1], i);
                buffer.Insert(packets[i], i);
            }

            buffer.Poll(10_000);
            if (round == 1)
            {
                Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            }

            packets = [.. packets.Select(p => Renumber(p, 256))];
        }
    }

    private static byte[] Packet(ushort sequence, uint ssrc = Ssrc) => Rtp.Packet(sequence, sequence * 960u, ssrc, [1, 2, 3]);

    private static byte[] Renumber(byte[] packet, int by)
    {
        var copy = (byte[])packet.Clone();
        var seq = (ushort)((copy[2] << 8 | copy[3]) + by);
        copy[2] = (byte)(seq >> 8);
        copy[3] = (byte)seq;
        return copy;
    }

    private sealed class NullOutput : IJitterBufferOutput
    {
        public void OnPacket(WebRtc.Rtp.RtpPacket packet)
        {
        }

        public void OnLoss(int count)
        {
        }

        public void OnStreamStart(uint ssrc)
        {
        }
    }

    private sealed class PayloadCheck : IJitterBufferOutput
    {
        public void OnPacket(WebRtc.Rtp.RtpPacket packet)
        {
            Assert.Equal(5, packet.SequenceNumber);
            Assert.Equal(1234u, packet.Timestamp);
            Assert.True(packet.Marker);
            Assert.Equal([9, 8, 7], packet.Payload.ToArray());
        }

        public void OnLoss(int count) => Assert.Fail("no loss expected");

        public void OnStreamStart(uint ssrc) => Assert.Equal(Ssrc, ssrc);
    }
}
