using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Parley.Api;
using Parley.Api.Sfu;
using Parley.Api.Bots;
using Parley.Core.Bots;
using Parley.Core.Configuration;
using Parley.Core.Locks;
using Parley.Core.Queues;
using Parley.Data;
using Parley.Data.Locks;
using Parley.Data.Queues;
using Parley.Infrastructure;
using Parley.Infrastructure.Queues;
using Parley.Orchestration;

namespace Parley.Hosting;

/// <summary>
/// The services of every Parley process, web or not: settings, database, storage, queue, locks and the
/// bot services. `serve` adds the web host on top; `parley job run` uses them as they are.
/// </summary>
public static class ParleyServices
{
    public static IServiceCollection AddParleyServices(this IServiceCollection services, SettingsBindResult settings, ServerRoles roles, DatabaseTarget database)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(roles);
        foreach (var options in settings.All)
        {
            Register(services, options);
        }

        services.AddSingleton(roles);
        services.AddSingleton(TimeProvider.System);
        services.AddParleyData(database);
        services.AddParleyInfrastructure(settings);
        var queue = settings.Get<QueueOptions>();
        if (!queue.IsSqsConfigured)
        {
            services.AddSingleton<IBotJobQueue>(sp => new EmbeddedBotJobQueue(
                sp.GetRequiredService<ParleyDbContextFactory>(), sp.GetRequiredService<TimeProvider>(), queue.MaxReceives));
        }

        if (settings.Get<RedisOptions>().Url is null)
        {
            // Without Redis the duplicate-bot and job locks live in the database (advisory locks on PostgreSQL).
            services.AddSingleton<IDistributedLock>(sp => new DatabaseDistributedLock(database, sp.GetRequiredService<TimeProvider>()));
        }

        services.AddParleyApi(roles.Has("api"), roles.Has("jobs"));
        // The orchestrator reaches the API's status changes and bot tokens through ports in Parley.Core.
        services.AddSingleton<IBotStatusChanges, BotStatusChangesAdapter>();
        services.AddSingleton<IBotTokenIssuer, BotTokenIssuerAdapter>();
        services.AddParleyPlatformStatus();
        services.AddParleySfu(sfuRole: roles.Has("sfu"));
        if (roles.Has("orchestrator"))
        {
            services.AddParleyOrchestrator();
        }

        return services;
    }

    /// <summary>Each options object is available both as itself and as IOptions&lt;T&gt;.</summary>
    private static void Register(IServiceCollection services, object options)
    {
        var type = options.GetType();
        services.AddSingleton(type, options);
        var wrapper = Activator.CreateInstance(typeof(OptionsWrapper<>).MakeGenericType(type), options)!;
        services.AddSingleton(typeof(IOptions<>).MakeGenericType(type), wrapper);
    }
}
