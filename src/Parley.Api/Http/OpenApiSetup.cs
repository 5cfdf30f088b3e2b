using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Parley.Api.Http;

/// <summary>The success envelope as the OpenAPI document describes it.</summary>
public sealed record Envelope<T>(bool Success, T Data);

/// <summary>
/// `/openapi/v1.json` generated from the endpoints and their declared bodies and results, and interactive
/// docs at `/docs` (Scalar, served from the package's embedded assets, so it works without internet).
/// </summary>
public static class OpenApiSetup
{
    public const string DocumentPath = "/openapi/v1.json";

    public static IServiceCollection AddParleyOpenApi(this IServiceCollection services) =>
        services.AddOpenApi("v1", options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Parley API",
                    Version = "v2",
                    Description = "Meeting bots compatible with Meeting BaaS v2, Parley meetings, and operations. Send the API key in x-meeting-baas-api-key.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes["ApiKey"] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Header,
                    Name = "x-meeting-baas-api-key",
                    Description = "STATIC_API_KEY in single-tenant mode, a team key in multi-tenant mode.",
                };
                document.Components.SecuritySchemes["AdminKey"] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Header,
                    Name = "x-admin-api-key",
                    Description = "PARLEY_ADMIN_API_KEY, for /v2/teams in multi-tenant mode.",
                };
                document.Components.SecuritySchemes["BotToken"] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "The bot token minted when a bot is deployed (internal API only).",
                };
                // Health checks and the Prometheus scrape are mapped by their libraries, outside the endpoint
                // metadata the generator reads; they are described here so the document lists every endpoint.
                document.Paths ??= new OpenApiPaths();
                AddOperation(document, "/health", "Health", "Each component (database, storage, redis) and its state; 503 when a required one is down.", "application/json");
                AddOperation(document, "/ready", "Ready", "503 until the database is reachable and migrated and every configured role has started.", "application/json");
                AddOperation(document, "/metrics", "Metrics", "Prometheus text exposition: process, runtime, HTTP per route, bots, queue, outbox, webhooks, jobs.", "text/plain");
                return Task.CompletedTask;
            });
        });

    private static void AddOperation(OpenApiDocument document, string path, string id, string description, string contentType)
    {
        var operation = new OpenApiOperation
        {
            OperationId = id,
            Summary = description,
            Tags = new HashSet<OpenApiTagReference> { new("Operations", document) },
            Responses = new OpenApiResponses
            {
                ["200"] = new OpenApiResponse { Description = "OK", Content = new Dictionary<string, OpenApiMediaType> { [contentType] = new() } },
            },
        };
        if (path != "/metrics")
        {
            operation.Responses["503"] = new OpenApiResponse { Description = "A required component is down or not ready", Content = new Dictionary<string, OpenApiMediaType> { [contentType] = new() } };
        }

        document.Paths[path] = new OpenApiPathItem { Operations = new Dictionary<HttpMethod, OpenApiOperation> { [HttpMethod.Get] = operation } };
    }

    public static IEndpointRouteBuilder MapParleyOpenApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapOpenApi(DocumentPath);
        endpoints.MapScalarApiReference("/docs", options => options.WithOpenApiRoutePattern(DocumentPath).WithTitle("Parley API"));
        return endpoints;
    }

    /// <summary>The errors every authenticated endpoint can answer with.</summary>
    public static RouteHandlerBuilder ProducesErrors(this RouteHandlerBuilder builder, params int[] statuses)
    {
        ArgumentNullException.ThrowIfNull(builder);
        foreach (var status in statuses.Length == 0 ? [400, 401, 404] : statuses)
        {
            builder.Produces<ErrorEnvelope>(status);
        }

        return builder;
    }
}
