using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Parley.Api.Artifacts;
using Parley.Api.Auth;
using Parley.Api.Bots;
using Parley.Api.Http;
using Parley.Api.Internal;
using Parley.Api.Jobs;
using Parley.Api.Meetings;
using Parley.Api.Observability;
using Parley.Api.Operations;
using Parley.Api.ScheduledBots;
using Parley.Api.Teams;
using Parley.Api.Webhooks;
using Parley.Core.Configuration;
using Parley.Infrastructure;
using Prometheus;

namespace Parley.Api;

public static class ApiServiceCollectionExtensions
{
    /// <summary>Services every role's HTTP surface needs: health checks, readiness, request logging.</summary>
    public static IServiceCollection AddParleyHttp(this IServiceCollection services, bool withRedis)
    {
        services.AddParleyOperations();
        var health = services.AddHealthChecks()
            .AddCheck<ArtifactStoreHealthCheck>("storage", HealthStatus.Unhealthy, ["health"], TimeSpan.FromSeconds(5));
        if (withRedis)
        {
            health.AddCheck<RedisHealthCheck>("redis", HealthStatus.Unhealthy, ["health", "ready"], TimeSpan.FromSeconds(5));
        }

        return services;
    }

    /// <summary>
    /// The bots API and what runs behind it. The outbox dispatcher runs with the api role (every replica
    /// that accepts bots also hands them on); webhook delivery runs with the jobs role.
    /// </summary>
    public static IServiceCollection AddParleyApi(this IServiceCollection services, bool apiRole, bool jobsRole)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ApiKeyAuthenticator>();
        services.AddSingleton<ApiKeyFilter>();
        services.AddSingleton<AdminApiKeyFilter>();
        services.AddSingleton<TeamService>();
        services.AddSingleton<RateLimitFilter>();
        services.AddSingleton<RateLimitWindows>();
        services.AddSingleton<BotTokenFilter>();
        services.AddSingleton<BotRequestValidator>();
        services.AddSingleton<BotViews>();
        services.AddSingleton<BotCreator>();
        services.AddSingleton<OutboxSignals>();
        services.AddSingleton<BotLifecycle>();
        services.AddSingleton<BotTokens>();
        services.AddSingleton<WebhookPublisher>();
        services.AddSingleton<WebhookSignals>();
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<SvixClient>();
        services.AddSingleton<OutboxDispatcher>();
        services.AddSingleton<WebhookDeliveryLoop>();
        if (apiRole)
        {
            services.AddHostedService(sp => sp.GetRequiredService<OutboxDispatcher>());
        }

        services.AddSingleton<ScheduledBotSignals>();
        services.AddSingleton<IParleyJob, ScheduledBotJob>();
        services.AddSingleton<IParleyJob, PickupDelayedJob>();
        services.AddSingleton<IParleyJob, DataRetentionJob>();
        services.AddSingleton<IParleyJob, TeamPermanentDeletionJob>();
        services.AddSingleton<IParleyJob, WebhookRetryJob>();
        services.AddSingleton<IParleyJob, FallbackUploadJob>();
        services.AddSingleton<JobRunner>();
        services.AddSingleton<BotMetrics>();
        services.AddParleyMeetings();
        if (jobsRole)
        {
            services.AddHostedService<SvixEventTypeRegistration>();
            services.AddHostedService(sp => sp.GetRequiredService<WebhookDeliveryLoop>());
            services.AddHostedService(sp => sp.GetRequiredService<JobRunner>());
        }

        services.AddParleyOpenApi();
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        });
        return services;
    }

    /// <summary>The middleware pipeline and the endpoints every role serves.</summary>
    public static WebApplication UseParleyHttp(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseMiddleware<RequestLoggingMiddleware>();
        app.UseRouting();
        // After routing, so the route template (not the raw path) labels the per-route metrics.
        app.UseHttpMetrics();
        app.MapParleyOperations();
        return app;
    }

    /// <summary>The public `/v2` API (API key and rate limit on every endpoint) and the bot-facing API.</summary>
    public static WebApplication MapParleyApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // The admin API has its own group and filter (x-admin-api-key): the /v2 group's team key does not apply.
        app.MapTeams();
        app.MapParleyOpenApi();
        app.Services.GetRequiredService<BotMetrics>().Register();
        var v2 = app.MapGroup("/v2").AddEndpointFilter<ApiKeyFilter>().AddEndpointFilter<RateLimitFilter>();
        v2.MapBots();
        v2.MapScheduledBots();
        v2.MapWebhookEndpoints();
        v2.MapPlatforms();
        v2.MapMeetings();
        app.MapInternalBots();
        app.MapPoolStats();
        // The web client's guest tokens: public, the meeting id is the invitation (rate limited per address).
        app.MapMeetingGuests();
        // Signed download links carry their own authorisation (no API key): they are handed to third parties.
        app.MapParleyArtifacts();
        return app;
    }
}
