using Parley.Sfu.Routing;

namespace Parley.Sfu.Tests.Routing;

public class RetransmissionBufferTests
{
    private static byte[] Packet(ushort sequenceNumber, int length = 100)
    {
        var packet = new byte[length];
        packet[0] = 0x80;
        packet[2] = (byte)(sequenceNumber >> 8);
        packet[3] = (byte)sequenceNumber;
        for (var i = 12; i < length; i++)
        {
            packet[i] = (byte)(sequenceNumber + i);
        }

        return packet;
    }

    private static byte[]? Get(RetransmissionBuffer buffer, ushort sequenceNumber, long now)
    {
        var destination = new byte[1500];
        return buffer.TryGet(sequenceNumber, now, destination, out var length) ? destination[..length] : null;
    }

    [Fact]
    public void Returns_a_copy_of_the_stored_packet()
    {
        var buffer = new RetransmissionBuffer();
        var packet = Packet(7, 321);
        buffer.Store(packet, 7, 0);
        var expected = packet.ToArray();
        Array.Clear(packet);                                  // the caller reuses its receive buffer
        Assert.Equal(expected, Get(buffer, 7, 10));
        Assert.Equal(1, buffer.Count);
    }

    [Fact]
    public void A_packet_never_stored_is_absent()
    {
        var buffer = new RetransmissionBuffer();
        Assert.Null(Get(buffer, 7, 0));
        buffer.Store(Packet(8), 8, 0);
        Assert.Null(Get(buffer, 7, 0));
        Assert.Null(Get(buffer, 8 + 1024, 0));                // same slot, other number
    }

    [Fact]
    public void A_newer_packet_overwrites_the_slot_of_an_older_one()
    {
        var buffer = new RetransmissionBuffer(capacity: 4);
        for (ushort n = 0; n <= 4; n++)
        {
            buffer.Store(Packet(n), n, n);
        }

        Assert.Null(Get(buffer, 0, 10));
        Assert.Equal(Packet(4), Get(buffer, 4, 10));
        Assert.Equal(Packet(1), Get(buffer, 1, 10));
        Assert.Equal(4, buffer.Count);
    }

    [Fact]
    public void The_wrap_from_65535_to_0_keeps_the_last_capacity_packets()
    {
        var buffer = new RetransmissionBuffer(capacity: 4);
        foreach (var n in new ushort[] { 65533, 65534, 65535, 0, 1 })
        {
            buffer.Store(Packet(n), n, 0);
        }

        Assert.Null(Get(buffer, 65533, 0));
        foreach (var n in new ushort[] { 65534, 65535, 0, 1 })
        {
            Assert.Equal(Packet(n), Get(buffer, n, 0));
        }
    }

    [Fact]
    public void A_late_packet_does_not_evict_a_newer_one_that_can_still_be_requested()
    {
        var buffer = new RetransmissionBuffer(capacity: 4);
        buffer.Store(Packet(4), 4, 0);
        buffer.Store(Packet(0), 0, 10);                       // same slot, older number, arrived late
        Assert.Equal(Packet(4), Get(buffer, 4, 20));
        Assert.Null(Get(buffer, 0, 20));

        // Across the wrap: 2 is newer than 65534 (same slot).
        buffer.Store(Packet(2), 2, 0);
        buffer.Store(Packet(65534), 65534, 10);
        Assert.Equal(Packet(2), Get(buffer, 2, 20));
        Assert.Null(Get(buffer, 65534, 20));
    }

    [Fact]
    public void A_duplicate_keeps_the_first_copy()
    {
        var buffer = new RetransmissionBuffer();
        buffer.Store(Packet(5, 100), 5, 0);
        buffer.Store(Packet(5, 200), 5, 10);
        Assert.Equal(Packet(5, 100), Get(buffer, 5, 20));
        Assert.Equal(1, buffer.Count);
    }

