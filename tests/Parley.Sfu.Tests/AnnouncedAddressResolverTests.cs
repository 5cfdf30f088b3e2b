using System.Net;

namespace Parley.Sfu.Tests;

public sealed class AnnouncedAddressResolverTests
{
    [Fact]
    public void Loopback_listening_announces_loopback()
    {
        Assert.Equal(IPAddress.Loopback, AnnouncedAddressResolver.Default(IPAddress.Loopback));
        Assert.Null(AnnouncedAddressResolver.Warning(IPAddress.Loopback, IPAddress.Loopback));
    }

    [Fact]
    public void A_specific_listen_address_is_announced_as_it_is()
    {
        var address = IPAddress.Parse("192.0.2.10");
        Assert.Equal(address, AnnouncedAddressResolver.Default(address));
    }

    [Fact]
    public void Listening_on_any_announces_a_non_loopback_ipv4_address_when_the_host_has_one()
    {
        var announced = AnnouncedAddressResolver.Default(IPAddress.Any);
        Assert.Equal(System.Net.Sockets.AddressFamily.InterNetwork, announced.AddressFamily);
        Assert.NotEqual(IPAddress.Any, announced);
    }

    [Theory]
    [InlineData("0.0.0.0", "0.0.0.0", "unspecified")]
    [InlineData("127.0.0.1", "0.0.0.0", "loopback address is reachable only from this machine")]
    [InlineData("203.0.113.5", "127.0.0.1", "listens on loopback only")]
    public void Suspicious_announced_addresses_are_explained(string announced, string listen, string expected)
    {
        var warning = AnnouncedAddressResolver.Warning(IPAddress.Parse(announced), IPAddress.Parse(listen));
        Assert.NotNull(warning);
        Assert.Contains(expected, warning, StringComparison.Ordinal);
    }

    [Fact]
    public void A_public_address_for_an_any_listener_is_fine() =>
        Assert.Null(AnnouncedAddressResolver.Warning(IPAddress.Parse("203.0.113.5"), IPAddress.Any));
}
