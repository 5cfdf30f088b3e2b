using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Parley.Api.Auth;
using Parley.Api.Http;
using Parley.Core.Queues;

namespace Parley.Api.Operations;

/// <summary>The Coolify pool figures (Meeboter's shape).</summary>
public sealed record PoolStats(int Total, int Idle, int Busy, int Error, long QueueLength);

/// <summary>
/// `GET /api/bots/pool-stats` (API.md "Operations"), Meeboter's path and camelCase shape. The Coolify pool
/// platform is not part of this build, so the pool is empty and only the queue length is live; the figures
/// come from the pool once that platform lands. Unlike Meeboter it needs an API key.
/// </summary>
public static class PoolStatsEndpoint
{
    public static IEndpointRouteBuilder MapPoolStats(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/bots/pool-stats", GetAsync)
            .AddEndpointFilter<ApiKeyFilter>()
            .WithTags("Operations").WithName("PoolStats").WithSummary("Coolify pool: total, idle, busy, error slots and queue length")
            .Produces<PoolStats>().ProducesErrors(401);
        return endpoints;
    }

    internal static async Task<IResult> GetAsync(IBotJobQueue queue, HttpContext http)
    {
        var depth = await queue.GetDepthAsync(http.RequestAborted);
        return Results.Json(new PoolStats(0, 0, 0, 0, depth.Visible), new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web));
    }
}
