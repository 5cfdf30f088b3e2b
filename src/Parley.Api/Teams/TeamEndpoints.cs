using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Parley.Api.Auth;
using Parley.Api.Bots;
using Parley.Api.Http;

namespace Parley.Api.Teams;

/// <summary>
/// The admin API of multi-tenant mode: teams and their API keys, behind x-admin-api-key. Mapped on its own
/// group, not under the /v2 group, so that neither the team API-key filter nor the per-team rate limit
/// applies: an administrator has no team.
/// </summary>
public static class TeamEndpoints
{
    public sealed record NameRequest(string? Name);

    public static IEndpointRouteBuilder MapTeams(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var teams = endpoints.MapGroup("/v2/teams").WithTags("Teams").AddEndpointFilter<AdminApiKeyFilter>();
        teams.MapPost("/", CreateTeam).WithName("CreateTeam").WithSummary("Create a team and its first API key (admin)")
            .Accepts<NameRequest>("application/json").Produces<Envelope<CreatedTeam>>(201).ProducesErrors(400, 401);
        teams.MapGet("/", ListTeams).WithName("ListTeams").WithSummary("List teams, newest first (admin)")
            .Produces<ListEnvelope<TeamView>>().ProducesErrors(400, 401);
        teams.MapGet("/{teamId}", GetTeam).WithName("GetTeam").WithSummary("Team details (admin)")
            .Produces<Envelope<TeamView>>().ProducesErrors(400, 401, 404);
        teams.MapDelete("/{teamId}", DeleteTeam).WithName("DeleteTeam").WithSummary("Soft-delete a team: its keys stop working (admin)")
            .Produces<Envelope<TeamView>>().ProducesErrors(400, 401, 404);
        teams.MapPost("/{teamId}/keys", CreateKey).WithName("CreateApiKey").WithSummary("Create an API key, shown once (admin)")
            .Accepts<NameRequest>("application/json").Produces<Envelope<CreatedApiKey>>(201).ProducesErrors(400, 401, 404, 409);
        teams.MapGet("/{teamId}/keys", ListKeys).WithName("ListApiKeys").WithSummary("List a team's API keys, never the keys themselves (admin)")
            .Produces<ListEnvelope<ApiKeyView>>().ProducesErrors(400, 401, 404);
        teams.MapDelete("/{teamId}/keys/{keyId}", RevokeKey).WithName("RevokeApiKey").WithSummary("Revoke an API key (admin)")
            .Produces<Envelope<ApiKeyView>>().ProducesErrors(400, 401, 404);
        return endpoints;
    }

    internal static async Task<IResult> CreateTeam(HttpContext http, TeamService teams)
    {
        var (request, error) = await ReadNameAsync(http, required: true);
        if (error is not null)
        {
            return error;
        }

        var created = await teams.CreateTeamAsync(request!.Name!, null, http.RequestAborted);
        return ApiResults.Created(created);
    }

    internal static async Task<IResult> ListTeams(HttpContext http, TeamService teams)
    {
        var query = http.Request.Query;
        var details = new List<ErrorDetail>();
        var limit = BotEndpoints.ReadLimit(query["limit"], details);
        Cursor? cursor = null;
        if (query["cursor"].ToString() is { Length: > 0 } raw)
        {
            cursor = Cursor.TryDecode(raw, out var decoded) ? decoded : null;
            if (cursor is null)
            {
                details.Add(new("cursor", "is not a cursor returned by this API"));
            }
        }

        var includeDeleted = false;
        if (query["include_deleted"].ToString() is { Length: > 0 } flag && !bool.TryParse(flag, out includeDeleted))
        {
            details.Add(new("include_deleted", "must be true or false"));
        }

        if (details.Count > 0)
        {
            return ApiError.Validation(details);
        }

        var (items, next, previous) = await teams.ListTeamsAsync(includeDeleted, cursor, limit, http.RequestAborted);
        return ApiResults.List(items, next, previous);
    }

    internal static async Task<IResult> GetTeam(string teamId, HttpContext http, TeamService teams) =>
        await teams.GetTeamAsync(teamId, http.RequestAborted) is { } team ? ApiResults.Ok(team) : ApiError.NotFound("Team");

    internal static async Task<IResult> DeleteTeam(string teamId, HttpContext http, TeamService teams, ApiKeyAuthenticator authenticator)
    {
        var result = await teams.DeleteTeamAsync(teamId, http.RequestAborted);
        // Cached lookups of the team's keys would keep them working for a few more seconds on this replica.
        authenticator.Invalidate();
        return Answer(result);
    }

    internal static async Task<IResult> CreateKey(string teamId, HttpContext http, TeamService teams)
    {
        var (request, error) = await ReadNameAsync(http, required: false);
        if (error is not null)
        {
            return error;
        }

        var result = await teams.CreateKeyAsync(teamId, request!.Name, http.RequestAborted);
        return result.Outcome == TeamOutcome.Ok ? ApiResults.Created(result.Value) : Answer(result);
    }

    internal static async Task<IResult> ListKeys(string teamId, HttpContext http, TeamService teams)
    {
        var result = await teams.ListKeysAsync(teamId, http.RequestAborted);
        return result.Outcome == TeamOutcome.Ok ? ApiResults.List(result.Value!, null, null) : Answer(result);
    }

    internal static async Task<IResult> RevokeKey(string teamId, string keyId, HttpContext http, TeamService teams, ApiKeyAuthenticator authenticator)
    {
        var result = await teams.RevokeKeyAsync(teamId, keyId, http.RequestAborted);
        authenticator.Invalidate();
        return Answer(result);
    }

    private static IResult Answer<T>(TeamResult<T> result) => result.Outcome switch
    {
        TeamOutcome.Ok => ApiResults.Ok(result.Value),
        TeamOutcome.KeyNotFound => ApiError.NotFound("API key"),
        TeamOutcome.TeamDeleted => ApiError.Conflict("TEAM_DELETED", "Team deleted", "The team is deleted; it cannot get new API keys."),
        _ => ApiError.NotFound("Team"),
    };

    /// <summary>Key creation may come without a body: the key is then named "default".</summary>
    private static async Task<(NameRequest? Request, IResult? Error)> ReadNameAsync(HttpContext http, bool required)
    {
        if (!required && http.Request.ContentLength == 0)
        {
            return (new NameRequest(null), null);
        }

        var (request, error) = await RequestBody.ReadAsync<NameRequest>(http.Request);
        if (error is not null)
        {
            return (null, error);
        }

        return TeamService.CheckName(request!.Name, required) is { } problem
            ? (null, ApiError.Validation("name", problem))
            : (request, null);
    }
}
