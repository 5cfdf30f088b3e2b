using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Parley.Api.Auth;
using Parley.Api.Http;
using Parley.Api.Webhooks;
using Parley.Core.Bots;
using Parley.Core.Storage;
using Parley.Data;

namespace Parley.Api.Bots;

/// <summary>API.md "Bots": the actions on one bot (leave, chat, pause/resume, config, data, webhooks).</summary>
public static class BotActionEndpoints
{
    public sealed record ChatMessageRequest(string? Message);

    public sealed record UpdateConfigRequest(JsonElement? Extra);

    public sealed record RetryCallbackRequest(string? Url, string? Secret, string? Method);

    public static RouteGroupBuilder MapBotActions(this RouteGroupBuilder bots)
    {
        ArgumentNullException.ThrowIfNull(bots);
        bots.MapPost("/{botId}/leave", Leave).WithName("LeaveBot").WithSummary("Ask the bot to leave").ProducesErrors(401, 404, 409, 429);
        bots.MapPost("/{botId}/send-chat-message", SendChatMessage).WithName("SendChatMessage").WithSummary("Post a chat message from the bot")
            .Accepts<ChatMessageRequest>("application/json").ProducesErrors(400, 401, 404, 409, 429);
        bots.MapPost("/{botId}/pause-recording", PauseRecording).WithName("PauseRecording").ProducesErrors(401, 404, 409, 429);
        bots.MapPost("/{botId}/resume-recording", ResumeRecording).WithName("ResumeRecording").ProducesErrors(401, 404, 409, 429);
        bots.MapPatch("/{botId}/update-config", UpdateConfig).WithName("UpdateBotConfig").WithSummary("Shallow-merge extra; null removes a key")
            .Accepts<UpdateConfigRequest>("application/json").ProducesErrors(400, 401, 404, 429);
        bots.MapDelete("/{botId}/delete-data", DeleteData).WithName("DeleteBotData").WithSummary("Delete the bot's artifacts").ProducesErrors(401, 404, 409, 429);
        bots.MapPost("/{botId}/resend-webhook", ResendWebhook).WithName("ResendWebhook").WithSummary("Send the final event again").ProducesErrors(401, 404, 409, 429);
        bots.MapPost("/{botId}/retry-callback", RetryCallback).WithName("RetryCallback").WithSummary("Send the final callback to this target")
            .Accepts<RetryCallbackRequest>("application/json").ProducesErrors(400, 401, 404, 409, 429);
        bots.MapGet("/{botId}/webhook-deliveries", WebhookDeliveries).WithName("ListWebhookDeliveries").WithSummary("The webhook delivery log").ProducesErrors(401, 404);
        return bots;
    }

    internal static async Task<IResult> Leave(string botId, HttpContext http, ParleyDbContext db, BotLifecycle lifecycle)
    {
        var bot = await BotEndpoints.FindAsync(db, TeamContext.Get(http), botId, http.RequestAborted);
        if (bot is null)
        {
            return ApiError.NotFound("Bot");
        }

        if (bot.IsEnded)
        {
            return ApiError.BotStatus(bot.Status, "leave");
        }

        if (bot.Status is BotStatus.Queued or BotStatus.PickupDelayed && bot.DeploymentIdentifier is null)
        {
            // Not running anywhere yet: end it here; the orchestrator skips bots that have ended.
            await lifecycle.ChangeStatusAsync(bot.Id, BotStatus.ApiRequestStop, null, null, http.RequestAborted);
            await lifecycle.ChangeStatusAsync(bot.Id, BotStatus.Completed, BotErrorCode.ApiRequest, "Stopped by API request before it joined.", http.RequestAborted);
        }
        else
        {
            // The bot learns it at its next heartbeat and leaves, reporting its way to completed.
            bot.LeaveRequested = true;
            await db.SaveChangesAsync(http.RequestAborted);
        }

        return ApiResults.Ok(new { message = "The bot is leaving the meeting." });
    }

