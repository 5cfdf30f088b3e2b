using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Parley.Api.Bots;
using Parley.Api.Http;
using Parley.Api.Meetings;
using Parley.Api.Webhooks;
using Parley.Core.Bots;
using Parley.Core.Meetings;
using Parley.Core.Storage;
using Parley.Core.Webhooks;
using Parley.Data;

namespace Parley.Api.Internal;

/// <summary>API.md "Bot-facing internal API": what a running bot calls, with its own bot token.</summary>
public static partial class InternalBotEndpoints
{
    /// <summary>A bot's join token lasts as long as a bot may stay (capped by the meeting's end): it also resumes.</summary>
    private const int BotJoinTokenTtlSeconds = 24 * 3600;

    public sealed record StatusRequest(string? Code, string? ErrorCode, string? ErrorMessage);

    public sealed record EventsRequest(List<BotEvent>? Events);

    public sealed record BotEvent(string? Type, DateTime? At, EventParticipant? Participant, string? Text, string? MessageId);

    public sealed record EventParticipant(string? Id, string? Name, string? DisplayName, string? ProfilePicture);

    public sealed record ArtifactsRequest(List<ArtifactRegistration>? Artifacts);

    public sealed record ArtifactRegistration(string? Kind, string? Key, string? ContentType, long? SizeBytes);

    public static readonly string[] ArtifactKinds = ["video", "audio", "diarization", "transcription", "raw_transcription", "chat_messages", "track", "log"];

    public static IEndpointRouteBuilder MapInternalBots(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/internal/bots/{botId}").WithTags("Internal").AddEndpointFilter<BotTokenFilter>();
        group.MapGet("/config", GetConfig).WithName("InternalGetConfig");
        group.MapPost("/status", PostStatus).WithName("InternalPostStatus").Accepts<StatusRequest>("application/json").ProducesErrors(400, 401, 409);
        group.MapPost("/heartbeat", Heartbeat).WithName("InternalHeartbeat").ProducesErrors(401);
        group.MapPost("/events", PostEvents).WithName("InternalPostEvents").Accepts<EventsRequest>("application/json").ProducesErrors(400, 401);
        group.MapPost("/artifacts", PostArtifacts).WithName("InternalPostArtifacts").DisableAntiforgery();
        return endpoints;
    }

