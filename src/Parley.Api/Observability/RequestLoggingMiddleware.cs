using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Parley.Api.Observability;

/// <summary>
/// One log line per request with its id. The id comes from an incoming `x-request-id` when it is sane (so a
/// gateway's id follows the request), else the server makes one; it is echoed in the response and is the
/// scope of every log line written while the request runs.
/// </summary>
public sealed partial class RequestLoggingMiddleware(RequestDelegate next, ILogger<RequestLoggingMiddleware> logger)
{
    public const string HeaderName = "x-request-id";

    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var incoming = context.Request.Headers[HeaderName].ToString();
        var requestId = IsValidId(incoming) ? incoming : Guid.NewGuid().ToString("N");
        context.TraceIdentifier = requestId;
        context.Response.Headers[HeaderName] = requestId;

        using var scope = logger.BeginScope(new Dictionary<string, object> { ["RequestId"] = requestId });
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var path = context.Request.Path.Value ?? "/";
            // Probes and scrapes arrive every few seconds; at info they would drown everything else.
            if (IsProbe(path))
            {
                LogProbe(logger, context.Request.Method, path, context.Response.StatusCode, elapsed, requestId);
            }
            else
            {
                LogRequest(logger, context.Request.Method, path, context.Response.StatusCode, elapsed, requestId);
            }
        }
    }

    internal static bool IsValidId(string value) =>
        value.Length is > 0 and <= 128 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');

    private static bool IsProbe(string path) =>
        path is "/health" or "/liveness" or "/ready" or "/metrics";

    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "HTTP {Method} {Path} responded {StatusCode} in {ElapsedMs:0.0} ms (request {RequestId})")]
    private static partial void LogRequest(ILogger logger, string method, string path, int statusCode, double elapsedMs, string requestId);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Debug, Message = "HTTP {Method} {Path} responded {StatusCode} in {ElapsedMs:0.0} ms (request {RequestId})")]
    private static partial void LogProbe(ILogger logger, string method, string path, int statusCode, double elapsedMs, string requestId);
}
