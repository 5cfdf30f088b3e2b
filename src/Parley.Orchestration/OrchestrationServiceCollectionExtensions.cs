using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Parley.Core.Bots;
using Parley.Core.Configuration;
using Parley.Infrastructure.Aws;
using Parley.Infrastructure.Storage;
using Parley.Orchestration.Platforms;
using Parley.Orchestration.Platforms.Coolify;
using Parley.Orchestration.Platforms.Kubernetes;
using Parley.Orchestration.Platforms.Ecs;
using Parley.Orchestration.Platforms.Local;
using Prometheus;

namespace Parley.Orchestration;

public static class OrchestrationServiceCollectionExtensions
{
    /// <summary>
    /// `GET /v2/platforms` figures: every process registers them (they come from the database), so an
    /// api-only replica answers too.
    /// </summary>
    public static IServiceCollection AddParleyPlatformStatus(this IServiceCollection services)
    {
        services.AddSingleton<PlatformStatusSource>();
        services.AddSingleton<IPlatformStatusSource>(sp => sp.GetRequiredService<PlatformStatusSource>());
        services.AddParleyCoolifyPoolStats();
        return services;
    }

    /// <summary>
    /// The orchestrator role. Needs <see cref="IBotStatusChanges"/> and <see cref="IBotTokenIssuer"/>, which
    /// the host registers from the API. <paramref name="localCommand"/> replaces the bot command (tests).
    /// </summary>
    public static IServiceCollection AddParleyOrchestrator(this IServiceCollection services, LocalBotCommand? localCommand = null)
    {
        services.AddParleyPlatformStatus();
        services.AddSingleton(sp =>
        {
            var server = sp.GetRequiredService<ServerOptions>();
            var grace = TimeSpan.FromMilliseconds(sp.GetRequiredService<OrchestratorOptions>().LocalBotStopGraceMs);
            return new LocalPlatform(localCommand ?? LocalBotCommand.Current(), Path.Combine(server.DataDirectory, "logs", "bots"), sp.GetRequiredService<ILogger<LocalPlatform>>(), grace);
        });
        services.AddSingleton<IBotPlatform>(sp => sp.GetRequiredService<LocalPlatform>());
        services.AddParleyKubernetesPlatform();
        services.AddParleyCoolifyPlatform();
        services.AddParleyEcsPlatform();
        services.AddSingleton(sp => new PlatformChain(sp.GetRequiredService<OrchestratorOptions>(), sp.GetServices<IBotPlatform>()));
        services.AddSingleton(sp =>
        {
            var server = sp.GetRequiredService<ServerOptions>();
            object[] storage = [sp.GetRequiredService<StorageOptions>(), sp.GetRequiredService<AwsOptions>(), sp.GetRequiredService<Parley.Core.Storage.FallbackStorageOptions>()];
            return BotEnvironment.Create(server.EffectiveBaseUrl, server.DataDirectory, storage);
        });
        services.AddSingleton<CapacityLedger>();
        services.AddSingleton<BotDeployer>();
        services.AddSingleton<HealthMonitor>();
        services.AddSingleton<Orchestrator>();
        services.AddHostedService(sp =>
        {
            var status = sp.GetRequiredService<PlatformStatusSource>();
            Metrics.DefaultRegistry.AddBeforeCollectCallback(status.RefreshMetricsAsync);
            return sp.GetRequiredService<Orchestrator>();
        });
        return services;
    }
}
