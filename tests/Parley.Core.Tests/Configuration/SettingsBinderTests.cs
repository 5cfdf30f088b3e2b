using Parley.Core.Configuration;

namespace Parley.Core.Tests.Configuration;

public sealed class SettingsBinderTests
{
    private static SettingsBindResult Bind(params (string Key, string? Value)[] values)
    {
        var map = values.ToDictionary(v => v.Key, v => v.Value, StringComparer.OrdinalIgnoreCase);
        return SettingsBinder.Bind(
            [typeof(ServerOptions), typeof(FeatureOptions), typeof(AuthOptions), typeof(RedisOptions), typeof(OAuthOptions)],
            name => map.TryGetValue(name, out var v) ? v : null);
    }

    [Fact]
    public void Nothing_set_gives_the_documented_defaults()
    {
        var result = Bind();

        Assert.True(result.IsValid, string.Join("\n", result.Problems));
        var server = result.Get<ServerOptions>();
        Assert.Equal("127.0.0.1", server.Host);
        Assert.Equal(3001, server.Port);
        Assert.Equal("./data", server.DataDirectory);
        Assert.Equal(["api", "jobs", "orchestrator", "sfu"], server.Roles);
        Assert.False(result.Get<FeatureOptions>().MultiTenant);
        Assert.Equal("self-hosted", result.Get<AuthOptions>().StaticTeamId);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("TRUE", true)]
    [InlineData("True", true)]
    [InlineData("1", true)]
    [InlineData("false", false)]
    [InlineData("FaLsE", false)]
    [InlineData("0", false)]
    public void Flags_accept_true_false_one_zero_in_any_case(string value, bool expected)
    {
        var result = Bind(("ENABLE_MULTI_TENANT", value), ("SELF_HOSTED", value));

        Assert.True(result.IsValid, string.Join("\n", result.Problems));
        Assert.Equal(expected, result.Get<FeatureOptions>().MultiTenant);
        Assert.Equal(expected, result.Get<FeatureOptions>().SelfHosted);
    }

    [Theory]
    [InlineData("yes")]
    [InlineData("on")]
    [InlineData("2")]
    [InlineData("tru")]
    public void Any_other_flag_value_is_a_problem_naming_the_variable(string value)
    {
        var problem = Assert.Single(Bind(("ENABLE_STRIPE", value)).Problems);

        Assert.Equal($"ENABLE_STRIPE='{value}': expected true, false, 1 or 0", problem.ToString());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65536")]
    [InlineData("-1")]
    [InlineData("http")]
    [InlineData("30 01")]
    public void A_port_outside_1_to_65535_is_a_problem(string value)
    {
        var problem = Assert.Single(Bind(("PORT", value)).Problems);

        Assert.Equal("PORT", problem.Variable);
        Assert.Equal("expected an integer from 1 to 65535", problem.Expected);
    }

    [Fact]
    public void Empty_values_count_as_unset()
    {
        var result = Bind(("PORT", ""), ("ENABLE_EMAIL", "  "), ("HOST", ""));

        Assert.True(result.IsValid);
        Assert.Equal(3001, result.Get<ServerOptions>().Port);
    }

    [Fact]
    public void Allowed_values_are_matched_case_insensitively_and_normalised()
    {
        var result = Bind(("LOG_LEVEL", "DEBUG"), ("LOG_FORMAT", "Json"), ("PARLEY_ROLES", " API , sfu "));

        Assert.True(result.IsValid, string.Join("\n", result.Problems));
        Assert.Equal("debug", result.Get<ServerOptions>().LogLevel);
        Assert.Equal("json", result.Get<ServerOptions>().LogFormat);
        Assert.Equal(["api", "sfu"], result.Get<ServerOptions>().Roles);
    }

    [Fact]
    public void An_unknown_role_is_a_problem_listing_the_roles()
    {
        var problem = Assert.Single(Bind(("PARLEY_ROLES", "api,worker")).Problems);

        Assert.Equal("PARLEY_ROLES='api,worker': expected a comma-separated list of api, jobs, orchestrator, sfu", problem.ToString());
    }

    [Theory]
    [InlineData("not a url")]
    [InlineData("http://localhost:6379")]
    [InlineData("redis:/missing-slashes")]
    public void A_url_with_the_wrong_form_or_scheme_is_a_problem(string value)
    {
        var problem = Assert.Single(Bind(("REDIS_URL", value)).Problems);

        Assert.Equal("REDIS_URL", problem.Variable);
        Assert.Equal("expected an absolute URL starting with redis:// or rediss://", problem.Expected);
    }

    [Fact]
    public void A_host_that_is_not_an_address_is_a_problem()
    {
        var problem = Assert.Single(Bind(("HOST", "my host")).Problems);

        Assert.Equal("HOST", problem.Variable);
    }

    [Fact]
    public void Several_mistakes_are_all_reported_at_once_in_declaration_order()
    {
        var result = Bind(("PORT", "x"), ("LOG_LEVEL", "verbose"), ("ENABLE_SVIX", "maybe"), ("REDIS_URL", "tcp://r"));

        Assert.Equal(["PORT", "LOG_LEVEL", "ENABLE_SVIX", "REDIS_URL"], result.Problems.Select(p => p.Variable));
    }

    [Fact]
    public void A_secret_value_never_appears_in_a_problem_line()
    {
        var result = Bind(("STATIC_API_KEY", "tiny key"), ("REDIS_URL", "http://user:hunter2-password@cache:6379"));

        var text = string.Join("\n", result.Problems);
        Assert.DoesNotContain("tiny key", text, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2-password", text, StringComparison.Ordinal);
        Assert.Contains("STATIC_API_KEY='********'", text, StringComparison.Ordinal);
        // The host of a URL stays visible: it is what the operator needs to find the mistake.
        Assert.Contains("REDIS_URL='http://user:********@cache:6379'", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_lists_each_setting_with_its_default()
    {
        var port = SettingsBinder.Describe([typeof(ServerOptions)]).Single(d => d.Name == "PORT");

        Assert.Equal(3001, port.Default);
        Assert.Equal(typeof(ServerOptions), port.Owner);
    }
}
