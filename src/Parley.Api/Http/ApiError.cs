using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace Parley.Api.Http;

/// <summary>One field-level problem in a 400 response.</summary>
public sealed record ErrorDetail(string Field, string Problem);

/// <summary>The error envelope of API.md. `statusCode` and `retryAfter` are camelCase there, unlike the rest.</summary>
public sealed record ErrorEnvelope(
    bool Success,
    string Error,
    string Code,
    [property: JsonPropertyName("statusCode")] int StatusCode,
    string Message,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ErrorDetail>? Details,
    [property: JsonPropertyName("retryAfter"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? RetryAfter = null);

/// <summary>An error response that can also be inspected (batch creates report each item's code and details).</summary>
public sealed class ApiProblem(ErrorEnvelope envelope) : IResult
{
    public ErrorEnvelope Envelope { get; } = envelope;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        httpContext.Response.StatusCode = Envelope.StatusCode;
        if (Envelope.RetryAfter is { } seconds)
        {
            httpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return httpContext.Response.WriteAsJsonAsync(Envelope, ApiJson.Options);
    }
}

/// <summary>The stable error codes and the responses that carry them.</summary>
public static class ApiError
{
    public static ApiProblem Create(int status, string code, string error, string message, IReadOnlyList<ErrorDetail>? details = null, int? retryAfter = null) =>
        new(new ErrorEnvelope(false, error, code, status, message, details, retryAfter));

    public static ApiProblem Unauthorized() =>
        Create(401, "UNAUTHORIZED", "Unauthorized", "Send a valid API key in the x-meeting-baas-api-key header.");

    public static ApiProblem NotFound(string what = "Resource") =>
        Create(404, "NOT_FOUND", "Not found", $"{what} not found.");

    public static ApiProblem Validation(IReadOnlyList<ErrorDetail> details) =>
        Create(400, "VALIDATION_ERROR", "Validation failed", "The request body or query has invalid fields; see details.", details);

    public static ApiProblem Validation(string field, string problem) => Validation([new ErrorDetail(field, problem)]);

    public static ApiProblem InvalidJson(string problem) =>
        Create(400, "INVALID_JSON", "Invalid JSON", $"The request body is not valid JSON: {problem}");

    public static ApiProblem PayloadTooLarge(long limit) =>
        Create(413, "PAYLOAD_TOO_LARGE", "Payload too large", $"The request body exceeds {limit / 1024} KB.");

    public static ApiProblem InvalidMeetingUrl(string? url) =>
        Create(400, "INVALID_MEETING_URL", "Invalid meeting URL",
            "meeting_url must be a Parley meeting URL (…/meet/{id}), a Google Meet, Microsoft Teams or Zoom meeting link.",
            [new ErrorDetail("meeting_url", url is null ? "is required" : "is not a supported meeting URL")]);

    public static ApiProblem FeatureDisabled(string field, string flag) =>
        Create(400, "FEATURE_DISABLED", "Feature disabled", $"{field} needs {flag}=true on this server.", [new ErrorDetail(field, $"requires {flag}")]);

    public static ApiProblem Conflict(string code, string error, string message) => Create(409, code, error, message);

    public static ApiProblem BotStatus(string status, string action) =>
        Create(409, "BOT_STATUS", "Not allowed in this status", $"Cannot {action} while the bot is {status}.");

    /// <summary>A meeting link that leads nowhere (public `/meet/{id}` routes; `/v2` answers NOT_FOUND).</summary>
    public static ApiProblem MeetingNotFound(string meetingId) =>
        Create(404, "MEETING_NOT_FOUND", "Meeting not found", $"There is no meeting '{meetingId}'; check the link.");

    public static ApiProblem MeetingClosed(string meetingId) =>
        Create(409, "MEETING_CLOSED", "Meeting closed", $"Meeting '{meetingId}' has ended; create a new meeting.");

    public static ApiProblem GuestsNotAllowed(string meetingId) =>
        Create(403, "GUESTS_NOT_ALLOWED", "Guests not allowed", $"Meeting '{meetingId}' does not admit guests; ask its organiser for a join link with a token.");

    public static ApiProblem TooManyRequests(int retryAfterSeconds) =>
        Create(429, "TOO_MANY_REQUESTS", "Too many requests", $"Rate limit reached; retry in {retryAfterSeconds} s.", retryAfter: retryAfterSeconds);
}
