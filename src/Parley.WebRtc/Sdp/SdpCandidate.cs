using System.Globalization;
using System.Net;

namespace Parley.WebRtc.Sdp;

/// <summary>
/// An a=candidate value (RFC 8839 §5.1):
/// <code>
/// foundation SP component-id SP transport SP priority SP connection-address SP port SP "typ" SP cand-type
///   [SP "raddr" SP address SP "rport" SP port] *(SP extension-name SP extension-value)
/// </code>
/// </summary>
public sealed record SdpCandidate(string Foundation, int Component, string Transport, uint Priority, string Address, int Port, string Type)
{
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Foundation} {Component} {Transport} {Priority} {Address} {Port} typ {Type}");

    /// <summary>A host candidate for a local UDP endpoint (RFC 8445 §5.1.2.1 priority for host, component 1).</summary>
    public static SdpCandidate Host(IPEndPoint endPoint, string foundation = "1")
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        return new SdpCandidate(foundation, 1, "udp", (126u << 24) | (65535u << 8) | 255u, endPoint.Address.ToString(), endPoint.Port, "host");
    }

    /// <summary>The address as an endpoint, or null for an mDNS name (".local") or anything not an IP literal.</summary>
    public IPEndPoint? EndPoint => IPAddress.TryParse(Address, out var ip) ? new IPEndPoint(ip, Port) : null;

    public static SdpCandidate? TryParse(string? value)
    {
        var parts = value?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts is null || parts.Length < 8 || parts[6] != "typ"
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var component)
            || !uint.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var priority)
            || !int.TryParse(parts[5], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            return null;
        }

        return new SdpCandidate(parts[0], component, parts[2].ToLowerInvariant(), priority, parts[4], port, parts[7]);
    }
}
