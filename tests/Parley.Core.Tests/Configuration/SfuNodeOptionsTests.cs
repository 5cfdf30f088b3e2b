using System.Net;
using Parley.Core.Configuration;

namespace Parley.Core.Tests.Configuration;

/// <summary>The SFU node settings: cross-checks at start and the internal URL a node registers.</summary>
public sealed class SfuNodeOptionsTests
{
    private static IReadOnlyList<ConfigProblem> Problems(SfuNodeOptions options)
    {
        var context = new SettingsValidationContext(_ => null);
        options.Validate(context);
        return context.Problems;
    }

    [Fact]
    public void The_defaults_are_valid()
    {
        Assert.Empty(Problems(new SfuNodeOptions()));
    }

    [Fact]
    public void A_timeout_shorter_than_two_heartbeats_a_bad_id_and_a_url_with_a_path_are_refused()
    {
        var problems = Problems(new SfuNodeOptions
        {
            HeartbeatSeconds = 10,
            NodeTimeoutSeconds = 15,
            NodeId = "has space",
            InternalUrl = new Uri("http://10.0.0.5:3001/rtc/ws"),
        });

        Assert.Equal(["PARLEY_SFU_NODE_TIMEOUT_SECONDS", "PARLEY_SFU_NODE_ID", "PARLEY_SFU_INTERNAL_URL"], problems.Select(p => p.Variable));
        Assert.Contains("at least twice PARLEY_SFU_HEARTBEAT_SECONDS (20)", problems[0].Expected, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1", "http://127.0.0.1:3001/")]
    [InlineData("0.0.0.0", "http://10.1.2.3:3001/")]
    [InlineData("::1", "http://[::1]:3001/")]
    public void The_internal_url_defaults_to_an_address_other_hosts_reach(string host, string expected)
    {
        var url = new SfuNodeOptions().EffectiveInternalUrl(host, 3001, () => IPAddress.Parse("10.1.2.3"));

        Assert.Equal(expected, url.ToString());
    }

    [Fact]
    public void A_configured_internal_url_wins()
    {
        var options = new SfuNodeOptions { InternalUrl = new Uri("http://sfu-7.internal:3001") };

        Assert.Equal("http://sfu-7.internal:3001/", options.EffectiveInternalUrl("0.0.0.0", 3001, () => null).ToString());
    }
}
