using System.Net;

namespace Parley.Sfu;

/// <summary>An ICE server handed to clients in `joined` (RTCIceServer).</summary>
public sealed record IceServer(IReadOnlyList<string> Urls, string? Username = null, string? Credential = null);

/// <summary>
/// The media engine's settings, plain (the host maps RTC_* settings onto it; the engine never reads
/// configuration itself, DESIGN.md).
/// </summary>
public sealed record SfuOptions
{
    /// <summary>Workers, each with its own UDP socket and thread; 0 = one per core.</summary>
    public int Workers { get; init; }

    public int MinPort { get; init; } = 10000;

    public int MaxPort { get; init; } = 10100;

    /// <summary>SO_RCVBUF and SO_SNDBUF of each worker socket (RTC_SOCKET_BUFFER_BYTES); 0 keeps the kernel default.</summary>
    public int SocketBufferBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>Do not forward audio packets marked as digital silence (RTC_DROP_SILENT_AUDIO).</summary>
    public bool DropSilentAudio { get; init; } = true;

    /// <summary>The address the worker sockets bind to.</summary>
    public IPAddress ListenAddress { get; init; } = IPAddress.Any;

    /// <summary>The address put in ICE candidates (ANNOUNCED_IP); resolved by <see cref="AnnouncedAddressResolver"/> when null.</summary>
    public IPAddress? AnnouncedAddress { get; init; }

    /// <summary>ICE servers for clients (STUN_SERVER_n, TURN_*); TURN REST credentials are minted per join when <see cref="TurnSecret"/> is set.</summary>
    public IReadOnlyList<IceServer> IceServers { get; init; } = [];

    /// <summary>coturn's static-auth-secret (TURN_SECRET): per-join time-limited credentials (TURN REST API).</summary>
    public string? TurnSecret { get; init; }

    public IReadOnlyList<string> TurnUrls { get; init; } = [];

    /// <summary>How long a participant whose signaling dropped is kept for a resume.</summary>
    public TimeSpan ResumeWindow { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A transport without ICE consent checks for this long is dead and its participant removed (RFC 7675).</summary>
    public TimeSpan ConsentTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Chat messages kept per meeting (the oldest are dropped beyond this).</summary>
    public int ChatHistoryLimit { get; init; } = 1000;

    public int EffectiveWorkers => Workers > 0 ? Workers : Environment.ProcessorCount;
}
