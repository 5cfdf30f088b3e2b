using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Parley.Core.Configuration;
using Prometheus;

namespace Parley.Api.Operations;

/// <summary>
/// Health, readiness, features and metrics: served by every role, so that Kubernetes probes and Prometheus
/// work the same for an api replica, a jobs replica or an SFU node.
/// </summary>
public static class OperationsEndpoints
{
    private const string HealthTag = "health";
    private const string ReadyTag = "ready";

    public static IServiceCollection AddParleyOperations(this IServiceCollection services)
    {
        services.AddSingleton<ReadinessState>();
        services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database", HealthStatus.Unhealthy, [HealthTag, ReadyTag], TimeSpan.FromSeconds(5))
            .AddCheck<MigrationsHealthCheck>("migrations", HealthStatus.Unhealthy, [ReadyTag], TimeSpan.FromSeconds(5))
            .AddCheck<RolesHealthCheck>("roles", HealthStatus.Unhealthy, [ReadyTag]);
        return services;
    }

    public static IEndpointRouteBuilder MapParleyOperations(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/health", Options(HealthTag)).WithName("Health");
        endpoints.MapHealthChecks("/ready", Options(ReadyTag)).WithName("Ready");
        endpoints.MapGet("/liveness", () => TypedResults.Ok(new { status = "alive" })).WithName("Liveness");
        endpoints.MapGet("/status/features", GetFeatures).WithName("Features");
        endpoints.MapMetrics("/metrics");
        return endpoints;
    }

    /// <summary>Property names exactly as written (camelCase), not the API's snake_case.</summary>
    private static readonly JsonSerializerOptions AsWritten = new(JsonSerializerDefaults.General);

    /// <summary>Exactly the Meeting BaaS shape, so their troubleshooting steps read the same here.</summary>
    internal static IResult GetFeatures(FeatureOptions features) => Results.Json(new
    {
        selfHosted = features.SelfHosted,
        features = new
        {
            stripe = features.Stripe,
            svix = features.Svix,
            calendar = features.Calendar,
            multitenant = features.MultiTenant,
            dashboard = features.Dashboard,
            transcription = features.Transcription,
            email = features.Email,
        },
    }, AsWritten);

    private static HealthCheckOptions Options(string tag) => new()
    {
        Predicate = registration => registration.Tags.Contains(tag),
        ResultStatusCodes =
        {
            [HealthStatus.Healthy] = StatusCodes.Status200OK,
            [HealthStatus.Degraded] = StatusCodes.Status200OK,
            [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
        },
        ResponseWriter = WriteReportAsync,
    };

    private static Task WriteReportAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        var body = new
        {
            status = Name(report.Status),
            duration_ms = Math.Round(report.TotalDuration.TotalMilliseconds, 1),
            components = report.Entries.ToDictionary(
                e => e.Key,
                e => new
                {
                    status = Name(e.Value.Status),
                    description = e.Value.Description,
                    duration_ms = Math.Round(e.Value.Duration.TotalMilliseconds, 1),
                }),
        };
        return JsonSerializer.SerializeAsync(context.Response.Body, body, cancellationToken: context.RequestAborted);
    }

    private static string Name(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "up",
        HealthStatus.Degraded => "degraded",
        _ => "down",
    };
}
