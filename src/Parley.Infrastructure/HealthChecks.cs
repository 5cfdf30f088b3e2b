using Microsoft.Extensions.Diagnostics.HealthChecks;
using Parley.Core.Storage;
using Parley.Infrastructure.Locks;

namespace Parley.Infrastructure;

/// <summary>Artifact storage can be written (local) or its buckets listed (S3).</summary>
public sealed class ArtifactStoreHealthCheck(IArtifactStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return await store.IsHealthyAsync(cancellationToken)
                ? HealthCheckResult.Healthy(store.Kind)
                : HealthCheckResult.Unhealthy($"{store.Kind}: not reachable or not writable (see the log)");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"{store.Kind}: {ex.Message}");
        }
    }
}

/// <summary>Redis answers PING. Registered only when REDIS_URL is set.</summary>
public sealed class RedisHealthCheck(RedisConnection connection) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var database = await connection.GetDatabaseAsync().WaitAsync(cancellationToken);
            var latency = await database.PingAsync().WaitAsync(cancellationToken);
            return HealthCheckResult.Healthy($"{connection.Description} ({latency.TotalMilliseconds:0.0} ms)");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"{connection.Description}: {ex.Message}");
        }
    }
}
