using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Parley.Api.Observability;
using Parley.Api.Operations;
using Prometheus;

namespace Parley.Api;

public static class ApiServiceCollectionExtensions
{
    /// <summary>Services every role's HTTP surface needs: health checks, readiness, request logging.</summary>
    public static IServiceCollection AddParleyHttp(this IServiceCollection services)
    {
        services.AddParleyOperations();
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
}
