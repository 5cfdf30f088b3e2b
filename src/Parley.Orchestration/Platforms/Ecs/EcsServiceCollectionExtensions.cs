using Amazon.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Parley.Infrastructure.Aws;

namespace Parley.Orchestration.Platforms.Ecs;

public static class EcsServiceCollectionExtensions
{
    /// <summary>
    /// Registers the `aws` platform when PLATFORM_PRIORITY lists it with AWS_BOT_LIMIT: only then are its
    /// settings validated as complete, and an unconfigured platform must not be reconciled against ECS.
    /// </summary>
    public static IServiceCollection AddParleyEcsPlatform(this IServiceCollection services)
    {
        if (Instance<OrchestratorOptions>(services) is not { } orchestrator || !EcsOptions.IsSelected(orchestrator))
        {
            return services;
        }

        services.AddSingleton(sp =>
        {
            var aws = sp.GetRequiredService<AwsOptions>();
            var ecs = sp.GetRequiredService<EcsOptions>();
            AWSCredentials? credentials = aws.AccessKeyId is not null && aws.SecretAccessKey is not null
                ? new BasicAWSCredentials(aws.AccessKeyId, aws.SecretAccessKey)
                : null;
            var client = new EcsClient(aws.Region, ecs.EndpointUrl ?? aws.EndpointUrl, credentials, sp.GetService<TimeProvider>());
            return new EcsPlatform(client, ecs, sp.GetRequiredService<ILogger<EcsPlatform>>());
        });
        services.AddSingleton<IBotPlatform>(sp => sp.GetRequiredService<EcsPlatform>());
        return services;
    }

    /// <summary>Options are registered as instances (bound once at start), so they can steer registration.</summary>
    private static T? Instance<T>(IServiceCollection services) where T : class =>
        services.LastOrDefault(d => d.ServiceType == typeof(T) && d.ImplementationInstance is not null)?.ImplementationInstance as T;
}
