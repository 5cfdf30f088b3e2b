using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Parley.Core.Bots;
using Parley.Core.Locks;

namespace Parley.Orchestration.Platforms.Coolify;

public static class CoolifyServiceCollectionExtensions
{
    /// <summary>The pool platform, only when PLATFORM_PRIORITY lists coolify with COOLIFY_BOT_LIMIT set.</summary>
    public static IServiceCollection AddParleyCoolifyPlatform(this IServiceCollection services)
    {
        if (Instance<OrchestratorOptions>(services) is not { } orchestrator || !CoolifyOptions.IsSelected(orchestrator))
        {
            return services;
        }

        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<CoolifyOptions>();
            return new CoolifyPlatform(new CoolifyApiClient(options), options, orchestrator.CoolifyBotLimit!.Value,
                orchestrator.DeploymentTimeoutOf(CoolifyPlatform.PlatformName), sp.GetRequiredService<IDistributedLock>(),
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<CoolifyPlatform>>());
        });
        services.AddSingleton<IBotPlatform>(sp => sp.GetRequiredService<CoolifyPlatform>());
        return services;
    }

    /// <summary>
    /// `GET /api/bots/pool-stats` reads the pool from Coolify on any role (the slot states live there), so an
    /// api-only replica answers too; the orchestrator's platform is reused when this process has one.
    /// </summary>
    public static IServiceCollection AddParleyCoolifyPoolStats(this IServiceCollection services)
    {
        if (Instance<OrchestratorOptions>(services) is not { } orchestrator || !CoolifyOptions.IsSelected(orchestrator))
        {
            return services;
        }

        services.AddSingleton<IPoolStatsSource>(sp => sp.GetService<CoolifyPlatform>() as IPoolStatsSource
            ?? new CoolifyPoolStats(new CoolifyApiClient(sp.GetRequiredService<CoolifyOptions>())));
        return services;
    }

    /// <summary>Options are registered as instances before the areas are added (ParleyServices), so they can steer registration.</summary>
    private static T? Instance<T>(IServiceCollection services) where T : class =>
        services.LastOrDefault(d => d.ServiceType == typeof(T) && d.ImplementationInstance is not null)?.ImplementationInstance as T;

    private sealed class CoolifyPoolStats(CoolifyApiClient api) : IPoolStatsSource, IDisposable
    {
        public async Task<PoolSlotCounts> GetAsync(CancellationToken cancellationToken) => CoolifyPlatform.Count(await api.ListSlotsAsync(cancellationToken));

        public void Dispose() => api.Dispose();
    }
}
