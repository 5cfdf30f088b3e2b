using Parley.Core.Configuration;

namespace Parley.Core.Tests.Configuration;

public sealed class ConfigProblemTests
{
    [Theory]
    [InlineData("postgres://parley:s3cret@db:5432/parley?sslmode=require", "postgres://parley:********@db:5432/parley?sslmode=require")]
    [InlineData("redis://:pw@cache:6379", "redis://:********@cache:6379")]
    [InlineData("redis://cache:6379", "redis://cache:6379")]
    [InlineData("plain-secret-value", "********")]
    [InlineData("", "")]
    public void Secrets_are_masked_but_a_url_keeps_its_host(string value, string expected)
    {
        Assert.Equal(expected, ConfigProblem.Mask(value, secret: true));
    }

    [Fact]
    public void A_value_that_is_not_secret_is_shown_as_given()
    {
        Assert.Equal("PORT='abc': expected an integer", new ConfigProblem("PORT", "abc", "expected an integer").ToString());
        Assert.Equal("SVIX_URL=(not set): required", new ConfigProblem("SVIX_URL", null, "required").ToString());
    }
}
