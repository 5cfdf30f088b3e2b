using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Parley.Api.Http;
using Parley.Api.Internal;
using Parley.Core.Bots;

namespace Parley.Api.Bots;

/// <summary>The orchestrator's view of <see cref="BotLifecycle"/>: the same rules and webhooks as bot reports.</summary>
public sealed class BotStatusChangesAdapter(BotLifecycle lifecycle) : IBotStatusChanges
{
    public async Task<StatusChangeResult> ChangeStatusAsync(string botId, string code, string? errorCode, string? errorMessage, CancellationToken cancellationToken)
    {
        var (result, _) = await lifecycle.ChangeStatusAsync(botId, code, errorCode, errorMessage, cancellationToken);
        return result;
    }
}

/// <summary>The orchestrator's view of <see cref="BotTokens"/>.</summary>
public sealed class BotTokenIssuerAdapter(BotTokens tokens) : IBotTokenIssuer
{
    public Task<string?> IssueAsync(string botId, string platform, string? identifier, CancellationToken cancellationToken) =>
        tokens.IssueAsync(botId, platform, identifier, cancellationToken);
}

/// <summary>`GET /v2/platforms`: limit, active, deploying and queued per deployment platform.</summary>
public static class PlatformEndpoints
{
    public static RouteGroupBuilder MapPlatforms(this RouteGroupBuilder v2)
    {
        ArgumentNullException.ThrowIfNull(v2);
        v2.MapGet("/platforms", GetAsync).WithName("ListPlatforms").WithSummary("Deployment platforms: limit, active, deploying and queued bots")
            .Produces<Envelope<PlatformsSnapshot>>().ProducesErrors(401);
        return v2;
    }

    private static async Task<IResult> GetAsync(HttpContext http, CancellationToken cancellationToken)
    {
        // Registered by the host; absent only in a build without the orchestration project.
        if (http.RequestServices.GetService(typeof(IPlatformStatusSource)) is not IPlatformStatusSource source)
        {
            return ApiError.Create(501, "NOT_IMPLEMENTED", "Not implemented", "Deployment platforms are not available in this build.");
        }

        return ApiResults.Ok(await source.GetAsync(cancellationToken));
    }
}
