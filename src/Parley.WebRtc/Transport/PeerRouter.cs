using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Parley.WebRtc.Stun;

namespace Parley.WebRtc.Transport;

/// <summary>
/// Finds the peer a datagram on a shared socket belongs to (one socket per worker serves many
/// transports, as mediasoup's WebRtcServer does): first by remote address, then, for STUN, by the local
/// ufrag in USERNAME. Once a check succeeds, the owner binds the address, and later media (DTLS, SRTP)
/// routes by address alone. Lookups do not allocate: addresses are compared as
/// <see cref="SocketAddress"/> (the buffer Socket.ReceiveFrom fills), ufrags as characters.
/// Thread-safe: the socket loop routes while signaling threads add and remove peers.
/// </summary>
public sealed class PeerRouter<TPeer>
    where TPeer : class
{
    private readonly ConcurrentDictionary<SocketAddress, TPeer> _byAddress = new();
    private readonly ConcurrentDictionary<string, TPeer> _byUfrag = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TPeer>.AlternateLookup<ReadOnlySpan<char>> _ufragLookup;

    public PeerRouter() => _ufragLookup = _byUfrag.GetAlternateLookup<ReadOnlySpan<char>>();

    public int AddressCount => _byAddress.Count;

    public int UfragCount => _byUfrag.Count;

    /// <summary>Registers a transport under its local ICE ufrag (from the SDP answer).</summary>
    public void AddUfrag(string ufrag, TPeer peer) => _byUfrag[ufrag] = peer;

    public void RemoveUfrag(string ufrag) => _byUfrag.TryRemove(ufrag, out _);

    /// <summary>Routes datagrams from <paramref name="address"/> to <paramref name="peer"/> (stores a copy).</summary>
    public void AddAddress(SocketAddress address, TPeer peer)
    {
        ArgumentNullException.ThrowIfNull(address);
        var copy = new SocketAddress(address.Family, address.Size);
        address.Buffer.Span[..address.Size].CopyTo(copy.Buffer.Span);
        _byAddress[copy] = peer;
    }

    public void AddAddress(IPEndPoint endPoint, TPeer peer)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        _byAddress[endPoint.Serialize()] = peer;
    }

    /// <summary>Forgets every address and ufrag of <paramref name="peer"/> (when its transport closes).</summary>
    public void Remove(TPeer peer)
    {
        foreach (var entry in _byAddress.Where(kv => ReferenceEquals(kv.Value, peer)).ToList())
        {
            _byAddress.TryRemove(entry);
        }

        foreach (var entry in _byUfrag.Where(kv => ReferenceEquals(kv.Value, peer)).ToList())
        {
            _byUfrag.TryRemove(entry);
        }
    }

    /// <summary>The peer for a datagram, or false (unknown sender and not a STUN check for a known ufrag).</summary>
    public bool TryRoute(ReadOnlySpan<byte> datagram, SocketAddress from, out TPeer? peer)
    {
        ArgumentNullException.ThrowIfNull(from);
        if (_byAddress.TryGetValue(from, out peer))
        {
            return true;
        }

        if (PacketDemultiplexer.Inspect(datagram) == PacketKind.Stun && TryGetLocalUfrag(datagram, out var ufrag) && ufrag.Length <= 256)
        {
            Span<char> chars = stackalloc char[ufrag.Length];
            var count = Encoding.ASCII.GetChars(ufrag, chars);
            return _ufragLookup.TryGetValue(chars[..count], out peer);
        }

        peer = null;
        return false;
    }

    /// <summary>
    /// The receiver's ufrag from a Binding request's USERNAME ("localUfrag:remoteUfrag", RFC 8445 §7.2.2).
    /// </summary>
    public static bool TryGetLocalUfrag(ReadOnlySpan<byte> datagram, out ReadOnlySpan<byte> ufrag)
    {
        ufrag = default;
        if (!StunMessage.TryParse(datagram, out var message) || !message.HasUsername)
        {
            return false;
        }

        var username = message.Username;
        var colon = username.IndexOf((byte)':');
        if (colon <= 0)
        {
            return false;
        }

        ufrag = username[..colon];
        return true;
    }
}
