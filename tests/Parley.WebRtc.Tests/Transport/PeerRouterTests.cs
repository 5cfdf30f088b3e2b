using System.Net;
using Parley.WebRtc.Stun;
using Parley.WebRtc.Transport;

namespace Parley.WebRtc.Tests.Transport;

public class PeerRouterTests
{
    private static byte[] Check(string username)
    {
        var buffer = new byte[128];
        var b = new StunMessageBuilder(buffer, StunMessageType.BindingRequest, new byte[12]);
        b.AddUsername(username);
        b.AddFingerprint();
        return b.Written.ToArray();
    }

    [Fact]
    public void Routes_stun_by_ufrag_then_everything_by_address()
    {
        var router = new PeerRouter<string>();
        router.AddUfrag("aaaa", "peer-a");
        router.AddUfrag("bbbb", "peer-b");
        var from = new IPEndPoint(IPAddress.Loopback, 40000).Serialize();

        Assert.True(router.TryRoute(Check("bbbb:xyz1"), from, out var peer));
        Assert.Equal("peer-b", peer);
        Assert.False(router.TryRoute(Check("cccc:xyz1"), from, out _));
        Assert.False(router.TryRoute([0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], from, out _)); // RTP before binding

        router.AddAddress(from, "peer-b");
        // A fresh SocketAddress with the same content, as the next ReceiveFrom fills it.
        var again = new IPEndPoint(IPAddress.Loopback, 40000).Serialize();
        Assert.True(router.TryRoute([0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], again, out peer));
        Assert.Equal("peer-b", peer);
        Assert.False(router.TryRoute([0x80, 96], new IPEndPoint(IPAddress.Loopback, 40001).Serialize(), out _));

        router.Remove("peer-b");
        Assert.False(router.TryRoute(Check("bbbb:xyz1"), again, out _));
        Assert.Equal(0, router.AddressCount);
        Assert.True(router.TryRoute(Check("aaaa:q"), again, out peer));
        Assert.Equal("peer-a", peer);
    }

    [Fact]
    public void Stored_address_is_a_copy_of_the_receive_buffer()
    {
        var router = new PeerRouter<string>();
        var receiveBuffer = new IPEndPoint(IPAddress.Loopback, 1234).Serialize();
        router.AddAddress(receiveBuffer, "p");
        // The socket loop reuses its SocketAddress: overwrite it with another sender.
        var other = new IPEndPoint(IPAddress.Loopback, 9999).Serialize();
        other.Buffer.Span[..other.Size].CopyTo(receiveBuffer.Buffer.Span);
        Assert.False(router.TryRoute([0x80, 96], receiveBuffer, out _));
        Assert.True(router.TryRoute([0x80, 96], new IPEndPoint(IPAddress.Loopback, 1234).Serialize(), out _));
    }
}
