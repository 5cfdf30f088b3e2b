using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Parley.Sfu.Metrics;
using Parley.WebRtc.Dtls;
using Parley.WebRtc.Transport;

namespace Parley.Sfu.Workers;

/// <summary>Something a worker calls every tick under its lock (a room).</summary>
internal interface IWorkerTickable
{
    void Tick(long nowMicroseconds);
}

/// <summary>
/// One media worker (mediasoup's Worker + WebRtcServer): a UDP socket in RTC_MIN_PORT..RTC_MAX_PORT read by
/// its own thread, shared by every transport of the rooms pinned to it (ICE-lite, routed by ufrag then
/// address), and a 20 ms tick for RTCP (feedback, NACK, reports), keyframe requests and speaker detection.
/// Everything media-related of its rooms runs under <see cref="Sync"/>: the socket thread (forwarding),
/// the tick, and signaling changes. One lock per worker keeps the forwarding path simple and, being
/// uncontended almost always, costs nanoseconds; rooms on different workers never contend.
/// </summary>
public sealed class SfuWorker : IDisposable
{
    private static readonly long TicksPerMicrosecond = Stopwatch.Frequency / 1_000_000;
    private readonly UdpSocketLoop _socket;
    private readonly List<IWorkerTickable> _tickables = [];
    private readonly Timer _timer;
    private volatile bool _disposed;
    private long _tickErrors;

    private SfuWorker(int index, UdpSocketLoop socket, IPAddress announced, SfuMetrics metrics)
    {
        Index = index;
        _socket = socket;
        AnnouncedAddress = announced;
        Metrics = metrics;
        _timer = new Timer(_ => Tick(), null, Timeout.Infinite, Timeout.Infinite);
    }

    public int Index { get; }

    public Lock Sync { get; } = new();

    public UdpSocketLoop Socket => _socket;

    public IPAddress AnnouncedAddress { get; }

    public int Port => _socket.LocalEndPoint.Port;

    /// <summary>One certificate per worker: its fingerprint goes in every SDP of its transports.</summary>
    public DtlsCertificate Certificate { get; } = DtlsCertificate.Generate();

    public SfuMetrics Metrics { get; }

    /// <summary>Where a consumer builds the packet it sends (used under <see cref="Sync"/>; room for the SRTP tag).</summary>
    internal byte[] Scratch { get; } = new byte[2048];

    /// <summary>Unwrapped RTX and retransmission copies (under <see cref="Sync"/>).</summary>
    internal byte[] RtxScratch { get; } = new byte[2048];

    /// <summary>RTCP the tick writes (under <see cref="Sync"/>).</summary>
    internal byte[] RtcpScratch { get; } = new byte[1500];

    /// <summary>Exceptions from room ticks: each one a bug; the worker carries on.</summary>
    public long TickErrors => Interlocked.Read(ref _tickErrors);

    /// <summary>Rooms pinned here (read under <see cref="Sync"/> or as an estimate).</summary>
    public int RoomCount { get; private set; }

    public int ParticipantCount { get; internal set; }

    public static long NowMicroseconds => Stopwatch.GetTimestamp() / TicksPerMicrosecond;

    /// <summary>Binds the first free port of the range at or after <paramref name="firstPort"/>.</summary>
    public static SfuWorker Create(int index, SfuOptions options, int firstPort, IPAddress announced, SfuMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(options);
        SocketException? last = null;
        for (var port = firstPort; port <= options.MaxPort; port++)
        {
            try
            {
                var socket = new UdpSocketLoop(new IPEndPoint(options.ListenAddress, port), options.SocketBufferBytes);
                return new SfuWorker(index, socket, announced, metrics);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
            {
                last = e;
            }
        }

        throw new InvalidOperationException(
            $"No free UDP port for RTC worker {index} in {firstPort}..{options.MaxPort} (RTC_MIN_PORT..RTC_MAX_PORT).", last);
    }

    public void Start()
    {
        _socket.Start();
        _timer.Change(20, 20);
    }

    internal void Attach(IWorkerTickable tickable)
    {
        lock (Sync)
        {
            _tickables.Add(tickable);
            RoomCount = _tickables.Count;
        }
    }

    internal void Detach(IWorkerTickable tickable)
    {
        lock (Sync)
        {
            _tickables.Remove(tickable);
            RoomCount = _tickables.Count;
        }
    }

    /// <summary>Datagrams no transport claimed: garbage on the port, packets of closed transports.</summary>
    public long UnroutedPackets => _socket.UnroutedPackets;

    /// <summary>Datagrams too large for the socket loop, dropped.</summary>
    public long OversizedPackets => _socket.TruncatedPackets;

    /// <summary>Datagrams the kernel refused to send.</summary>
    public long SendErrors => _socket.SendErrors;

    public long HandlerErrors => _socket.HandlerErrors;

    public void Dispose()
    {
        _disposed = true;
        _timer.Dispose();
        _socket.Dispose();
    }

    private void Tick()
    {
        if (_disposed || !Sync.TryEnter())
        {
            return; // a tick still running (or a long signaling change): skip this one rather than queue up
        }

        try
        {
            var now = NowMicroseconds;
            for (var i = 0; i < _tickables.Count; i++)
            {
                try
                {
                    _tickables[i].Tick(now);
                }
                catch (Exception)
                {
                    // A bug in one room must not stop the others (nor crash the process from a timer thread).
                    Interlocked.Increment(ref _tickErrors);
                }
            }
        }
        finally
        {
            Sync.Exit();
        }
    }
}
