using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Parley.Api.Auth;

namespace Parley.Api.Http;

/// <summary>
/// Per-team limit on writes (POST, PATCH, DELETE): a one-second fixed window of
/// PARLEY_RATE_LIMIT_PER_SECOND requests, announced in the x-ratelimit-* headers of every write.
/// The window is per replica; a deployment with N api replicas allows up to N times the figure.
/// </summary>
public sealed class RateLimitFilter(ApiOptions options, RateLimitWindows windows, TimeProvider time) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.HttpContext;
        var limit = options.RateLimitPerSecond;
        if (limit == 0 || HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method))
        {
            return await next(context);
        }

        var team = TeamContext.Get(http).TeamId;
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        var second = nowMs / 1000;
        var window = windows.For(team);
        int used;
        lock (window)
        {
            if (window.Second != second)
            {
                window.Second = second;
                window.Count = 0;
            }

            used = ++window.Count;
        }

        var headers = http.Response.Headers;
        headers["x-ratelimit-limit"] = limit.ToString(CultureInfo.InvariantCulture);
        headers["x-ratelimit-remaining"] = Math.Max(0, limit - used).ToString(CultureInfo.InvariantCulture);
        headers["x-ratelimit-reset"] = (second + 1).ToString(CultureInfo.InvariantCulture);
        if (used > limit)
        {
            headers["retry-after"] = "1";
            return ApiError.TooManyRequests(1);
        }

        return await next(context);
    }

}

/// <summary>
/// The per-team counters. A singleton apart from the filter, because endpoint filters are created per
/// endpoint, and the window must be one per team across all endpoints.
/// </summary>
public sealed class RateLimitWindows
{
    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);

    internal Window For(string team) => _windows.GetOrAdd(team, _ => new Window());

    internal sealed class Window
    {
        public long Second { get; set; }

        public int Count { get; set; }
    }
}
