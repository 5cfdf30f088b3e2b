using System.Globalization;
using System.Net;

namespace Parley.Core.Configuration;

/// <summary>
/// How an SFU node announces itself to the api replicas that route meetings to it (docs/capacity.md,
/// "Multi-node placement"): its id, the URL they reach its signaling at, and how often it says it is alive.
/// </summary>
public sealed class SfuNodeOptions : ISettingsValidation
{
    public const string SectionName = "SfuNode";

    [Setting("PARLEY_SFU_NODE_ID", Description = "This SFU node's id in the node registry; default: the host name and a random suffix, new at every start.")]
    public string? NodeId { get; set; }

    [Setting("PARLEY_SFU_INTERNAL_URL", Description = "Base URL the api role reaches this SFU node's signaling at (it opens {url}/rtc/ws); default: http://HOST:PORT, with the first non-loopback IPv4 address when HOST is 0.0.0.0. On Kubernetes: http://$(POD_IP):3001.", Schemes = ["http", "https"])]
    public Uri? InternalUrl { get; set; }

    [Setting("PARLEY_SFU_HEARTBEAT_SECONDS", Description = "How often an SFU node writes its load and heartbeat to the node registry.", Min = 1, Max = 60)]
    public int HeartbeatSeconds { get; set; } = 5;

    [Setting("PARLEY_SFU_NODE_TIMEOUT_SECONDS", Description = "An SFU node whose last heartbeat is older than this is dead: it gets no new meetings and its meetings are placed again.", Min = 3, Max = 600)]
    public int NodeTimeoutSeconds { get; set; } = 20;

    public TimeSpan HeartbeatInterval => TimeSpan.FromSeconds(HeartbeatSeconds);

    public TimeSpan NodeTimeout => TimeSpan.FromSeconds(NodeTimeoutSeconds);

    /// <summary>PARLEY_SFU_INTERNAL_URL, or http://HOST:PORT with an address other hosts can reach.</summary>
    public Uri EffectiveInternalUrl(string host, int port, Func<IPAddress?> firstNonLoopback)
    {
        ArgumentNullException.ThrowIfNull(firstNonLoopback);
        if (InternalUrl is not null)
        {
            return InternalUrl;
        }

        var address = host is "0.0.0.0" or "*" or "::" ? firstNonLoopback()?.ToString() ?? "127.0.0.1" : host;
        if (IPAddress.TryParse(address, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            address = $"[{address}]";
        }

        return new Uri(string.Create(CultureInfo.InvariantCulture, $"http://{address}:{port}"));
    }

    public void Validate(SettingsValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        // Two missed heartbeats must not kill a node: a GC pause or a slow database write is not a death.
        if (NodeTimeoutSeconds < 2 * HeartbeatSeconds)
        {
            context.Add("PARLEY_SFU_NODE_TIMEOUT_SECONDS", NodeTimeoutSeconds.ToString(CultureInfo.InvariantCulture),
                $"expected at least twice PARLEY_SFU_HEARTBEAT_SECONDS ({2 * HeartbeatSeconds})");
        }

        if (NodeId is { } id && (id.Length is 0 or > 128 || id.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))))
        {
            context.Add("PARLEY_SFU_NODE_ID", id, "expected 1 to 128 characters without spaces");
        }

        if (InternalUrl is { } url && (url.AbsolutePath.Trim('/').Length > 0 || url.Query.Length > 0))
        {
            context.Add("PARLEY_SFU_INTERNAL_URL", url.ToString(), "expected a base URL without path or query, for example http://10.0.0.5:3001");
        }
    }
}