    internal static async Task<IResult> GetConfig(string botId, ParleyDbContext db, HttpContext http, MeetingService meetings, ApiOptions api)
    {
        var bot = await db.Bots.AsNoTracking().FirstAsync(b => b.Id == botId, http.RequestAborted);
        using var body = JsonDocument.Parse(bot.CreateBody);
        var timeouts = body.RootElement.TryGetProperty("timeout_config", out var t) && t.ValueKind == JsonValueKind.Object ? t : default;
        var effective = BotRequestValidator.TimeoutBounds.ToDictionary(
            b => b.Field,
            b => timeouts.ValueKind == JsonValueKind.Object && timeouts.TryGetProperty(b.Field, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : b.Default);
        return ApiResults.Ok(new
        {
            bot_id = bot.Id,
            team_id = bot.TeamId,
            bot_name = bot.BotName,
            meeting_url = bot.MeetingUrl,
            meeting_platform = bot.MeetingPlatform,
            recording_mode = bot.RecordingMode,
            status = bot.Status,
            timeout_config = effective,
            body = body.RootElement.Clone(),
            // What the bot may fetch for the tenant (bot_image): the same rule as for webhook targets.
            allow_private_networks = api.WebhookAllowPrivateNetworks,
            meeting_join = bot.MeetingPlatform == MeetingPlatform.Parley ? await ParleyJoinAsync(bot, meetings, http) : null,
        });
    }

    /// <summary>
    /// For a bot going to a Parley meeting: a fresh join token (identity bot-{bot_id}, the bot's name, flagged
    /// bot so every client shows the recording banner) and where the signaling is. The meeting is the one of
    /// the URL's /meet/{id}; an ad-hoc link starts its meeting like a guest's visit would. When the bot cannot
    /// get in, `error` says why and the adapter fails the bot with it.
    /// </summary>
    private static async Task<object> ParleyJoinAsync(Bot bot, MeetingService meetings, HttpContext http)
    {
        var meetingId = MeetingUrl.TryParse(bot.MeetingUrl, out var url) && url.Platform == MeetingPlatform.Parley
            ? Uri.UnescapeDataString(url.Normalized[(url.Normalized.LastIndexOf('/') + 1)..])
            : null;
        if (meetingId is null)
        {
            return new { meeting_id = (string?)null, error = "The meeting URL is not a Parley meeting link (/meet/{id})." };
        }

        var meeting = await meetings.FindAsync(meetingId, http.RequestAborted);
        if (meeting is null && meetings.AdhocAllowed)
        {
            meeting = await meetings.CreateAdhocAsync(meetingId, http.RequestAborted);
        }
        else if (meeting is { Adhoc: true } && meetings.AdhocAllowed && meeting.IsClosedAt(meetings.Now()) && meeting.CloseReason != MeetingCloseReason.Deleted)
        {
            meeting = await meetings.RenewAdhocAsync(meeting, http.RequestAborted);
        }

        // Another team's meeting is reachable only the way a guest could reach it.
        if (meeting is null || (meeting.TeamId != bot.TeamId && !meeting.AllowGuests))
        {
            return new { meeting_id = meetingId, error = $"Meeting {meetingId} does not exist on this server." };
        }

        if (meeting.IsClosedAt(meetings.Now()))
        {
            return new { meeting_id = meetingId, error = $"Meeting {meetingId} has ended." };
        }

        var issued = meetings.IssueToken(
            meeting,
            new MeetingTokenClaims(meeting.Id, $"bot-{bot.Id}", bot.BotName, CanPublish: true, CanSubscribe: true, IsHost: false, IsBot: true),
            BotJoinTokenTtlSeconds);
        var joinUrl = meetings.JoinUrl(http.Request, meeting.Id);
        return new
        {
            meeting_id = meeting.Id,
            token = issued.Token,
            expires_at = issued.ExpiresAt.UtcDateTime,
            server_url = joinUrl[..joinUrl.LastIndexOf("/meet/", StringComparison.Ordinal)],
            error = (string?)null,
        };
    }

    internal static async Task<IResult> PostStatus(string botId, HttpContext http, BotLifecycle lifecycle)
    {
        var (request, error) = await RequestBody.ReadAsync<StatusRequest>(http.Request);
        if (error is not null)
        {
            return error;
        }

        var details = new List<ErrorDetail>();
        if (request!.Code is null || !BotStatus.IsKnown(request.Code))
        {
            details.Add(new("code", "must be a bot status code"));
        }

        if (request.ErrorCode is not null && !BotErrorCode.IsKnown(request.ErrorCode))
        {
            details.Add(new("error_code", "must be one of the error codes of API.md"));
        }

        if (request.ErrorMessage is { Length: > 2000 })
        {
            details.Add(new("error_message", "must be at most 2000 characters"));
        }

        if (details.Count > 0)
        {
            return ApiError.Validation(details);
        }

        var (result, bot) = await lifecycle.ChangeStatusAsync(botId, request.Code!, request.ErrorCode, request.ErrorMessage, http.RequestAborted);
        return result switch
        {
            StatusChangeResult.NotAllowed => ApiError.Create(409, "INVALID_TRANSITION", "Transition not allowed", $"A bot that is {bot?.Status} cannot become {request.Code}."),
            _ => ApiResults.Ok(new { status = bot!.Status, applied = result == StatusChangeResult.Applied }),
        };
    }

    internal static async Task<IResult> Heartbeat(string botId, HttpContext http, ParleyDbContext db, TimeProvider time)
    {
        var bot = await db.Bots.FirstAsync(b => b.Id == botId, http.RequestAborted);
        bot.LastHeartbeatAt = time.GetUtcNow().UtcDateTime;
        var pending = bot.PendingChatMessages is null ? [] : JsonSerializer.Deserialize<List<string>>(bot.PendingChatMessages) ?? [];
        bot.PendingChatMessages = null;
        try
        {
            await db.SaveChangesAsync(http.RequestAborted);
        }
        catch (DbUpdateConcurrencyException)
        {
            // A status change landed at the same moment; the next heartbeat carries the messages.
            return ApiResults.Ok(new { should_leave = bot.LeaveRequested, pending_chat_messages = Array.Empty<string>(), recording_paused = bot.RecordingPaused });
        }

        return ApiResults.Ok(new { should_leave = bot.LeaveRequested, pending_chat_messages = pending, recording_paused = bot.RecordingPaused });
    }

    internal static async Task<IResult> PostEvents(string botId, HttpContext http, ParleyDbContext db, WebhookPublisher webhooks, TimeProvider time)
    {
        var (request, error) = await RequestBody.ReadAsync<EventsRequest>(http.Request);
        if (error is not null)
        {
            return error;
        }

        if (request!.Events is not { Count: > 0 and <= 500 } events)
        {
            return ApiError.Validation("events", "must hold 1 to 500 events");
        }

        var bot = await db.Bots.FirstAsync(b => b.Id == botId, http.RequestAborted);
        var participants = JsonArrayOf(bot.Participants);
        var speakers = JsonArrayOf(bot.Speakers);
        var chats = 0;
        for (var i = 0; i < events.Count; i++)
        {
            var item = events[i];
            switch (item.Type)
            {
                case "participant_join" or "speaker_change" when item.Participant?.Name is { Length: > 0 }:
                    var entry = Upsert(participants, item.Participant);
                    if (item.Type == "speaker_change")
                    {
                        Upsert(speakers, item.Participant, entry);
                    }

                    break;
                case "participant_leave" when item.Participant?.Name is { Length: > 0 }:
                    break;
                case "chat_message" when item.Text is { Length: > 0 and <= 4096 }:
                    chats++;
                    await webhooks.AddAsync(db, bot, WebhookEvent.ChatMessage, new
                    {
                        bot_id = bot.Id,
                        event_id = bot.EventId,
                        message_id = item.MessageId ?? Guid.CreateVersion7().ToString(),
                        sender_name = item.Participant?.Name,
                        sender_id = item.Participant?.Id,
                        text = item.Text,
                        sent_at = item.At ?? time.GetUtcNow().UtcDateTime,
                    }, http.RequestAborted);
                    break;
                default:
                    return ApiError.Validation($"events[{i}]", "type must be participant_join, participant_leave, speaker_change or chat_message with its fields");
            }
        }

        bot.Participants = participants.ToJsonString();
        bot.Speakers = speakers.ToJsonString();
        await db.SaveChangesAsync(http.RequestAborted);
        return ApiResults.Ok(new { accepted = events.Count, chat_messages = chats });
    }

    internal static async Task<IResult> PostArtifacts(string botId, HttpContext http, ParleyDbContext db, IArtifactStore storage, TimeProvider time, ILoggerFactory loggers)
    {
        var now = time.GetUtcNow().UtcDateTime;
        if (http.Request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true)
        {
            var (request, error) = await RequestBody.ReadAsync<ArtifactsRequest>(http.Request);
            if (error is not null)
            {
                return error;
            }

            if (request!.Artifacts is not { Count: > 0 and <= 100 } list)
            {
                return ApiError.Validation("artifacts", "must hold 1 to 100 artifacts");
            }

            for (var i = 0; i < list.Count; i++)
            {
                var a = list[i];
                if (a.Kind is null || !ArtifactKinds.Contains(a.Kind) || a.Key is null || !a.Key.StartsWith(ArtifactKeys.Prefix(botId), StringComparison.Ordinal))
                {
                    return ApiError.Validation($"artifacts[{i}]", $"needs a kind ({string.Join(", ", ArtifactKinds)}) and a key under {ArtifactKeys.Prefix(botId)}");
                }

                if (!await storage.ExistsAsync(a.Kind == "log" ? StorageBucket.Logs : StorageBucket.Artifacts, a.Key, http.RequestAborted))
                {
                    return ApiError.Validation($"artifacts[{i}].key", "no such object in storage");
                }

                db.BotArtifacts.Add(new BotArtifact { BotId = botId, Kind = a.Kind, StorageKey = a.Key, ContentType = a.ContentType ?? "application/octet-stream", SizeBytes = a.SizeBytes ?? 0, CreatedAt = now });
            }

            await db.SaveChangesAsync(http.RequestAborted);
            return ApiResults.Ok(new { registered = list.Count });
        }

        // Direct upload: the body is the file; ?kind= and ?name= say what it is.
        var kind = http.Request.Query["kind"].ToString();
        var name = http.Request.Query["name"].ToString();
        if (!ArtifactKinds.Contains(kind) || name.Length is 0 or > 128 || name.Contains('/', StringComparison.Ordinal) || name.Contains("..", StringComparison.Ordinal))
        {
            return ApiError.Validation("kind", $"upload with ?kind=({string.Join("|", ArtifactKinds)})&name=FILE_NAME");
        }

        var key = ArtifactKeys.Prefix(botId) + name;
        var bucket = kind == "log" ? StorageBucket.Logs : StorageBucket.Artifacts;
        var contentType = http.Request.ContentType ?? "application/octet-stream";
        // Bot uploads can be large recordings: no 1 MB API limit here.
        var sizeFeature = http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = null;
        }

        var counting = new CountingStream(http.Request.Body);
        try
        {
            await storage.PutAsync(bucket, key, counting, contentType, http.RequestAborted);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Storage down (S3 unreachable, disk full or read-only): a 503 the bot retries with backoff, then
            // keeps the file in PARLEY_FALLBACK_STORAGE_DIR for fallback-upload-job. Not a 500: nothing is wrong here.
            LogStorageFailed(loggers.CreateLogger(typeof(InternalBotEndpoints).FullName!), botId, key, ex.GetType().Name, ex.Message);
            http.Response.Headers.RetryAfter = "5";
            return ApiError.Create(503, "STORAGE_UNAVAILABLE", "Storage unavailable", $"Artifact storage refused {name}: {ex.Message}. Retry later.");
        }

        db.BotArtifacts.Add(new BotArtifact { BotId = botId, Kind = kind, StorageKey = key, ContentType = contentType, SizeBytes = counting.BytesRead, CreatedAt = now });
        await db.SaveChangesAsync(http.RequestAborted);
        return ApiResults.Created(new { key, kind, size_bytes = counting.BytesRead });
    }

