using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Parley.WebRtc.Transport;

namespace Parley.WebRtc.Tests.Transport;

/// <summary>
/// The socket loop on real loopback sockets, batched (recvmmsg/sendmmsg on Linux) and not: what a handler sends
/// from the loop's thread arrives, in order, refused datagrams are counted, oversized ones are dropped and
/// counted, and Dispose stops the thread.
/// </summary>
public class UdpSocketLoopTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    /// <summary>Answers every datagram with <c>copies</c> numbered replies to the sender and one to <c>forwardTo</c>.</summary>
    private sealed class FanOutHandler(UdpSocketLoop loop, int copies, SocketAddress? forwardTo) : IDatagramHandler
    {
        public void HandleDatagram(Span<byte> datagram, SocketAddress from)
        {
            Span<byte> reply = stackalloc byte[datagram.Length + 1];
            datagram.CopyTo(reply[1..]);
            for (var i = 0; i < copies; i++)
            {
                reply[0] = (byte)i;
                loop.Send(reply, from);
            }

            if (forwardTo is not null)
            {
                loop.Send(datagram, forwardTo);
            }
        }
    }

    private static Socket Client()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 5000 };
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.ReceiveBufferSize = 4 << 20;
        return socket;
    }

    private static byte[] Receive(Socket socket)
    {
        var buffer = new byte[4096];
        var length = socket.Receive(buffer);
        return buffer[..length];
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void What_a_handler_sends_arrives_in_order_for_every_destination(bool batched)
    {
        using var other = Client();
        using var loop = new UdpSocketLoop(new IPEndPoint(IPAddress.Loopback, 0), 1 << 20, batched);
        Assert.Equal(batched && DatagramBatch.IsSupported, loop.Batched);
        loop.DefaultHandler = new FanOutHandler(loop, copies: 3, forwardTo: other.LocalEndPoint!.Serialize());
        loop.Start();
        using var client = Client();

        const int count = 300;
        for (var n = 0; n < count; n++)
        {
            // A burst, so that the batched loop takes several datagrams per recvmmsg.
            client.SendTo(BitConverter.GetBytes(n), loop.LocalEndPoint);
        }

        for (var n = 0; n < count; n++)
        {
            for (var copy = 0; copy < 3; copy++)
            {
                var reply = Receive(client);
                Assert.Equal(copy, reply[0]);
                Assert.Equal(n, BitConverter.ToInt32(reply, 1));
            }

            Assert.Equal(n, BitConverter.ToInt32(Receive(other)));
        }

        Assert.Equal(0, loop.SendErrors);
        Assert.Equal(0, loop.HandlerErrors);
    }

    [Fact]
    public void A_datagram_too_large_for_a_slot_is_sent_directly_after_what_was_queued()
    {
        using var client = Client();
        using var loop = new UdpSocketLoop(new IPEndPoint(IPAddress.Loopback, 0));
        var large = new byte[DatagramBatch.SlotBytes + 500];
        large[0] = 0xEE;
        loop.DefaultHandler = new LambdaHandler((_, from) =>
        {
            loop.Send([1], from);
            loop.Send(large, from);
            loop.Send([2], from);
        });
        loop.Start();

        client.SendTo([0], loop.LocalEndPoint);

        Assert.Equal([1], Receive(client));
        Assert.Equal(large.Length, Receive(client).Length);
        Assert.Equal([2], Receive(client));
    }

    [Fact]
    public void A_refused_datagram_is_counted_and_the_rest_of_the_batch_still_goes_out()
    {
        using var client = Client();
        using var loop = new UdpSocketLoop(new IPEndPoint(IPAddress.Loopback, 0));
        // Port 0 is not a destination: Linux refuses the datagram (EINVAL), like a route that does not exist.
        var nowhere = new IPEndPoint(IPAddress.Loopback, 0).Serialize();
        loop.DefaultHandler = new LambdaHandler((_, from) =>
        {
            loop.Send([1], from);
            loop.Send([9], nowhere);
            loop.Send([2], from);
        });
        loop.Start();

        client.SendTo([0], loop.LocalEndPoint);

        Assert.Equal([1], Receive(client));
        Assert.Equal([2], Receive(client));
        var until = DateTime.UtcNow + Deadline;
        while (loop.SendErrors == 0 && DateTime.UtcNow < until)
        {
            Thread.Yield();
        }

        Assert.Equal(1, loop.SendErrors);
    }

    [Fact]
    public void An_oversized_datagram_is_dropped_and_counted_and_the_loop_goes_on()
    {
        if (!DatagramBatch.IsSupported)
        {
            Assert.Fail("recvmmsg batching is Linux-only; this test runs on Linux (./test.sh)");
        }

        using var client = Client();
        using var loop = new UdpSocketLoop(new IPEndPoint(IPAddress.Loopback, 0));
        var seen = new ConcurrentQueue<int>();
        loop.DefaultHandler = new LambdaHandler((datagram, from) =>
        {
            seen.Enqueue(datagram.Length);
            loop.Send([7], from);
        });
        loop.Start();

        client.SendTo(new byte[DatagramBatch.SlotBytes + 1], loop.LocalEndPoint);
        client.SendTo(new byte[100], loop.LocalEndPoint);

        Assert.Equal([7], Receive(client));
        Assert.Equal([100], seen);
        Assert.Equal(1, loop.TruncatedPackets);
    }

    [Fact]
    public void Dispose_stops_the_loop_thread_while_it_waits_for_datagrams()
    {
        var loop = new UdpSocketLoop(new IPEndPoint(IPAddress.Loopback, 0));
        loop.DefaultHandler = new LambdaHandler((_, _) => { });
        loop.Start();
        Thread.Yield();

        // The thread sits in recvmmsg, in the kernel: Dispose must wake it (it joins for at most 2 s).
        loop.Dispose();

        Assert.True(loop.LoopEnded);
        // A send after Dispose is ignored, not thrown.
        loop.Send([1], new IPEndPoint(IPAddress.Loopback, 9).Serialize());
    }

    private delegate void DatagramAction(Span<byte> datagram, SocketAddress from);

    private sealed class LambdaHandler(DatagramAction action) : IDatagramHandler
    {
        public void HandleDatagram(Span<byte> datagram, SocketAddress from) => action(datagram, from);
    }
}