    [Fact]
    public void Packets_older_than_the_maximum_age_are_not_returned()
    {
        var buffer = new RetransmissionBuffer(maxAge: TimeSpan.FromMilliseconds(500));
        buffer.Store(Packet(1), 1, 1_000_000);
        Assert.NotNull(Get(buffer, 1, 1_500_000));            // exactly the maximum age
        Assert.Null(Get(buffer, 1, 1_500_001));

        var defaultAge = new RetransmissionBuffer();
        defaultAge.Store(Packet(1), 1, 0);
        Assert.NotNull(Get(defaultAge, 1, 1_000_000));
        Assert.Null(Get(defaultAge, 1, 1_000_001));
    }

    [Fact]
    public void A_stale_newer_packet_gives_its_slot_to_an_older_arrival()
    {
        var buffer = new RetransmissionBuffer(capacity: 4, maxAge: TimeSpan.FromMilliseconds(100));
        buffer.Store(Packet(4), 4, 0);
        buffer.Store(Packet(0), 0, 200_000);
        Assert.Equal(Packet(0), Get(buffer, 0, 200_000));
    }

    [Fact]
    public void A_packet_larger_than_a_slot_is_not_stored()
    {
        var buffer = new RetransmissionBuffer(maxPacketSize: 200);
        buffer.Store(Packet(1, 201), 1, 0);
        buffer.Store(ReadOnlySpan<byte>.Empty, 2, 0);
        Assert.Equal(0, buffer.Count);
        Assert.Null(Get(buffer, 1, 0));
        Assert.Null(Get(buffer, 2, 0));

        buffer.Store(Packet(3, 200), 3, 0);
        Assert.Equal(Packet(3, 200), Get(buffer, 3, 0));
    }

    [Fact]
    public void A_destination_too_small_gets_nothing()
    {
        var buffer = new RetransmissionBuffer();
        buffer.Store(Packet(1, 300), 1, 0);
        Assert.False(buffer.TryGet(1, 0, new byte[299], out var length));
        Assert.Equal(0, length);
        Assert.True(buffer.TryGet(1, 0, new byte[300], out length));
        Assert.Equal(300, length);
    }

    [Fact]
    public void Clear_forgets_every_packet()
    {
        var buffer = new RetransmissionBuffer();
        for (ushort n = 0; n < 10; n++)
        {
            buffer.Store(Packet(n), n, 0);
        }

        Assert.Equal(10, buffer.Count);
        buffer.Clear();
        Assert.Equal(0, buffer.Count);
        Assert.Null(Get(buffer, 3, 0));
        buffer.Store(Packet(3), 3, 0);
        Assert.Equal(Packet(3), Get(buffer, 3, 0));
    }

    [Fact]
    public void The_capacity_is_rounded_up_to_a_power_of_two()
    {
        Assert.Equal(1024, new RetransmissionBuffer(1000).Capacity);
        Assert.Equal(1024, new RetransmissionBuffer().Capacity);
        Assert.Equal(1, new RetransmissionBuffer(1).Capacity);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RetransmissionBuffer(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RetransmissionBuffer(40_000));
    }

    [Fact]
    public void Storing_and_reading_do_not_allocate_after_the_first_packet()
    {
        var buffer = new RetransmissionBuffer();
        var packet = Packet(0, 1200);
        var destination = new byte[1500];
        buffer.Store(packet, 0, 0);
        buffer.TryGet(0, 0, destination, out _);

        // Run the loop once before measuring: tiered compilation (on-stack replacement of the hot loop)
        // may allocate on this thread the first time, which is the JIT's allocation, not the buffer's.
        Loop(1);
        var before = GC.GetAllocatedBytesForCurrentThread();
        Loop(5001);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());

        void Loop(int first)
        {
            for (var n = first; n < first + 5000; n++)
            {
                buffer.Store(packet, (ushort)n, n * 1000L);
                buffer.TryGet((ushort)(n - 10), n * 1000L, destination, out _);
            }
        }
    }
}
