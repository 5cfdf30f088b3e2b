using System.Globalization;
using System.Net;
using StackExchange.Redis;

namespace Parley.Infrastructure.Locks;

/// <summary>
/// The one multiplexer of the process (StackExchange.Redis multiplexes every caller over one connection).
/// Connects on first use and never fails at start: with <c>abortConnect=false</c> it keeps reconnecting in
/// the background, so a Redis restart degrades /health instead of killing the process.
/// </summary>
public sealed class RedisConnection : IAsyncDisposable
{
    private readonly ConfigurationOptions _options;
    private readonly Lazy<Task<ConnectionMultiplexer>> _multiplexer;

    public RedisConnection(Uri url)
    {
        _options = RedisUrl.ToConfigurationOptions(url);
        Description = RedisUrl.Describe(url);
        _multiplexer = new Lazy<Task<ConnectionMultiplexer>>(() => ConnectionMultiplexer.ConnectAsync(_options));
    }

    /// <summary>host:port/db without credentials, for /health and logs.</summary>
    public string Description { get; }

    public async Task<IDatabase> GetDatabaseAsync() => (await _multiplexer.Value).GetDatabase();

    public async ValueTask DisposeAsync()
    {
        if (_multiplexer.IsValueCreated)
        {
            await (await _multiplexer.Value).DisposeAsync();
        }
    }
}

/// <summary>
/// REDIS_URL (<c>redis://[user:password@]host[:port][/db]</c>, <c>rediss://</c> for TLS; the IANA redis URI
/// scheme) to StackExchange.Redis options. That library does not read URLs itself, and its own
/// "host:port,password=..." strings are not what Meeting BaaS users have in their environment.
/// </summary>
public static class RedisUrl
{
    public const int DefaultPort = 6379;

    /// <exception cref="ArgumentException">Not a usable redis URL; the message says what is wrong.</exception>
    public static ConfigurationOptions ToConfigurationOptions(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!url.IsAbsoluteUri || url.Scheme is not ("redis" or "rediss"))
        {
            throw new ArgumentException("expected a URL starting with redis:// or rediss://", nameof(url));
        }

        if (string.IsNullOrEmpty(url.Host))
        {
            throw new ArgumentException("expected a host name", nameof(url));
        }

        var port = url.Port is > 0 and <= 65535 ? url.Port : DefaultPort;
        var options = new ConfigurationOptions
        {
            AbortOnConnectFail = false,
            ClientName = "parley",
            Ssl = url.Scheme == "rediss",
        };
        if (url.HostNameType == UriHostNameType.IPv6 || url.HostNameType == UriHostNameType.IPv4)
        {
            options.EndPoints.Add(new IPEndPoint(IPAddress.Parse(url.Host.Trim('[', ']')), port));
        }
        else
        {
            options.EndPoints.Add(new DnsEndPoint(url.Host, port));
        }

        if (options.Ssl)
        {
            options.SslHost = url.Host.Trim('[', ']');
        }

        if (url.UserInfo.Length > 0)
        {
            // redis://user:password@host, redis://:password@host (no ACL user) or redis://user@host.
            var colon = url.UserInfo.IndexOf(':', StringComparison.Ordinal);
            var user = Uri.UnescapeDataString(colon < 0 ? url.UserInfo : url.UserInfo[..colon]);
            options.User = user.Length > 0 ? user : null;
            options.Password = colon < 0 ? null : Uri.UnescapeDataString(url.UserInfo[(colon + 1)..]);
        }

        var path = url.AbsolutePath.Trim('/');
        if (path.Length > 0)
        {
            if (!int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out var database) || database > 15_999)
            {
                throw new ArgumentException($"expected a database number after the host (/0, /1 ...), not '/{path}'", nameof(url));
            }

            options.DefaultDatabase = database;
        }

        return options;
    }

    /// <summary>The URL without its credentials.</summary>
    public static string Describe(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var port = url.Port is > 0 and <= 65535 ? url.Port : DefaultPort;
        return $"{url.Scheme}://{url.Host}:{port}{url.AbsolutePath.TrimEnd('/')}";
    }
}
