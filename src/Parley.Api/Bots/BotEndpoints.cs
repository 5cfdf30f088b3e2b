using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Parley.Api.Auth;
using Parley.Api.Http;
using Parley.Core.Bots;
using Parley.Data;

namespace Parley.Api.Bots;

/// <summary>`POST /v2/bots` answer.</summary>
public sealed record BotCreated(string BotId, System.Text.Json.JsonElement? Extra);

/// <summary>One created item of a batch.</summary>
public sealed record BatchCreated(int Index, string BotId, System.Text.Json.JsonElement? Extra);

/// <summary>One refused item of a batch.</summary>
public sealed record BatchError(int Index, string Code, string Message, IReadOnlyList<ErrorDetail> Details, System.Text.Json.JsonElement? Extra);

public sealed record BatchResult(bool Success, IReadOnlyList<BatchCreated> Data, IReadOnlyList<BatchError> Errors);

/// <summary>A list page.</summary>
public sealed record ListEnvelope<T>(bool Success, IReadOnlyList<T> Data, string? Cursor, string? PrevCursor);

/// <summary>`GET /v2/bots/{id}/status` answer.</summary>
public sealed record BotStatusView(StatusEntry Status);

/// <summary>A bot in a list.</summary>
public sealed record BotSummary(string BotId, string BotName, string MeetingUrl, string MeetingPlatform, string RecordingMode, string Status,
    DateTime CreatedAt, DateTime? JoinedAt, DateTime? ExitedAt, double? DurationSeconds, string? ErrorCode, string? ErrorMessage, bool ArtifactsDeleted, System.Text.Json.JsonElement? Extra);

/// <summary>API.md "Bots": create, batch, list, details and status.</summary>
public static class BotEndpoints
{
    public static RouteGroupBuilder MapBots(this RouteGroupBuilder v2)
    {
        ArgumentNullException.ThrowIfNull(v2);
        var bots = v2.MapGroup("/bots").WithTags("Bots");
        bots.MapPost("/", Create).WithName("CreateBot").WithSummary("Create a bot that joins now")
            .Accepts<CreateBotRequest>("application/json").Produces<Envelope<BotCreated>>(201).ProducesErrors(400, 401, 409, 413, 429);
        bots.MapPost("/batch", CreateBatch).WithName("CreateBotsBatch").WithSummary("Create up to 100 bots")
            .Accepts<List<CreateBotRequest>>("application/json").Produces<BatchResult>(201).ProducesErrors(400, 401, 413, 429);
        bots.MapGet("/", List).WithName("ListBots").WithSummary("List bots, newest first (cursor pagination)")
            .Produces<ListEnvelope<BotSummary>>().ProducesErrors(400, 401);
        bots.MapGet("/{botId}", Get).WithName("GetBot").WithSummary("Bot details").Produces<Envelope<BotDetails>>().ProducesErrors(401, 404);
        bots.MapGet("/{botId}/status", GetStatus).WithName("GetBotStatus").WithSummary("Current status only")
            .Produces<Envelope<BotStatusView>>().ProducesErrors(401, 404);
        bots.MapBotActions();
        return v2;
    }

    internal static async Task<IResult> Create(HttpContext http, BotCreator creator, BotViews views)
    {
        var team = TeamContext.Get(http);
        var (request, text, error) = await RequestBody.ReadWithTextAsync<CreateBotRequest>(http.Request, JsonValueKind.Object);
        if (error is not null)
        {
            return error;
        }

        var (bot, createError) = await creator.CreateAsync(team.TeamId, request!, text, null, null, http.RequestAborted);
        return createError ?? ApiResults.Created(new { bot_id = bot!.Id, extra = BotViews.Parse(bot.Extra) });
    }

    internal static Task<IResult> CreateBatch(HttpContext http, BotCreator creator)
    {
        var team = TeamContext.Get(http);
        return BatchRequest.HandleAsync<CreateBotRequest>(http.Request, async (request, text) =>
        {
            var (bot, problem) = await creator.CreateAsync(team.TeamId, request, text, null, null, http.RequestAborted);
            return (bot?.Id, problem);
        });
    }

