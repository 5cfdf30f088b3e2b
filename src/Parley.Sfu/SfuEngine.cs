using System.Collections.Concurrent;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.Sfu.Meetings;
using Parley.Sfu.Metrics;
using Parley.Sfu.Rooms;
using Parley.Sfu.Workers;

namespace Parley.Sfu;

/// <summary>Load of one worker, for /api/stats.</summary>
public sealed record WorkerStats(int Index, int Port, int Rooms, int Participants, long UnroutedPackets, long HandlerErrors, long TickErrors);

/// <summary>
/// The media engine (the `sfu` role): its workers, and the rooms pinned to them. A room goes to the
/// worker with the fewest participants when it is created and stays there: a meeting larger than one
/// worker's capacity is the multi-node work docs/capacity.md describes.
/// </summary>
public sealed partial class SfuEngine : IDisposable
{
    private readonly ConcurrentDictionary<string, Room> _rooms = new(StringComparer.Ordinal);
    private readonly Lock _roomsLock = new();
    private readonly IMeetingAuthority _authority;
    private readonly ILogger _logger;
    private readonly List<SfuWorker> _workers = [];

    public SfuEngine(SfuOptions options, IMeetingAuthority authority, ILogger<SfuEngine>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(authority);
        Options = options;
        _authority = authority;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        AnnouncedAddress = options.AnnouncedAddress ?? AnnouncedAddressResolver.Default(options.ListenAddress);
    }

    public SfuOptions Options { get; }

    public SfuMetrics Metrics { get; } = new();

    public IPAddress AnnouncedAddress { get; }

    public IReadOnlyList<SfuWorker> Workers => _workers;

    /// <summary>True once every worker's socket is bound (what /ready waits for).</summary>
    public bool IsStarted { get; private set; }

    internal IMeetingAuthority Authority => _authority;

    /// <summary>Binds one socket per worker in the port range and starts them.</summary>
    public void Start()
    {
        if (IsStarted)
        {
            return;
        }

        if (AnnouncedAddressResolver.Warning(AnnouncedAddress, Options.ListenAddress) is { } warning)
        {
            LogAnnouncedAddressWarning(_logger, AnnouncedAddress.ToString(), warning);
        }

        var port = Options.MinPort;
        for (var i = 0; i < Options.EffectiveWorkers; i++)
        {
            var worker = SfuWorker.Create(i, Options, port, AnnouncedAddress, Metrics);
            _workers.Add(worker);
            port = worker.Port + 1;
            worker.Start();
        }

        var granted = _workers.Count > 0 ? _workers[0].Socket.ReceiveBufferBytes : 0;
        if (Options.SocketBufferBytes > 0 && granted < Options.SocketBufferBytes)
        {
            LogSocketBufferCapped(_logger, Options.SocketBufferBytes, granted);
        }

        IsStarted = true;
        LogStarted(_logger, _workers.Count, string.Join(",", _workers.Select(w => w.Port)), AnnouncedAddress.ToString());
    }

    public Room? FindRoom(string meetingId) => _rooms.GetValueOrDefault(meetingId);

    public IReadOnlyCollection<Room> Rooms => _rooms.Values.ToList();

    public int ParticipantCount(string meetingId)
    {
        if (FindRoom(meetingId) is not { } room)
        {
            return 0;
        }

        lock (room.Worker.Sync)
        {
            return room.ParticipantCount;
        }
    }

    /// <summary>Closes a meeting's room (the meeting was deleted); a no-op when it is not live.</summary>
    public void CloseRoom(string meetingId, string reason)
    {
        if (FindRoom(meetingId) is { } room)
        {
            lock (room.Worker.Sync)
            {
                room.Close(reason);
            }
        }
    }

    public IReadOnlyList<WorkerStats> WorkerStats() =>
        _workers.Select(w => new WorkerStats(w.Index, w.Port, w.RoomCount, w.ParticipantCount, w.UnroutedPackets, w.HandlerErrors, w.TickErrors)).ToList();

    /// <summary>The room of a meeting, created on the least loaded worker when it is not live yet.</summary>
    internal Room GetOrCreateRoom(MeetingPolicy policy)
    {
        if (!IsStarted)
        {
            throw new SignalingException("INTERNAL_ERROR", "The media server is not started.");
        }

        lock (_roomsLock)
        {
            if (_rooms.TryGetValue(policy.MeetingId, out var existing) && !existing.Closed)
            {
                return existing;
            }

            var worker = _workers.MinBy(w => (w.ParticipantCount, w.RoomCount))!;
            var room = new Room(this, policy, worker, _logger);
            _rooms[policy.MeetingId] = room;
            worker.Attach(room);
            return room;
        }
    }

