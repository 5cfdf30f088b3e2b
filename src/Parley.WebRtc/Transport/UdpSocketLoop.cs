using System.Net;
using System.Net.Sockets;

namespace Parley.WebRtc.Transport;

/// <summary>Receives datagrams for one peer; the span is the socket loop's buffer, valid during the call.</summary>
public interface IDatagramHandler
{
    void HandleDatagram(Span<byte> datagram, SocketAddress from);
}

/// <summary>
/// One UDP socket and the thread that reads it. Each datagram goes to the peer the
/// <see cref="Router"/> finds (by address, or by ICE ufrag for STUN), else to
/// <see cref="DefaultHandler"/> (a client with a single peer), else it is dropped and counted.
/// Receiving and sending use <see cref="SocketAddress"/> so the hot path does not allocate.
/// </summary>
public sealed class UdpSocketLoop : IDisposable
{
    private readonly Socket _socket;
    private Thread? _thread;
    private volatile bool _disposed;
    private long _unrouted;
    private long _handlerErrors;

    public UdpSocketLoop(IPEndPoint bindTo)
    {
        ArgumentNullException.ThrowIfNull(bindTo);
        _socket = new Socket(bindTo.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(bindTo);
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
    }

    public IPEndPoint LocalEndPoint { get; }

    public PeerRouter<IDatagramHandler> Router { get; } = new();

    public PacketDemultiplexer Demultiplexer { get; } = new();

    public IDatagramHandler? DefaultHandler { get; set; }

    /// <summary>Datagrams no peer claimed.</summary>
    public long UnroutedPackets => Interlocked.Read(ref _unrouted);

    /// <summary>Exceptions thrown by handlers (each one a bug to fix; the loop carries on).</summary>
    public long HandlerErrors => Interlocked.Read(ref _handlerErrors);

    public void Start()
    {
        _thread = new Thread(ReceiveLoop) { IsBackground = true, Name = $"udp-{LocalEndPoint.Port}" };
        _thread.Start();
    }

    /// <summary>Sends one datagram; thread-safe (the socket serialises sends).</summary>
    public void Send(ReadOnlySpan<byte> datagram, SocketAddress to)
    {
        if (_disposed)
        {
            return;
        }

        try
        {
            _socket.SendTo(datagram, SocketFlags.None, to);
        }
        catch (SocketException)
        {
            // UDP send errors (no route, buffer full) are packet loss to the protocols above.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _socket.Dispose();
        _thread?.Join(TimeSpan.FromSeconds(2));
    }

    private void ReceiveLoop()
    {
        var buffer = new byte[2048];
        var from = new SocketAddress(LocalEndPoint.AddressFamily);
        while (!_disposed)
        {
            int length;
            try
            {
                length = _socket.ReceiveFrom(buffer, SocketFlags.None, from);
            }
            catch (SocketException) when (!_disposed)
            {
                continue;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            var datagram = buffer.AsSpan(0, length);
            Demultiplexer.Classify(datagram);
            if (Router.TryRoute(datagram, from, out var handler) || (handler = DefaultHandler) is not null)
            {
                try
                {
                    handler!.HandleDatagram(datagram, from);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // One peer's bug must not stop the socket every other peer shares.
                    Interlocked.Increment(ref _handlerErrors);
                }
            }
            else
            {
                Interlocked.Increment(ref _unrouted);
            }
        }
    }
}
