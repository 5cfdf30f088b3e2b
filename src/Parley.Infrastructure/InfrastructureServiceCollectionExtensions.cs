using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Parley.Core.Configuration;
using Parley.Core.Locks;
using Parley.Core.Queues;
using Parley.Core.Storage;
using Parley.Infrastructure.Aws;
using Parley.Infrastructure.Locks;
using Parley.Infrastructure.Queues;
using Parley.Infrastructure.Storage;

namespace Parley.Infrastructure;

public static class InfrastructureServiceCollectionExtensions
{
    /// <summary>
    /// Registers, from validated settings: <see cref="IArtifactStore"/> (S3 when AWS_S3_ARTIFACTS_BUCKET is
    /// set, else <see cref="LocalArtifactStore"/>); <see cref="IBotJobQueue"/> as <see cref="SqsBotJobQueue"/>
    /// only when <see cref="QueueOptions.IsSqsConfigured"/> (otherwise the caller registers the embedded
    /// queue); <see cref="IDistributedLock"/> (Redis when REDIS_URL is set, with <see cref="RedisConnection"/>,
    /// else in-memory: register a replacement after this call, the last registration wins). Needs logging.
    /// </summary>
    public static IServiceCollection AddParleyInfrastructure(this IServiceCollection services, SettingsBindResult settings)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(settings);
        var server = settings.Get<ServerOptions>();
        var aws = settings.Get<AwsOptions>();
        var storage = settings.Get<StorageOptions>();
        var queue = settings.Get<QueueOptions>();
        var redis = settings.Get<RedisOptions>();
        var locks = settings.Get<LockOptions>();

        if (storage.IsS3Configured)
        {
            services.AddSingleton<IArtifactStore>(sp => new S3ArtifactStore(
                S3ArtifactStore.CreateClient(aws, storage), storage.ArtifactsBucket!, storage.LogsBucket,
                sp.GetRequiredService<ILogger<S3ArtifactStore>>(), ownsClient: true));
        }
        else
        {
            services.AddSingleton(_ => new LocalUrlSigner(
                ArtifactSigningKey.Resolve(storage.SigningKey, server.DataDirectory), server.EffectiveBaseUrl));
            services.AddSingleton(sp => new LocalArtifactStore(
                server.DataDirectory, sp.GetRequiredService<LocalUrlSigner>(), sp.GetRequiredService<ILogger<LocalArtifactStore>>()));
            services.AddSingleton<IArtifactStore>(sp => sp.GetRequiredService<LocalArtifactStore>());
        }

        if (queue.IsSqsConfigured)
        {
            services.AddSingleton(sp => new SqsBotJobQueue(
                SqsBotJobQueue.CreateClient(aws, queue), queue, sp.GetRequiredService<ILogger<SqsBotJobQueue>>(), ownsClient: true));
            services.AddSingleton<IBotJobQueue>(sp => sp.GetRequiredService<SqsBotJobQueue>());
        }

        if (redis.Url is { } url)
        {
            services.AddSingleton(_ => new RedisConnection(url));
            services.AddSingleton<IDistributedLock>(sp => new RedisDistributedLock(
                sp.GetRequiredService<RedisConnection>(), sp.GetRequiredService<ILogger<RedisDistributedLock>>(), locks.RedisKeyPrefix));
        }
        else
        {
            services.AddSingleton<IDistributedLock, InMemoryDistributedLock>();
        }

        return services;
    }
}