    internal static async Task<IResult> List(HttpContext http, ParleyDbContext db, BotViews views)
    {
        var team = TeamContext.Get(http);
        var query = http.Request.Query;
        var details = new List<ErrorDetail>();
        var limit = ReadLimit(query["limit"], details);
        Cursor? cursor = null;
        if (query.TryGetValue("cursor", out var rawCursor) && !string.IsNullOrEmpty(rawCursor))
        {
            if (Cursor.TryDecode(rawCursor, out var decoded))
            {
                cursor = decoded;
            }
            else
            {
                details.Add(new("cursor", "is not a cursor returned by this API"));
            }
        }

        var bots = db.Bots.AsNoTracking().Where(b => b.TeamId == team.TeamId);
        if (query["status"].ToString() is { Length: > 0 } status)
        {
            if (!BotStatus.IsKnown(status))
            {
                details.Add(new("status", "is not a bot status code"));
            }

            bots = bots.Where(b => b.Status == status);
        }

        if (query["meeting_url"].ToString() is { Length: > 0 } meetingUrl)
        {
            if (MeetingUrl.TryParse(meetingUrl, out var parsed))
            {
                bots = bots.Where(b => b.NormalizedMeetingUrl == parsed.Normalized);
            }
            else
            {
                details.Add(new("meeting_url", "is not a supported meeting URL"));
            }
        }

        if (query["bot_name"].ToString() is { Length: > 0 } botName)
        {
            bots = bots.Where(b => b.BotName == botName);
        }

        if (query["meeting_platform"].ToString() is { Length: > 0 } platform)
        {
            if (!MeetingPlatform.All.Contains(platform))
            {
                details.Add(new("meeting_platform", $"must be one of {string.Join(", ", MeetingPlatform.All)}"));
            }

            bots = bots.Where(b => b.MeetingPlatform == platform);
        }

        if (ReadTime(query["created_after"], "created_after", details) is { } after)
        {
            bots = bots.Where(b => b.CreatedAt > after);
        }

        if (ReadTime(query["created_before"], "created_before", details) is { } before)
        {
            bots = bots.Where(b => b.CreatedAt < before);
        }

        if (details.Count > 0)
        {
            return ApiError.Validation(details);
        }

        var (items, next, previous) = await Cursor.PageAsync(bots, b => b.Id, cursor, limit, http.RequestAborted);
        return ApiResults.List(items.Select(views.Summary).ToList(), next, previous);
    }

    internal static async Task<IResult> Get(string botId, HttpContext http, ParleyDbContext db, BotViews views)
    {
        var bot = await FindAsync(db, TeamContext.Get(http), botId, http.RequestAborted, withDetails: true);
        return bot is null ? ApiError.NotFound("Bot") : ApiResults.Ok(views.Details(bot));
    }

    internal static async Task<IResult> GetStatus(string botId, HttpContext http, ParleyDbContext db)
    {
        var team = TeamContext.Get(http);
        var bot = await db.Bots.AsNoTracking().Where(b => b.Id == botId && b.TeamId == team.TeamId)
            .Select(b => new { b.Status, b.UpdatedAt, b.ErrorMessage }).FirstOrDefaultAsync(http.RequestAborted);
        if (bot is null)
        {
            return ApiError.NotFound("Bot");
        }

        var last = await db.BotStatusHistory.AsNoTracking().Where(h => h.BotId == botId).OrderByDescending(h => h.Id)
            .Select(h => new { h.CreatedAt, h.ErrorMessage }).FirstOrDefaultAsync(http.RequestAborted);
        return ApiResults.Ok(new { status = new StatusEntry(bot.Status, last?.CreatedAt ?? bot.UpdatedAt, last?.ErrorMessage ?? bot.ErrorMessage) });
    }

    /// <summary>The caller's bot, or null: another team's bot is indistinguishable from a missing one.</summary>
    internal static Task<Bot?> FindAsync(ParleyDbContext db, TeamContext team, string botId, CancellationToken cancellationToken, bool withDetails = false)
    {
        var query = db.Bots.Where(b => b.Id == botId && b.TeamId == team.TeamId);
        if (withDetails)
        {
            query = query.Include(b => b.StatusHistory).Include(b => b.Artifacts).AsSplitQuery();
        }

        return query.FirstOrDefaultAsync(cancellationToken);
    }

    internal static int ReadLimit(string? value, List<ErrorDetail> details)
    {
        if (string.IsNullOrEmpty(value))
        {
            return 20;
        }

        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit is >= 1 and <= 100)
        {
            return limit;
        }

        details.Add(new("limit", "must be an integer from 1 to 100"));
        return 20;
    }

    internal static DateTime? ReadTime(string? value, string field, List<ErrorDetail> details)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return time.UtcDateTime;
        }

        details.Add(new(field, "must be an ISO 8601 time"));
        return null;
    }
}
