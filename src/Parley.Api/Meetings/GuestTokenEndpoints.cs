using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Parley.Api.Http;
using Parley.Core.Meetings;

namespace Parley.Api.Meetings;

/// <summary>
/// `POST /meet/{id}/guest-token`: what the web client at `/meet/{id}` asks for a visitor without a token.
/// Public (no API key): the meeting id is the invitation. Refusals: MEETING_NOT_FOUND 404, MEETING_CLOSED
/// 409, GUESTS_NOT_ALLOWED 403. An unknown valid id starts an ad-hoc meeting when PARLEY_ADHOC_MEETINGS is
/// on (single-tenant mode): no lobby, guests allowed, and nobody is its host; an ad-hoc meeting that ended
/// other than by a DELETE starts afresh at the same id.
/// </summary>
public static class GuestTokenEndpoints
{
    public static IEndpointRouteBuilder MapMeetingGuests(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapPost("/meet/{meetingId}/guest-token", Create).WithTags("Meetings").WithName("CreateGuestToken")
            .WithSummary("A guest join token for a meeting that admits guests (public; starts an ad-hoc meeting for an unknown id when enabled)")
            .AddEndpointFilter<GuestRateLimitFilter>()
            .Accepts<GuestTokenRequest>("application/json").Produces<Envelope<GuestTokenView>>()
            .ProducesErrors(400, 403, 404, 409, 413, 429);
        return endpoints;
    }

    internal static async Task<IResult> Create(string meetingId, HttpContext http, MeetingService meetings)
    {
        if (!MeetingIds.IsValid(meetingId))
        {
            // Not echoed: it is not an id and could be anything.
            return ApiError.MeetingNotFound("(invalid id)");
        }

        var (request, error) = await RequestBody.ReadAsync<GuestTokenRequest>(http.Request);
        if (error is not null)
        {
            return error;
        }

        var details = new List<ErrorDetail>();
        var name = request!.Name?.Trim();
        MeetingEndpoints.CheckText(name, "name", MeetingEndpoints.MaxDisplayNameLength, details);
        if (details.Count > 0)
        {
            return ApiError.Validation(details);
        }

        var meeting = await meetings.FindAsync(meetingId, http.RequestAborted);
        if (meeting is null)
        {
            if (!meetings.AdhocAllowed)
            {
                return ApiError.MeetingNotFound(meetingId);
            }

            meeting = await meetings.CreateAdhocAsync(meetingId, http.RequestAborted);
        }
        else if (meeting.Adhoc && meetings.AdhocAllowed && meeting.IsClosedAt(meetings.Now()) && meeting.CloseReason != MeetingCloseReason.Deleted)
        {
            meeting = await meetings.RenewAdhocAsync(meeting, http.RequestAborted);
        }

        if (meeting.IsClosedAt(meetings.Now()))
        {
            return ApiError.MeetingClosed(meeting.Id);
        }

        if (!meeting.AllowGuests)
        {
            return ApiError.GuestsNotAllowed(meeting.Id);
        }

        var identity = "guest-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var issued = meetings.IssueToken(meeting, new MeetingTokenClaims(meeting.Id, identity, name!), ttlSeconds: null);
        return ApiResults.Ok(new GuestTokenView(issued.Token, meeting.Id, issued.ExpiresAt.UtcDateTime));
    }
}

/// <summary>
/// PARLEY_RATE_LIMIT_PER_SECOND per client address on the public meeting routes, where no team key names
/// the caller: an ad-hoc meeting is a database row, and a script must not mint them by the thousand.
/// Shares the fixed windows (and the x-ratelimit-* headers) of the team limit.
/// </summary>
public sealed class GuestRateLimitFilter(ApiOptions options, RateLimitWindows windows, TimeProvider time) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var limit = options.RateLimitPerSecond;
        if (limit == 0)
        {
            return await next(context);
        }

        var http = context.HttpContext;
        var second = time.GetUtcNow().ToUnixTimeMilliseconds() / 1000;
        var window = windows.For("guest:" + (http.Connection.RemoteIpAddress?.ToString() ?? "unknown"));
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