    internal void RoomClosed(Room room, string reason)
    {
        lock (_roomsLock)
        {
            if (_rooms.TryGetValue(room.MeetingId, out var current) && ReferenceEquals(current, room))
            {
                _rooms.TryRemove(room.MeetingId, out _);
            }
        }

        // Called under the worker lock from the tick: detach and report without blocking it.
        ThreadPool.QueueUserWorkItem(async _ =>
        {
            room.Worker.Detach(room);
            LogRoomClosed(_logger, room.MeetingId, reason);
            try
            {
                await _authority.MeetingClosedAsync(room.MeetingId, reason, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogCloseReportFailed(_logger, room.MeetingId, e.Message);
            }
        });
    }

    /// <summary>
    /// ICE servers for a client: the configured STUN/TURN servers, plus TURN REST credentials (coturn
    /// use-auth-secret: username "expiry:identity", password base64(HMAC-SHA1(secret, username))) valid 24 h.
    /// </summary>
    internal IReadOnlyList<IceServerView> IceServersFor(string identity)
    {
        var servers = Options.IceServers.Select(s => new IceServerView(s.Urls, s.Username, s.Credential)).ToList();
        if (Options.TurnSecret is { Length: > 0 } secret && Options.TurnUrls.Count > 0)
        {
            var username = $"{DateTimeOffset.UtcNow.AddHours(24).ToUnixTimeSeconds()}:{identity}";
            var password = Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(username)));
            servers.Add(new IceServerView(Options.TurnUrls, username, password));
        }

        return servers;
    }

    public void Dispose()
    {
        foreach (var room in _rooms.Values.ToList())
        {
            lock (room.Worker.Sync)
            {
                room.Close("shutdown");
            }
        }

        foreach (var worker in _workers)
        {
            worker.Dispose();
        }
    }

    [LoggerMessage(EventId = 710, Level = LogLevel.Information, Message = "SFU started: {Workers} workers on UDP ports {Ports}, announcing {AnnouncedIp}")]
    private static partial void LogStarted(ILogger logger, int workers, string ports, string announcedIp);

    [LoggerMessage(EventId = 711, Level = LogLevel.Warning, Message = "ANNOUNCED_IP {AnnouncedIp} looks wrong: {Problem}. Clients put this address in ICE checks; a wrong one means no media (set ANNOUNCED_IP to the address clients reach this host at).")]
    private static partial void LogAnnouncedAddressWarning(ILogger logger, string announcedIp, string problem);

    [LoggerMessage(EventId = 714, Level = LogLevel.Warning, Message = "RTC_SOCKET_BUFFER_BYTES asks for {Requested} bytes but the kernel granted {Granted}: bursts beyond that are lost before the SFU sees them. Raise the cap: sysctl -w net.core.rmem_max={Requested} net.core.wmem_max={Requested}")]
    private static partial void LogSocketBufferCapped(ILogger logger, int requested, int granted);

    [LoggerMessage(EventId = 712, Level = LogLevel.Information, Message = "Meeting {MeetingId} closed ({Reason})")]
    private static partial void LogRoomClosed(ILogger logger, string meetingId, string reason);

    [LoggerMessage(EventId = 713, Level = LogLevel.Warning, Message = "Meeting {MeetingId}: could not record its closing: {Reason}")]
    private static partial void LogCloseReportFailed(ILogger logger, string meetingId, string reason);
}

/// <summary>
/// ANNOUNCED_IP: what clients must be able to reach. seeds/meeting-service-mediasoup.md: a container's
/// private address or 0.0.0.0 announced to remote browsers is the classic "ICE failed" cause.
/// </summary>
public static class AnnouncedAddressResolver
{
    /// <summary>127.0.0.1 when listening on loopback, else the first up non-loopback IPv4 address.</summary>
    public static IPAddress Default(IPAddress listen)
    {
        ArgumentNullException.ThrowIfNull(listen);
        if (IPAddress.IsLoopback(listen))
        {
            return IPAddress.Loopback;
        }

        if (!listen.Equals(IPAddress.Any) && !listen.Equals(IPAddress.IPv6Any))
        {
            return listen;
        }

        return FirstExternalIPv4() ?? IPAddress.Loopback;
    }

    /// <summary>Why an announced address looks wrong, or null.</summary>
    public static string? Warning(IPAddress announced, IPAddress listen)
    {
        ArgumentNullException.ThrowIfNull(announced);
        ArgumentNullException.ThrowIfNull(listen);
        if (announced.Equals(IPAddress.Any) || announced.Equals(IPAddress.IPv6Any))
        {
            return "an unspecified address cannot be reached";
        }

        if (IPAddress.IsLoopback(announced) && !IPAddress.IsLoopback(listen))
        {
            return "a loopback address is reachable only from this machine, but the SFU listens on other interfaces";
        }

        if (!IPAddress.IsLoopback(announced) && IPAddress.IsLoopback(listen))
        {
            return "the SFU listens on loopback only, so nobody can reach it at another address";
        }

        return null;
    }

    private static IPAddress? FirstExternalIPv4()
    {
        try
        {
            return NetworkInterface.GetAllNetworkInterfaces()
                .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
                .SelectMany(n => n.GetIPProperties().UnicastAddresses)
                .Select(a => a.Address)
                .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        }
        catch (NetworkInformationException)
        {
            return null;
        }
    }
}
