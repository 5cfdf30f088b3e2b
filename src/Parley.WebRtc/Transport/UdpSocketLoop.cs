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
    private const int SolSocket = 1;     // SOL_SOCKET on Linux
    private const int SoRcvTimeo = 20;   // SO_RCVTIMEO on Linux

    /// <summary>Datagrams one <c>recvmmsg</c> may return; their forwards go out together after them.</summary>
    private const int ReceiveBatchSize = 32;
    private const int SendBatchSize = 64;

    private readonly Socket _socket;
    private readonly DatagramBatch? _sendBatch;
    private Thread? _thread;
    private int _loopThreadId = -1;
    private long _truncated;
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
    /// <param name="batched">
    /// On Linux, receive with <c>recvmmsg</c> and send what the handlers send from this socket's thread with
    /// <c>sendmmsg</c> once the received batch is handled (<see cref="DatagramBatch"/>). False: one
    /// <c>recvfrom</c>/<c>sendto</c> per datagram (the only way elsewhere).
    /// </param>
    public UdpSocketLoop(IPEndPoint bindTo, int bufferBytes = 0, bool batched = true)
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
        if (batched && DatagramBatch.IsSupported)
        {
            // recvmmsg blocks in the kernel, outside .NET's bookkeeping. Dispose wakes it anyway (the socket handle
            // is still referenced by the loop, so .NET shuts the socket down rather than closing it under us); the
            // 250 ms receive timeout is the backstop that lets the loop see _disposed whatever happens.
            // struct timeval { tv_sec, tv_usec } on LP64.
            Span<byte> timeout = stackalloc byte[16];
            BitConverter.TryWriteBytes(timeout, 0L);
            BitConverter.TryWriteBytes(timeout[8..], 250_000L);
            _socket.SetRawSocketOption(SolSocket, SoRcvTimeo, timeout);
            _sendBatch = new DatagramBatch(SendBatchSize);
        }

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

    /// <summary>Datagrams larger than a batch slot (<see cref="DatagramBatch.SlotBytes"/>), dropped.</summary>
    public long TruncatedPackets => Interlocked.Read(ref _truncated);

    /// <summary>Whether this socket receives and sends in batches (<c>recvmmsg</c>/<c>sendmmsg</c>).</summary>
    public bool Batched => _sendBatch is not null;

    public void Start()
    {
        _thread = new Thread(_sendBatch is null ? ReceiveLoop : BatchedReceiveLoop) { IsBackground = true, Name = $"udp-{LocalEndPoint.Port}" };
        _thread.Start();
    }

    /// <summary>
    /// Sends one datagram; thread-safe (the socket serialises sends). Called from this socket's own thread (a
    /// handler answering or forwarding) on a batched socket, it is queued and goes out with the rest of the
    /// batch once the received datagrams are handled, in the order queued.
    /// </summary>
    public void Send(ReadOnlySpan<byte> datagram, SocketAddress to)
    {
        if (_disposed)
        {
            return;
        }

        if (_sendBatch is { } batch && Environment.CurrentManagedThreadId == _loopThreadId)
        {
            if (batch.TryAdd(datagram, to))
            {
                return;
            }

            // Full, or too large for a slot: send what is queued first so that order is kept.
            FlushSends(batch);
            if (batch.TryAdd(datagram, to))
            {
                return;
            }
        }

        SendNow(datagram, to);
    }

    private void SendNow(ReadOnlySpan<byte> datagram, SocketAddress to)
    {
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

    /// <summary>After <see cref="Dispose"/>: whether the receive thread ended within its 2 s.</summary>
    internal bool LoopEnded { get; private set; }

    public void Dispose()
    {
        _disposed = true;
        _socket.Dispose();
        LoopEnded = _thread?.Join(TimeSpan.FromSeconds(2)) ?? true;
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

            Dispatch(buffer.AsSpan(0, length), from);
        }
    }

    private void BatchedReceiveLoop()
    {
        _loopThreadId = Environment.CurrentManagedThreadId;
        var handle = _socket.SafeHandle;
        var referenced = false;
        try
        {
            // Keeps the descriptor open (and its number unused by anything else) while this thread uses it raw.
            handle.DangerousAddRef(ref referenced);
            var fd = (int)handle.DangerousGetHandle();
            var received = new DatagramBatch(ReceiveBatchSize);
            var from = new SocketAddress(LocalEndPoint.AddressFamily);
            while (!_disposed)
            {
                var count = received.Receive(fd, out _);
                for (var i = 0; i < count; i++)
                {
                    if (received.TryGetReceived(i, from, out var datagram))
                    {
                        Dispatch(datagram, from);
                    }
                    else
                    {
                        Interlocked.Increment(ref _truncated);
                    }
                }

                // count < 0: the receive timeout (EAGAIN), a signal (EINTR) or a pending ICMP error; none ends the
                // loop, only Dispose does.
                FlushSends(_sendBatch!);
            }
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            if (referenced)
            {
                handle.DangerousRelease();
            }
        }
    }

    private void FlushSends(DatagramBatch batch)
    {
        if (batch.Count == 0)
        {
            return;
        }

        var handle = _socket.SafeHandle;
        var referenced = false;
        try
        {
            handle.DangerousAddRef(ref referenced);
            var refused = batch.Flush((int)handle.DangerousGetHandle());
            if (refused > 0)
            {
                // UDP send errors (no route, buffer full) are packet loss to the protocols above: counted.
                Interlocked.Add(ref _sendErrors, refused);
            }
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            if (referenced)
            {
                handle.DangerousRelease();
            }
        }
    }

    private void Dispatch(Span<byte> datagram, SocketAddress from)
    {
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
