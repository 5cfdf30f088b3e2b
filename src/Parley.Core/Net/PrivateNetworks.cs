using System.Net;
using System.Net.Sockets;

namespace Parley.Core.Net;

/// <summary>
/// Which addresses are private (loopback, RFC 1918, link-local, CGNAT, IPv6 ULA/site-local), and an HTTP handler
/// that refuses to connect to them. Every URL a tenant hands Parley to fetch or call (webhook and callback
/// targets, bot_image) goes through it unless WEBHOOK_ALLOW_PRIVATE_NETWORKS is set, so that a tenant cannot make
/// Parley reach into the network it runs in (a metadata service, an internal admin page, a port scan by error
/// message). The check happens at connect time, on the resolved addresses, so a public name that resolves to a
/// private address is refused too.
/// </summary>
public static class PrivateNetworks
{
    /// <summary>Literal addresses and names that are private by definition; DNS names are checked again when connecting.</summary>
    public static bool IsPrivateHost(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
            || host.EndsWith(".internal", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".local", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(host.Trim('[', ']'), out var address) && IsPrivateAddress(address);
    }

    public static bool IsPrivateAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)
            || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal)
        {
            return true;
        }

        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            return false;
        }

        var b = address.GetAddressBytes();
        return b[0] == 10 || b[0] == 127 || b[0] == 0
            || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
            || (b[0] == 192 && b[1] == 168)
            || (b[0] == 169 && b[1] == 254)
            || (b[0] == 100 && b[1] >= 64 && b[1] <= 127);
    }

    /// <summary>
    /// A handler that connects only to public addresses (all addresses when <paramref name="allowPrivate"/>) and
    /// follows no redirects (a redirect could point anywhere; callers treat 3xx as a failure).
    /// </summary>
    public static SocketsHttpHandler CreateHandler(bool allowPrivate) => new()
    {
        AllowAutoRedirect = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectCallback = async (context, cancellationToken) =>
        {
            var addresses = await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, cancellationToken).ConfigureAwait(false);
            var allowed = addresses.Where(a => allowPrivate || !IsPrivateAddress(a)).ToArray();
            if (allowed.Length == 0)
            {
                throw new HttpRequestException($"{context.DnsEndPoint.Host} resolves only to private addresses (WEBHOOK_ALLOW_PRIVATE_NETWORKS is false)");
            }

            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
}
