using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Parley.Api.Auth;
using Parley.Api.Bots;
using Parley.Api.Http;
using Parley.Core.Bots;
using Parley.Data;

namespace Parley.Api.ScheduledBots;

/// <summary>
/// API.md "Scheduled bots": a create body plus `join_at`. The scheduled-bot job hands each one over early
/// enough to be in the call at `join_at`; until then it can be changed or cancelled.
/// </summary>
public static class ScheduledBotEndpoints
{
    /// <summary>API.md: join_at may be up to a minute in the past (clock skew) and at most 90 days ahead.</summary>
    public static readonly TimeSpan PastLeeway = TimeSpan.FromMinutes(1);

    public static readonly TimeSpan MaxAhead = TimeSpan.FromDays(90);

    public static RouteGroupBuilder MapScheduledBots(this RouteGroupBuilder v2)
    {
        ArgumentNullException.ThrowIfNull(v2);
        var group = v2.MapGroup("/bots/scheduled").WithTags("Scheduled bots");
        group.MapPost("/", Create).WithName("CreateScheduledBot").Accepts<CreateScheduledBotRequest>("application/json").ProducesErrors(400, 401, 413, 429);
        group.MapPost("/batch", CreateBatch).WithName("CreateScheduledBotsBatch").Accepts<List<CreateScheduledBotRequest>>("application/json").Produces<BatchResult>(201).ProducesErrors(400, 401, 413, 429);
        group.MapGet("/", List).WithName("ListScheduledBots");
        group.MapGet("/{botId}", Get).WithName("GetScheduledBot");
        group.MapPatch("/{botId}", Update).WithName("UpdateScheduledBot").Accepts<CreateScheduledBotRequest>("application/json").ProducesErrors(400, 401, 404, 409, 429);
        group.MapDelete("/{botId}", Cancel).WithName("CancelScheduledBot");
        return v2;
    }

    internal static async Task<IResult> Create(HttpContext http, ParleyDbContext db, BotRequestValidator validator, TimeProvider time, ScheduledBotSignals signals)
    {
        var (request, text, error) = await RequestBody.ReadWithTextAsync<CreateScheduledBotRequest>(http.Request, JsonValueKind.Object);
        if (error is not null)
        {
            return error;
        }

        var (scheduled, problem) = Build(TeamContext.Get(http).TeamId, request!, text, validator, time.GetUtcNow().UtcDateTime);
        if (problem is not null)
        {
            return problem;
        }

        db.ScheduledBots.Add(scheduled!);
        await db.SaveChangesAsync(http.RequestAborted);
        signals.Notify();
        return ApiResults.Created(View(scheduled!));
    }

    internal static Task<IResult> CreateBatch(HttpContext http, ParleyDbContext db, BotRequestValidator validator, TimeProvider time, ScheduledBotSignals signals)
    {
        var team = TeamContext.Get(http).TeamId;
        var now = time.GetUtcNow().UtcDateTime;
        return BatchRequest.HandleAsync<CreateScheduledBotRequest>(
            http.Request,
            (request, text) =>
            {
                var (scheduled, problem) = Build(team, request, text, validator, now);
                if (scheduled is not null)
                {
                    db.ScheduledBots.Add(scheduled);
                }

                return Task.FromResult((scheduled?.Id, problem));
            },
            async () =>
            {
                // One commit for the whole batch.
                await db.SaveChangesAsync(http.RequestAborted);
                signals.Notify();
            });
    }

    internal static async Task<IResult> List(HttpContext http, ParleyDbContext db)
    {
        var team = TeamContext.Get(http);
        var details = new List<ErrorDetail>();
        var limit = BotEndpoints.ReadLimit(http.Request.Query["limit"], details);
        Cursor? cursor = null;
        if (http.Request.Query["cursor"].ToString() is { Length: > 0 } raw)
        {
            if (Cursor.TryDecode(raw, out var decoded))
            {
                cursor = decoded;
            }
            else
            {
                details.Add(new("cursor", "is not a cursor returned by this API"));
            }
        }

        var query = db.ScheduledBots.AsNoTracking().Where(b => b.TeamId == team.TeamId);
        if (http.Request.Query["status"].ToString() is { Length: > 0 } status)
        {
            if (status is not (ScheduledBotStatus.Scheduled or ScheduledBotStatus.Cancelled or ScheduledBotStatus.Completed or ScheduledBotStatus.Failed))
            {
                details.Add(new("status", "must be scheduled, cancelled, completed or failed"));
            }

            query = query.Where(b => b.Status == status);
        }

        if (details.Count > 0)
        {
            return ApiError.Validation(details);
        }

        var (items, next, previous) = await Cursor.PageAsync(query, b => b.Id, cursor, limit, http.RequestAborted);
        return ApiResults.List(items.Select(View).ToList(), next, previous);
    }

    internal static async Task<IResult> Get(string botId, HttpContext http, ParleyDbContext db)
    {
        var team = TeamContext.Get(http);
        var bot = await db.ScheduledBots.AsNoTracking().FirstOrDefaultAsync(b => b.Id == botId && b.TeamId == team.TeamId, http.RequestAborted);
        return bot is null ? ApiError.NotFound("Scheduled bot") : ApiResults.Ok(View(bot));
    }

