using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Parley.Api.Auth;
using Parley.Api.Http;
using Microsoft.Extensions.DependencyInjection;
using Parley.Core.Bots;
using Parley.Core.Queues;

namespace Parley.Api.Operations;

/// <summary>The Coolify pool figures (Meeboter's shape).</summary>
public sealed record PoolStats(int Total, int Idle, int Busy, int Error, long QueueLength);

/// <summary>
/// `GET /api/bots/pool-stats` (API.md "Operations"), Meeboter's path and camelCase shape: the Coolify pool's
/// slots by state (busy includes deploying) when that platform is configured, an empty pool otherwise, and
/// the live queue length. Unlike Meeboter it needs an API key.
/// </summary>
public static class PoolStatsEndpoint
{
    public static IEndpointRouteBuilder MapPoolStats(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/bots/pool-stats", GetAsync)
            .AddEndpointFilter<ApiKeyFilter>()
            .WithTags("Operations").WithName("PoolStats").WithSummary("Coolify pool: total, idle, busy, error slots and queue length")
            .Produces<PoolStats>().ProducesErrors(401, 503);
        return endpoints;
    }

    internal static async Task<IResult> GetAsync(IBotJobQueue queue, HttpContext http)
    {
        var depth = await queue.GetDepthAsync(http.RequestAborted);
        // Registered only when the Coolify pool is configured; without it the pool is empty.
        var source = http.RequestServices.GetService<IPoolStatsSource>();
        PoolSlotCounts pool;
        try
        {
            pool = source is null ? new PoolSlotCounts(0, 0, 0, 0) : await source.GetAsync(http.RequestAborted);
        }
        catch (Exception ex) when (ex is HttpRequestException || ex is TaskCanceledException && !http.RequestAborted.IsCancellationRequested)
        {
            // The slots live in Coolify: when it cannot be reached there are no figures to give, which is
            // not a fault of this server.
            return ApiError.Create(503, "POOL_UNAVAILABLE", "Service unavailable", "The Coolify API could not be reached: " + ex.Message);
        }

        return Results.Json(new PoolStats(pool.Total, pool.Idle, pool.Busy, pool.Error, depth.Visible), new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web));
    }
}
