using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Parley.Api.Auth;
using Parley.Api.Bots;
using Parley.Api.Http;
using Parley.Core.Webhooks;
using Parley.Data;

namespace Parley.Api.Webhooks;

/// <summary>API.md "Webhooks": account endpoints that receive every event of the team's bots.</summary>
public static class WebhookEndpointsApi
{
    public const int MaxEndpointsPerTeam = 20;

    public sealed record CreateWebhookRequest(string? Url, string? Secret, List<string>? Events);

    public static RouteGroupBuilder MapWebhookEndpoints(this RouteGroupBuilder v2)
    {
        ArgumentNullException.ThrowIfNull(v2);
        var group = v2.MapGroup("/webhooks").WithTags("Webhooks");
        group.MapPost("/", Create).WithName("CreateWebhookEndpoint").Accepts<CreateWebhookRequest>("application/json").ProducesErrors(400, 401, 429);
        group.MapGet("/", List).WithName("ListWebhookEndpoints");
        group.MapDelete("/{id}", Delete).WithName("DeleteWebhookEndpoint");
        return v2;
    }

    internal static async Task<IResult> Create(HttpContext http, ParleyDbContext db, BotRequestValidator validator, TimeProvider time)
    {
        var team = TeamContext.Get(http);
        var (request, error) = await RequestBody.ReadAsync<CreateWebhookRequest>(http.Request);
        if (error is not null)
        {
            return error;
        }

        var details = new List<ErrorDetail>();
        validator.CheckTarget(request!.Url, "url", details);
        if (request.Secret is { } secret && (secret.Length < 8 || secret.Length > 255))
        {
            details.Add(new("secret", "must be 8 to 255 characters"));
        }

        foreach (var name in request.Events ?? [])
        {
            if (!WebhookEvent.All.Contains(name))
            {
                details.Add(new("events", $"'{name}' is not one of {string.Join(", ", WebhookEvent.All)}"));
            }
        }

        if (details.Count > 0)
        {
            return ApiError.Validation(details);
        }

        if (await db.WebhookEndpoints.CountAsync(e => e.TeamId == team.TeamId, http.RequestAborted) >= MaxEndpointsPerTeam)
        {
            return ApiError.Validation("url", $"a team can have at most {MaxEndpointsPerTeam} webhook endpoints");
        }

        var endpoint = new WebhookEndpoint
        {
            Id = Guid.CreateVersion7().ToString(),
            TeamId = team.TeamId,
            Url = request.Url!,
            Secret = request.Secret ?? "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)),
            Events = request.Events is { Count: > 0 } events ? string.Join(',', events.Distinct()) : null,
            CreatedAt = time.GetUtcNow().UtcDateTime,
        };
        db.WebhookEndpoints.Add(endpoint);
        await db.SaveChangesAsync(http.RequestAborted);
        return ApiResults.Created(View(endpoint, showSecret: true));
    }

    internal static async Task<IResult> List(HttpContext http, ParleyDbContext db)
    {
        var team = TeamContext.Get(http);
        var endpoints = await db.WebhookEndpoints.AsNoTracking().Where(e => e.TeamId == team.TeamId).OrderBy(e => e.Id).ToListAsync(http.RequestAborted);
        return ApiResults.Ok(endpoints.Select(e => View(e, showSecret: false)).ToList());
    }

    internal static async Task<IResult> Delete(string id, HttpContext http, ParleyDbContext db)
    {
        var team = TeamContext.Get(http);
        var deleted = await db.WebhookEndpoints.Where(e => e.Id == id && e.TeamId == team.TeamId).ExecuteDeleteAsync(http.RequestAborted);
        return deleted == 0 ? ApiError.NotFound("Webhook endpoint") : ApiResults.Ok(new { id, deleted = true });
    }

    /// <summary>The secret is shown when the endpoint is created; listings show only its start.</summary>
    private static object View(WebhookEndpoint endpoint, bool showSecret) => new
    {
        id = endpoint.Id,
        url = endpoint.Url,
        secret = showSecret ? endpoint.Secret : endpoint.Secret[..Math.Min(10, endpoint.Secret.Length)] + "…",
        events = endpoint.Events?.Split(',') ?? [.. WebhookEvent.All],
        created_at = endpoint.CreatedAt,
    };
}
