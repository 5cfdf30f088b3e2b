using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.Infrastructure.Locks;
using Parley.Infrastructure.Storage;
using Parley.Testing;

namespace Parley.Infrastructure.Tests;

public sealed class HealthCheckTests
{
    [Fact]
    public async Task Storage_is_healthy_when_writable_and_names_its_kind()
    {
        using var data = new TempDirectory();
        var store = new LocalArtifactStore(data.Path, new LocalUrlSigner(new byte[32], new Uri("http://127.0.0.1")), NullLogger<LocalArtifactStore>.Instance);

        var result = await new ArtifactStoreHealthCheck(store).CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Healthy, result.Status);
        Assert.Equal("local", result.Description);
    }

    [Fact]
    public async Task Redis_is_healthy_when_it_answers_ping()
    {
        await using var connection = new RedisConnection(new Uri(TestEnvironment.RedisUrl));

        var result = await new RedisHealthCheck(connection).CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Healthy, result.Status);
        Assert.StartsWith("redis://127.0.0.1:", result.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Redis_that_cannot_be_reached_is_unhealthy_without_throwing()
    {
        // Port 9 (discard) has no listener on loopback.
        await using var connection = new RedisConnection(new Uri("redis://:password@127.0.0.1:9"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var result = await new RedisHealthCheck(connection).CheckHealthAsync(new HealthCheckContext(), timeout.Token);

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.DoesNotContain("password", result.Description, StringComparison.Ordinal);
    }
}
