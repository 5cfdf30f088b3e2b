using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Parley.Api.Bots;
using Parley.Api.Http;
using Parley.Core.Bots;
using Parley.Core.Configuration;
using Parley.Core.Webhooks;
using Parley.Data;

namespace Parley.Api.Webhooks;

/// <summary>
/// Turns bot events into delivery rows, added to the caller's unit of work so that they commit with the
/// change they announce. Sending happens later, in the delivery loop: an API request never waits for a
/// webhook target.
/// </summary>
public sealed class WebhookPublisher(TimeProvider time, BotViews views, WebhookSignals signals, FeatureOptions features, SvixOptions svix)
{
    public async Task AddAsync(ParleyDbContext db, Bot bot, string eventName, object data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(bot);
        var payload = JsonSerializer.Serialize(new { @event = eventName, data, extra = BotViews.Parse(bot.Extra) }, ApiJson.Options);
        var now = time.GetUtcNow().UtcDateTime;

        if (features.Svix && svix.Url is { } svixUrl)
        {
            // Svix owns the account endpoints: one message to Svix, which fans out, signs and retries.
            db.WebhookDeliveries.Add(NewDelivery(bot, eventName, "svix", SvixClient.MessageUrl(svixUrl, bot.TeamId), null, "POST", payload, now, null));
        }
        else
        {
            var endpoints = await db.WebhookEndpoints.AsNoTracking().Where(e => e.TeamId == bot.TeamId).ToListAsync(cancellationToken);
            foreach (var endpoint in endpoints.Where(e => Subscribed(e, eventName)))
            {
                db.WebhookDeliveries.Add(NewDelivery(bot, eventName, "endpoint", endpoint.Url, endpoint.Secret, "POST", payload, now, endpoint.Id));
            }
        }

        // Per-bot callbacks carry the final events only (API.md "Targets").
        if (eventName is WebhookEvent.Completed or WebhookEvent.Failed && CallbackOf(bot) is { } callback)
        {
            db.WebhookDeliveries.Add(NewDelivery(bot, eventName, "callback", callback.Url, callback.Secret, callback.Method, payload, now, null));
        }

        signals.Notify();
    }

    /// <summary>A delivery of an already built payload to one target (resend-webhook, retry-callback).</summary>
    public static WebhookDelivery NewDelivery(Bot bot, string eventName, string kind, string url, string? secret, string method, string payload, DateTime now, string? endpointId)
    {
        ArgumentNullException.ThrowIfNull(bot);
        return new WebhookDelivery
        {
            Id = "msg_" + Guid.CreateVersion7().ToString("N"),
            TeamId = bot.TeamId,
            BotId = bot.Id,
            Event = eventName,
            TargetKind = kind,
            TargetUrl = url,
            EndpointId = endpointId,
            Secret = secret,
            Method = method,
            Payload = payload,
            CreatedAt = now,
            UpdatedAt = now,
            NextAttemptAt = now,
        };
    }

    public object StatusChangeData(Bot bot, BotStatusChange change)
    {
        ArgumentNullException.ThrowIfNull(bot);
        ArgumentNullException.ThrowIfNull(change);
        return new
        {
            bot_id = bot.Id,
            event_id = bot.EventId,
            status = new StatusEntry(change.Code, change.CreatedAt, change.ErrorMessage),
        };
    }

    public object CompletedData(Bot bot)
    {
        ArgumentNullException.ThrowIfNull(bot);
        var details = views.Details(bot);
        return new
        {
            bot_id = bot.Id,
            event_id = bot.EventId,
            participants = details.Participants,
            speakers = details.Speakers,
            duration_seconds = details.DurationSeconds,
            joined_at = bot.JoinedAt,
            exited_at = bot.ExitedAt,
            data_deleted = bot.ArtifactsDeleted,
            video = details.Video,
            audio = details.Audio,
            diarization = details.Diarization,
            transcription = details.Transcription,
            raw_transcription = details.RawTranscription,
            transcription_provider = details.TranscriptionProvider,
            transcription_ids = details.TranscriptionIds,
            chat_messages = details.ChatMessages,
            sent_at = time.GetUtcNow().UtcDateTime,
        };
    }

    public object FailedData(Bot bot)
    {
        ArgumentNullException.ThrowIfNull(bot);
        return new
        {
            bot_id = bot.Id,
            event_id = bot.EventId,
            error_code = bot.ErrorCode,
            error_message = bot.ErrorMessage,
            sent_at = time.GetUtcNow().UtcDateTime,
        };
    }

    /// <summary>The final event of an ended bot, or null while it runs.</summary>
    public (string Event, object Data)? FinalEvent(Bot bot)
    {
        ArgumentNullException.ThrowIfNull(bot);
        return bot.Status switch
        {
            BotStatus.Completed => (WebhookEvent.Completed, CompletedData(bot)),
            BotStatus.Failed => (WebhookEvent.Failed, FailedData(bot)),
            _ => null,
        };
    }

    public static CallbackTarget? CallbackOf(Bot bot)
    {
        ArgumentNullException.ThrowIfNull(bot);
        var request = JsonSerializer.Deserialize<CreateBotRequest>(bot.CreateBody, ApiJson.Options);
        if (request is null || request.CallbackEnabled == false)
        {
            return null;
        }

        if (request.CallbackConfig?.Url is { } url)
        {
            return new CallbackTarget(url, request.CallbackConfig.Secret, (request.CallbackConfig.Method ?? "POST").ToUpperInvariant());
        }

        return request.CallbackUrl is { } shorthand ? new CallbackTarget(shorthand, null, "POST") : null;
    }

    private static bool Subscribed(WebhookEndpoint endpoint, string eventName) =>
        endpoint.Events is null || endpoint.Events.Split(',', StringSplitOptions.TrimEntries).Contains(eventName, StringComparer.Ordinal);
}

/// <summary>Wakes the delivery loop of this process when new deliveries were committed.</summary>
public sealed class WebhookSignals : WakeSignal;
