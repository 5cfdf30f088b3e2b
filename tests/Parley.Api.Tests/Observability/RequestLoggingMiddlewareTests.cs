using Parley.Api.Observability;

namespace Parley.Api.Tests.Observability;

public sealed class RequestLoggingMiddlewareTests
{
    [Theory]
    [InlineData("3f2c9a1e-7b4d-4c2a-9f0e-1a2b3c4d5e6f", true)]
    [InlineData("gateway.req:42_a", true)]
    [InlineData("", false)]
    [InlineData("has space", false)]
    [InlineData("new\nline", false)]
    [InlineData("<script>", false)]
    public void Only_sane_incoming_request_ids_are_kept(string value, bool valid)
    {
        Assert.Equal(valid, RequestLoggingMiddleware.IsValidId(value));
    }

    [Fact]
    public void An_overlong_request_id_is_replaced()
    {
        Assert.False(RequestLoggingMiddleware.IsValidId(new string('a', 129)));
        Assert.True(RequestLoggingMiddleware.IsValidId(new string('a', 128)));
    }
}