    internal static async Task<IResult> Update(string botId, HttpContext http, ParleyDbContext db, BotRequestValidator validator, TimeProvider time, ScheduledBotSignals signals)
    {
        var (patch, _, error) = await RequestBody.ReadWithTextAsync<JsonObject>(http.Request, JsonValueKind.Object);
        if (error is not null)
        {
            return error;
        }

        var team = TeamContext.Get(http);
        var bot = await db.ScheduledBots.FirstOrDefaultAsync(b => b.Id == botId && b.TeamId == team.TeamId, http.RequestAborted);
        if (bot is null)
        {
            return ApiError.NotFound("Scheduled bot");
        }

        if (bot.Status != ScheduledBotStatus.Scheduled || bot.DispatchedAt is not null)
        {
            return ApiError.BotStatus(bot.Status == ScheduledBotStatus.Scheduled ? "being handed over" : bot.Status, "change a scheduled bot");
        }

        // A patch replaces the fields it names; the result is validated as a whole, like a new body.
        var body = JsonNode.Parse(bot.CreateBody)!.AsObject();
        body["join_at"] = bot.JoinAt.ToString("o", System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (name, value) in patch!)
        {
            body[name] = value?.DeepClone();
        }

        var text = body.ToJsonString();
        CreateScheduledBotRequest? request;
        try
        {
            request = JsonSerializer.Deserialize<CreateScheduledBotRequest>(text, ApiJson.Options);
        }
        catch (JsonException ex)
        {
            return ApiError.Validation(RequestBody.FieldOf(ex.Path), "has the wrong type");
        }

        var (updated, problem) = Build(team.TeamId, request!, text, validator, time.GetUtcNow().UtcDateTime, bot.Id);
        if (problem is not null)
        {
            return problem;
        }

        bot.BotName = updated!.BotName;
        bot.MeetingUrl = updated.MeetingUrl;
        bot.MeetingPlatform = updated.MeetingPlatform;
        bot.JoinAt = updated.JoinAt;
        bot.CreateBody = updated.CreateBody;
        bot.Extra = updated.Extra;
        bot.UpdatedAt = updated.UpdatedAt;
        await db.SaveChangesAsync(http.RequestAborted);
        signals.Notify();
        return ApiResults.Ok(View(bot));
    }

    internal static async Task<IResult> Cancel(string botId, HttpContext http, ParleyDbContext db, TimeProvider time)
    {
        var team = TeamContext.Get(http);
        var now = time.GetUtcNow().UtcDateTime;
        // Conditional, so a cancel racing the hand-over either wins entirely or answers 409.
        var cancelled = await db.ScheduledBots
            .Where(b => b.Id == botId && b.TeamId == team.TeamId && b.Status == ScheduledBotStatus.Scheduled && b.DispatchedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.Status, ScheduledBotStatus.Cancelled).SetProperty(b => b.UpdatedAt, now), http.RequestAborted);
        if (cancelled == 1)
        {
            return ApiResults.Ok(new { bot_id = botId, status = ScheduledBotStatus.Cancelled });
        }

        var bot = await db.ScheduledBots.AsNoTracking().FirstOrDefaultAsync(b => b.Id == botId && b.TeamId == team.TeamId, http.RequestAborted);
        return bot is null ? ApiError.NotFound("Scheduled bot") : ApiError.BotStatus(bot.Status, "cancel a scheduled bot");
    }

    /// <summary>Validates a scheduled body; the stored body has no join_at (it is a column), so the bot gets a plain create body.</summary>
    private static (ScheduledBot? Bot, ApiProblem? Error) Build(string teamId, CreateScheduledBotRequest request, string text, BotRequestValidator validator, DateTime now, string? id = null)
    {
        var (valid, problem) = validator.Validate(request);
        var joinDetails = new List<ErrorDetail>();
        if (request.JoinAt is not { } joinAt)
        {
            joinDetails.Add(new("join_at", "is required (ISO 8601 time)"));
        }
        else if (joinAt < now - PastLeeway)
        {
            joinDetails.Add(new("join_at", "is in the past"));
        }
        else if (joinAt > now + MaxAhead)
        {
            joinDetails.Add(new("join_at", "is more than 90 days ahead"));
        }

        if (joinDetails.Count > 0)
        {
            var details = problem?.Envelope.Details is { } more ? [.. more, .. joinDetails] : joinDetails;
            return (null, ApiError.Validation(details));
        }

        if (problem is not null)
        {
            return (null, problem);
        }

        var body = JsonNode.Parse(text)!.AsObject();
        body.Remove("join_at");
        return (new ScheduledBot
        {
            Id = id ?? Guid.CreateVersion7().ToString(),
            TeamId = teamId,
            BotName = request.BotName!.Trim(),
            MeetingUrl = valid!.MeetingUrl.Original,
            MeetingPlatform = valid.MeetingUrl.Platform,
            JoinAt = request.JoinAt!.Value,
            CreateBody = body.ToJsonString(),
            Extra = valid.Extra,
            CreatedAt = now,
            UpdatedAt = now,
        }, null);
    }

    private static object View(ScheduledBot bot) => new
    {
        bot_id = bot.Id,
        bot_name = bot.BotName,
        meeting_url = bot.MeetingUrl,
        meeting_platform = bot.MeetingPlatform,
        join_at = bot.JoinAt,
        status = bot.Status,
        created_at = bot.CreatedAt,
        updated_at = bot.UpdatedAt,
        dispatched_at = bot.DispatchedAt,
        error_message = bot.ErrorMessage,
        extra = BotViews.Parse(bot.Extra),
    };
}

/// <summary>Wakes this process's scheduled-bot job when a scheduled bot was created or moved.</summary>
public sealed class ScheduledBotSignals : WakeSignal;
