using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Parley.Orchestration.Platforms.Kubernetes;

public static class KubernetesServiceCollectionExtensions
{
    /// <summary>
    /// Registers the `k8s` platform when PLATFORM_PRIORITY lists it and K8S_BOT_LIMIT is set. Otherwise it is
    /// left out: no Kubernetes client is built and reconciliation never calls an API server nobody asked for.
    /// Reads the options objects the host registered as instances (they are bound before services are added).
    /// </summary>
    public static IServiceCollection AddParleyKubernetesPlatform(this IServiceCollection services)
    {
        var orchestrator = Instance<OrchestratorOptions>(services);
        if (orchestrator is null || !orchestrator.Chain.Contains(KubernetesPlatform.PlatformName) || orchestrator.KubernetesBotLimit is null)
        {
            return services;
        }

        var options = Instance<KubernetesOptions>(services) ?? new KubernetesOptions();
        services.AddSingleton(sp => new KubernetesPlatform(options, sp.GetRequiredService<ILogger<KubernetesPlatform>>()));
        services.AddSingleton<IBotPlatform>(sp => sp.GetRequiredService<KubernetesPlatform>());
        return services;
    }

    private static T? Instance<T>(IServiceCollection services) where T : class =>
        services.LastOrDefault(d => d.ServiceType == typeof(T) && !d.IsKeyedService)?.ImplementationInstance as T;
}