    [LoggerMessage(EventId = 3020, Level = LogLevel.Warning, Message = "Bot {BotId}: storing {Key} failed ({Type}: {Reason}); answered 503")]
    private static partial void LogStorageFailed(ILogger logger, string botId, string key, string type, string reason);

    private static JsonArray JsonArrayOf(string? json) => json is null ? [] : JsonNode.Parse(json)!.AsArray();

    /// <summary>Participants get sequential ids from 1 in order of appearance (API.md details shape).</summary>
    private static JsonObject Upsert(JsonArray list, EventParticipant participant, JsonObject? from = null)
    {
        var key = participant.Id ?? participant.Name;
        foreach (var node in list)
        {
            if (node is JsonObject existing && (string?)existing["_key"] == key)
            {
                return existing;
            }
        }

        var entry = new JsonObject
        {
            ["id"] = from?["id"]?.GetValue<int>() ?? list.Count + 1,
            ["name"] = participant.Name,
            ["display_name"] = participant.DisplayName,
            ["profile_picture"] = participant.ProfilePicture,
            ["_key"] = key,
        };
        list.Add(entry);
        return entry;
    }

    private sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = inner.Read(buffer, offset, count);
            BytesRead += n;
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken);
            BytesRead += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>Requires the bot's own token on every internal endpoint.</summary>
public sealed class BotTokenFilter(ParleyDbContextFactory databases) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var botId = context.HttpContext.Request.RouteValues["botId"] as string ?? "";
        await using var db = databases.CreateDbContext();
        if (!await BotTokens.VerifyAsync(context.HttpContext, db, botId))
        {
            return ApiError.Create(401, "UNAUTHORIZED", "Unauthorized", "Send this bot's token as Authorization: Bearer <token>; it stops working when the bot ends.");
        }

        return await next(context);
    }
}
