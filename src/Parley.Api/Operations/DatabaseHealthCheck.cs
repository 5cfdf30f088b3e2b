using Microsoft.Extensions.Diagnostics.HealthChecks;
using Parley.Data;

namespace Parley.Api.Operations;

/// <summary>The database answers a connection within the health check timeout.</summary>
public sealed class DatabaseHealthCheck(DatabaseMigrator migrator) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return await migrator.CanConnectAsync(cancellationToken)
                ? HealthCheckResult.Healthy(migrator.Target.Description)
                : HealthCheckResult.Unhealthy($"{migrator.Target.Description}: cannot connect");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"{migrator.Target.Description}: {ex.Message}");
        }
    }
}

/// <summary>No migration is pending: the schema is the one this build expects.</summary>
public sealed class MigrationsHealthCheck(DatabaseMigrator migrator, ReadinessState state) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (state.DatabaseMigrated)
        {
            return HealthCheckResult.Healthy("up to date");
        }

        try
        {
            var pending = await migrator.GetPendingMigrationsAsync(cancellationToken);
            if (pending.Count == 0)
            {
                state.MarkDatabaseMigrated();
                return HealthCheckResult.Healthy("up to date");
            }

            return HealthCheckResult.Unhealthy($"{pending.Count} migration(s) pending: run `parley migrate`");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"cannot read migrations: {ex.Message}");
        }
    }
}

/// <summary>Every configured role has started.</summary>
public sealed class RolesHealthCheck(ReadinessState state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(state.RolesStarted ? HealthCheckResult.Healthy("started") : HealthCheckResult.Unhealthy("starting"));
}
