using System.Net;
using Parley.Infrastructure.Locks;

namespace Parley.Infrastructure.Tests.Locks;

public sealed class RedisUrlTests
{
    [Fact]
    public void A_plain_url_gives_host_default_port_and_no_credentials()
    {
        var options = RedisUrl.ToConfigurationOptions(new Uri("redis://cache.internal"));

        var endpoint = Assert.IsType<DnsEndPoint>(Assert.Single(options.EndPoints));
        Assert.Equal(("cache.internal", 6379), (endpoint.Host, endpoint.Port));
        Assert.False(options.AbortOnConnectFail);
        Assert.False(options.Ssl);
        Assert.Null(options.User);
        Assert.Null(options.Password);
        Assert.Null(options.DefaultDatabase);
    }

    [Fact]
    public void User_password_database_and_tls_are_read()
    {
        var options = RedisUrl.ToConfigurationOptions(new Uri("rediss://parley:p%40ss%3Aword@10.0.0.5:6380/3"));

        var endpoint = Assert.IsType<IPEndPoint>(Assert.Single(options.EndPoints));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.0.0.5"), 6380), endpoint);
        Assert.Equal("parley", options.User);
        Assert.Equal("p@ss:word", options.Password);
        Assert.Equal(3, options.DefaultDatabase);
        Assert.True(options.Ssl);
        Assert.Equal("10.0.0.5", options.SslHost);
    }

    [Fact]
    public void A_password_without_user_and_an_ipv6_host_are_read()
    {
        var options = RedisUrl.ToConfigurationOptions(new Uri("redis://:secret@[::1]:6390"));

        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 6390), Assert.Single(options.EndPoints));
        Assert.Null(options.User);
        Assert.Equal("secret", options.Password);
    }

    [Theory]
    [InlineData("redis://host/notanumber")]
    [InlineData("redis://host/1/2")]
    [InlineData("http://host")]
    public void Unusable_urls_are_refused_with_a_reason(string url)
    {
        var error = Assert.Throws<ArgumentException>(() => RedisUrl.ToConfigurationOptions(new Uri(url)));
        Assert.StartsWith("expected", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_description_has_no_credentials()
    {
        Assert.Equal("redis://cache:6379/2", RedisUrl.Describe(new Uri("redis://u:secret@cache/2")));
    }
}
