using System.Net;

namespace Parley.Core.Configuration;

/// <summary>The media server (`sfu` role): workers, UDP ports, the announced address and the ICE servers clients get.</summary>
public sealed class RtcOptions : ISettingsValidation
{
    public const string SectionName = "Rtc";

    [Setting("RTC_WORKERS", Description = "Media workers, each with its own thread and UDP port; 0 = one per CPU core.", Min = 0, Max = 256)]
    public int Workers { get; set; }

    [Setting("RTC_MIN_PORT", Description = "Lowest UDP port a media worker may bind (one port per worker, shared by all its transports).", Min = 1024, Max = 65535)]
    public int MinPort { get; set; } = 10000;

    [Setting("RTC_MAX_PORT", Description = "Highest UDP port a media worker may bind.", Min = 1024, Max = 65535)]
    public int MaxPort { get; set; } = 10100;

    [Setting("RTC_SOCKET_BUFFER_BYTES", Description = "Receive and send buffer of each media worker's UDP socket; bursts of video from many publishers queue here while the worker thread is busy. The kernel caps it at net.core.rmem_max / wmem_max.", Min = 65536, Max = 268435456)]
    public int SocketBufferBytes { get; set; } = 8 * 1024 * 1024;

    [Setting("RTC_DROP_SILENT_AUDIO", Description = "Do not forward audio packets marked as digital silence (RFC 6464 level 127, what a muted microphone sends); recording bots still receive them.")]
    public bool DropSilentAudio { get; set; } = true;

    [Setting("RTC_LISTEN_IP", Description = "Address the media workers bind; default: HOST when it is an IP address, else 0.0.0.0.")]
    public string? ListenIp { get; set; }

    [Setting("ANNOUNCED_IP", Description = "Address put in ICE candidates, the one browsers send media to; default: 127.0.0.1 when listening on loopback, else the first non-loopback IPv4 address. Set it to the public or LAN address behind NAT or in a container.")]
    public string? AnnouncedIp { get; set; }

    [Setting("STUN_SERVER_1", Description = "A STUN server URL handed to clients (stun:host:port); STUN_SERVER_2..STUN_SERVER_4 add more.")]
    public string? StunServer1 { get; set; }

    [Setting("STUN_SERVER_2", Description = "A second STUN server URL for clients.")]
    public string? StunServer2 { get; set; }

    [Setting("STUN_SERVER_3", Description = "A third STUN server URL for clients.")]
    public string? StunServer3 { get; set; }

    [Setting("STUN_SERVER_4", Description = "A fourth STUN server URL for clients.")]
    public string? StunServer4 { get; set; }

    [Setting("TURN_SERVER_URL", Description = "TURN server URLs for clients behind restrictive networks, comma list (turn:host:3478?transport=udp, turns:host:5349).")]
    public string[] TurnServerUrls { get; set; } = [];

    [Setting("TURN_USERNAME", Description = "Static TURN username handed to clients (with TURN_CREDENTIAL).")]
    public string? TurnUsername { get; set; }

    [Setting("TURN_CREDENTIAL", Description = "Static TURN password handed to clients.", Secret = true)]
    public string? TurnCredential { get; set; }

    [Setting("TURN_SECRET", Description = "coturn's static-auth-secret: when set, each join gets time-limited TURN REST credentials instead of the static ones.", Secret = true)]
    public string? TurnSecret { get; set; }

    public IEnumerable<string> StunServers => new[] { StunServer1, StunServer2, StunServer3, StunServer4 }.OfType<string>().Where(s => s.Length > 0);

    /// <summary>The bind address: RTC_LISTEN_IP, else HOST when it is an address, else any.</summary>
    public IPAddress EffectiveListenAddress(string httpHost) =>
        ListenIp is { } listen ? IPAddress.Parse(listen)
        : IPAddress.TryParse(httpHost, out var host) ? host
        : httpHost.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
        : IPAddress.Any;

    public void Validate(SettingsValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (MinPort > MaxPort)
        {
            context.Add("RTC_MAX_PORT", MaxPort.ToString(System.Globalization.CultureInfo.InvariantCulture), $"expected a port at or above RTC_MIN_PORT ({MinPort})");
        }

        if (ListenIp is { } listen && !IPAddress.TryParse(listen, out _))
        {
            context.Add("RTC_LISTEN_IP", listen, "expected an IP address (0.0.0.0, 127.0.0.1, ::)");
        }

        if (AnnouncedIp is { } announced && (!IPAddress.TryParse(announced, out var address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)))
        {
            context.Add("ANNOUNCED_IP", announced, "expected the IP address clients reach this host at (not 0.0.0.0)");
        }

        foreach (var (name, value) in new[] { ("STUN_SERVER_1", StunServer1), ("STUN_SERVER_2", StunServer2), ("STUN_SERVER_3", StunServer3), ("STUN_SERVER_4", StunServer4) })
        {
            if (value is { Length: > 0 } && !value.StartsWith("stun:", StringComparison.OrdinalIgnoreCase) && !value.StartsWith("stuns:", StringComparison.OrdinalIgnoreCase))
            {
                context.Add(name, value, "expected a stun: URL, for example stun:stun.l.google.com:19302");
            }
        }

        foreach (var url in TurnServerUrls)
        {
            if (!url.StartsWith("turn:", StringComparison.OrdinalIgnoreCase) && !url.StartsWith("turns:", StringComparison.OrdinalIgnoreCase))
            {
                context.Add("TURN_SERVER_URL", url, "expected turn: or turns: URLs, for example turn:turn.example.com:3478");
            }
        }

        if (TurnServerUrls.Length > 0 && TurnSecret is null && (TurnUsername is null || TurnCredential is null))
        {
            context.Add("TURN_SERVER_URL", string.Join(',', TurnServerUrls), "TURN needs TURN_USERNAME and TURN_CREDENTIAL, or TURN_SECRET for REST credentials");
        }
    }
}
