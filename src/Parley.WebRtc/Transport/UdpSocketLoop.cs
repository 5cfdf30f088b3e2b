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
    private long _sendErrors;

    /// <param name="bindTo">The local address and port.</param>
    /// <param name="bufferBytes">
    /// SO_RCVBUF and SO_SNDBUF to ask for (0: the kernel default, about 200 KiB on Linux). A server socket
    /// shared by many peers needs megabytes: while its one thread is busy, a burst of video frames from
    /// every publisher queues here, and what does not fit is lost before any code sees it. The kernel caps
    /// the request at net.core.rmem_max / wmem_max; <see cref="ReceiveBufferBytes"/> says what was granted.
    /// </param>
    public UdpSocketLoop(IPEndPoint bindTo, int bufferBytes = 0)
    {
        ArgumentNullException.ThrowIfNull(bindTo);
        _socket = new Socket(bindTo.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        if (bufferBytes > 0)
        {
            try
            {
                _socket.ReceiveBufferSize = bufferBytes;
                _socket.SendBufferSize = bufferBytes;
            }
            catch (SocketException)
            {
                // Refused outright (not merely capped): keep the default; ReceiveBufferBytes tells.
            }
        }

        _socket.Bind(bindTo);
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        // Linux reports twice the usable size it granted (it counts bookkeeping overhead).
        ReceiveBufferBytes = OperatingSystem.IsLinux() ? _socket.ReceiveBufferSize / 2 : _socket.ReceiveBufferSize;
    }

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>The receive buffer the kernel granted, in the unit it was asked for.</summary>
    public int ReceiveBufferBytes { get; }

    /// <summary>Datagrams the kernel refused to send (send buffer full, no route): loss, counted.</summary>
    public long SendErrors => Interlocked.Read(ref _sendErrors);

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
            // UDP send errors (no route, buffer full) are packet loss to the protocols above: counted, not thrown.
            Interlocked.Increment(ref _sendErrors);
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