    internal static async Task<IResult> SendChatMessage(string botId, HttpContext http, ParleyDbContext db)
    {
        var (request, error) = await RequestBody.ReadAsync<ChatMessageRequest>(http.Request);
        if (error is not null)
        {
            return error;
        }

        if (request!.Message is not { Length: >= 1 and <= 500 })
        {
            return ApiError.Validation("message", "must be 1 to 500 characters");
        }

        var bot = await BotEndpoints.FindAsync(db, TeamContext.Get(http), botId, http.RequestAborted);
        if (bot is null)
        {
            return ApiError.NotFound("Bot");
        }

        if (!BotStatus.IsInCall(bot.Status))
        {
            return ApiError.BotStatus(bot.Status, "send a chat message");
        }

        var pending = bot.PendingChatMessages is null ? new JsonArray() : JsonNode.Parse(bot.PendingChatMessages)!.AsArray();
        pending.Add(request.Message);
        bot.PendingChatMessages = pending.ToJsonString();
        await db.SaveChangesAsync(http.RequestAborted);
        return ApiResults.Ok(new { message = "Queued for the bot." });
    }

    internal static Task<IResult> PauseRecording(string botId, HttpContext http, ParleyDbContext db) =>
        SetPausedAsync(botId, http, db, pause: true);

    internal static Task<IResult> ResumeRecording(string botId, HttpContext http, ParleyDbContext db) =>
        SetPausedAsync(botId, http, db, pause: false);

    private static async Task<IResult> SetPausedAsync(string botId, HttpContext http, ParleyDbContext db, bool pause)
    {
        var bot = await BotEndpoints.FindAsync(db, TeamContext.Get(http), botId, http.RequestAborted);
        if (bot is null)
        {
            return ApiError.NotFound("Bot");
        }

        var recording = bot.Status is BotStatus.InCallRecording or BotStatus.RecordingResumed && !bot.RecordingPaused;
        var paused = bot.Status == BotStatus.RecordingPaused || (bot.RecordingPaused && BotStatus.IsInCall(bot.Status));
        if (pause ? !recording : !paused)
        {
            return ApiError.BotStatus(bot.Status, pause ? "pause the recording" : "resume the recording");
        }

        bot.RecordingPaused = pause;
        await db.SaveChangesAsync(http.RequestAborted);
        return ApiResults.Ok(new { message = pause ? "The recording will pause." : "The recording will resume." });
    }

    internal static async Task<IResult> UpdateConfig(string botId, HttpContext http, ParleyDbContext db, BotViews views)
    {
        var (request, error) = await RequestBody.ReadAsync<UpdateConfigRequest>(http.Request);
        if (error is not null)
        {
            return error;
        }

        if (request!.Extra is not { ValueKind: JsonValueKind.Object } patch)
        {
            return ApiError.Validation("extra", "must be an object");
        }

        // A null priority removes the key (back to the default 0), as for any key of the merge.
        if (BotRequestValidator.ValidatePriority(patch) is { } priorityProblem)
        {
            return ApiError.Validation([priorityProblem]);
        }

        var bot = await BotEndpoints.FindAsync(db, TeamContext.Get(http), botId, http.RequestAborted);
        if (bot is null)
        {
            return ApiError.NotFound("Bot");
        }

        // Shallow merge: each key replaces the old value; a null value removes the key.
        var merged = bot.Extra is null ? new JsonObject() : JsonNode.Parse(bot.Extra)!.AsObject();
        foreach (var property in patch.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Null)
            {
                merged.Remove(property.Name);
            }
            else
            {
                merged[property.Name] = JsonNode.Parse(property.Value.GetRawText());
            }
        }

        var text = merged.ToJsonString();
        if (System.Text.Encoding.UTF8.GetByteCount(text) > BotRequestValidator.MaxExtraBytes)
        {
            return ApiError.Validation("extra", "the merged extra would exceed 16 KB");
        }

        bot.Extra = text;
        await db.SaveChangesAsync(http.RequestAborted);
        return ApiResults.Ok(new { bot_id = bot.Id, extra = BotViews.Parse(bot.Extra) });
    }

    internal static async Task<IResult> DeleteData(string botId, HttpContext http, ParleyDbContext db, IArtifactStore storage)
    {
        var bot = await BotEndpoints.FindAsync(db, TeamContext.Get(http), botId, http.RequestAborted);
        if (bot is null)
        {
            return ApiError.NotFound("Bot");
        }

        if (!bot.IsEnded)
        {
            return ApiError.BotStatus(bot.Status, "delete its data");
        }

        var deleted = await ArtifactKeys.DeleteAllAsync(storage, bot.Id, http.RequestAborted);
        bot.ArtifactsDeleted = true;
        await db.SaveChangesAsync(http.RequestAborted);
        return ApiResults.Ok(new { bot_id = bot.Id, artifacts_deleted = true, objects_deleted = deleted });
    }

    internal static async Task<IResult> ResendWebhook(string botId, HttpContext http, ParleyDbContext db, WebhookPublisher webhooks)
    {
        var bot = await BotEndpoints.FindAsync(db, TeamContext.Get(http), botId, http.RequestAborted, withDetails: true);
        if (bot is null)
        {
            return ApiError.NotFound("Bot");
        }

        if (webhooks.FinalEvent(bot) is not { } final)
        {
            return ApiError.BotStatus(bot.Status, "resend its final webhook");
        }

        await webhooks.AddAsync(db, bot, final.Event, final.Data, http.RequestAborted);
        var queued = db.ChangeTracker.Entries<Core.Webhooks.WebhookDelivery>().Count();
        await db.SaveChangesAsync(http.RequestAborted);
        return ApiResults.Ok(new { @event = final.Event, deliveries = queued });
    }

    internal static async Task<IResult> RetryCallback(string botId, HttpContext http, ParleyDbContext db, WebhookPublisher webhooks, BotRequestValidator validator, WebhookSignals signals, TimeProvider time)
    {
        var (request, error) = await RequestBody.ReadAsync<RetryCallbackRequest>(http.Request);
        if (error is not null)
        {
            return error;
        }

        var details = new List<ErrorDetail>();
        validator.CheckTarget(request!.Url, "url", details);
        var method = (request.Method ?? "POST").ToUpperInvariant();
        if (method is not ("POST" or "PUT"))
        {
            details.Add(new("method", "must be POST or PUT"));
        }

        if (details.Count > 0)
        {
            return ApiError.Validation(details);
        }

        var bot = await BotEndpoints.FindAsync(db, TeamContext.Get(http), botId, http.RequestAborted, withDetails: true);
        if (bot is null)
        {
            return ApiError.NotFound("Bot");
        }

        if (webhooks.FinalEvent(bot) is not { } final)
        {
            return ApiError.BotStatus(bot.Status, "retry its callback");
        }

        var payload = JsonSerializer.Serialize(new { @event = final.Event, data = final.Data, extra = BotViews.Parse(bot.Extra) }, ApiJson.Options);
        var delivery = WebhookPublisher.NewDelivery(bot, final.Event, "retry_callback", request.Url!, request.Secret, method, payload, time.GetUtcNow().UtcDateTime, null);
        db.WebhookDeliveries.Add(delivery);
        await db.SaveChangesAsync(http.RequestAborted);
        signals.Notify();
        return ApiResults.Ok(new { delivery_id = delivery.Id, @event = final.Event });
    }

    internal static async Task<IResult> WebhookDeliveries(string botId, HttpContext http, ParleyDbContext db)
    {
        var team = TeamContext.Get(http);
        if (!await db.Bots.AnyAsync(b => b.Id == botId && b.TeamId == team.TeamId, http.RequestAborted))
        {
            return ApiError.NotFound("Bot");
        }

        var deliveries = await db.WebhookDeliveries.AsNoTracking().Where(d => d.BotId == botId)
            .OrderBy(d => d.CreatedAt).ThenBy(d => d.Id).ToListAsync(http.RequestAborted);
        return ApiResults.Ok(deliveries.Select(d => new
        {
            id = d.Id,
            @event = d.Event,
            target = d.TargetUrl,
            target_kind = d.TargetKind,
            attempt = d.Attempt,
            status = d.Status,
            status_code = d.LastStatusCode,
            error = d.LastError,
            created_at = d.CreatedAt,
            updated_at = d.UpdatedAt,
            delivered_at = d.DeliveredAt,
            next_attempt_at = d.Status == Core.Webhooks.WebhookDeliveryStatus.Pending ? d.NextAttemptAt : null,
        }).ToList());
    }
}

/// <summary>Where a bot's artifacts live in storage: everything under one prefix per bot.</summary>
public static class ArtifactKeys
{
    public static string Prefix(string botId) => $"bots/{botId}/";

    public static async Task<int> DeleteAllAsync(IArtifactStore storage, string botId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(storage);
        return await storage.DeletePrefixAsync(StorageBucket.Artifacts, Prefix(botId), cancellationToken)
            + await storage.DeletePrefixAsync(StorageBucket.Logs, Prefix(botId), cancellationToken);
    }
}
