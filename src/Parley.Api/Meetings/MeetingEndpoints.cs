using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Parley.Api.Auth;
using Parley.Api.Bots;
using Parley.Api.Http;
using Parley.Core.Meetings;
using Parley.Data;

namespace Parley.Api.Meetings;

/// <summary>
/// API.md "Meetings (Parley's own)": create, list, details, delete, and join tokens. Team-scoped like the
/// bots: another team's meeting answers 404.
/// </summary>
public static class MeetingEndpoints
{
    public const int MaxNameLength = 255;
    public const int MaxIdentityLength = 128;
    public const int MaxDisplayNameLength = 100;
    public const int MinTtlSeconds = 60;
    public const int MaxTtlSeconds = 604800;
    public const int MinTokenTtlSeconds = 60;
    public const int MaxTokenTtlSeconds = 2592000;

    public static RouteGroupBuilder MapMeetings(this RouteGroupBuilder v2)
    {
        ArgumentNullException.ThrowIfNull(v2);
        var meetings = v2.MapGroup("/meetings").WithTags("Meetings");
        meetings.MapPost("/", Create).WithName("CreateMeeting").WithSummary("Create a meeting on Parley's SFU")
            .Accepts<CreateMeetingRequest>("application/json").Produces<Envelope<MeetingView>>(201).ProducesErrors(400, 401, 413, 429);
        meetings.MapGet("/", List).WithName("ListMeetings").WithSummary("List meetings, newest first (cursor pagination; query limit, cursor, status=open|closed)")
            .Produces<MeetingListEnvelope>().ProducesErrors(400, 401);
        meetings.MapGet("/{meetingId}", Get).WithName("GetMeeting").WithSummary("Meeting details and the participants in it now")
            .Produces<Envelope<MeetingDetails>>().ProducesErrors(401, 404);
        meetings.MapDelete("/{meetingId}", Delete).WithName("DeleteMeeting")
            .WithSummary("Close the meeting: everyone in it is disconnected, new joins get MEETING_CLOSED. Idempotent: deleting a closed meeting answers 200 again")
            .Produces<Envelope<MeetingView>>().ProducesErrors(401, 404, 429);
        meetings.MapPost("/{meetingId}/tokens", CreateToken).WithName("CreateMeetingToken").WithSummary("A join token (JWT) for one participant")
            .Accepts<CreateMeetingTokenRequest>("application/json").Produces<Envelope<MeetingTokenView>>().ProducesErrors(400, 401, 404, 409, 413, 429);
        return v2;
    }

    internal static async Task<IResult> Create(HttpContext http, MeetingService meetings)
    {
        var team = TeamContext.Get(http);
        var (request, error) = await RequestBody.ReadAsync<CreateMeetingRequest>(http.Request);
        if (error is not null)
        {
            return error;
        }

        var details = new List<ErrorDetail>();
        var name = string.IsNullOrWhiteSpace(request!.Name) ? null : request.Name.Trim();
        if (name is { Length: > MaxNameLength })
        {
            details.Add(new("name", $"must be at most {MaxNameLength} characters"));
        }

        if (request.MaxParticipants is { } max && (max < 1 || max > 1000))
        {
            details.Add(new("max_participants", "must be between 1 and 1000"));
        }

        if (request.TtlSeconds is { } ttl && (ttl < MinTtlSeconds || ttl > MaxTtlSeconds))
        {
            details.Add(new("ttl_seconds", $"must be between {MinTtlSeconds} and {MaxTtlSeconds} seconds"));
        }

        if (details.Count > 0)
        {
            return ApiError.Validation(details);
        }

        var meeting = await meetings.CreateAsync(team.TeamId, name, request.MaxParticipants, request.TtlSeconds,
            request.Lobby ?? false, request.AllowGuests ?? true, http.RequestAborted);
        return ApiResults.Created(View(meeting, meetings, http.Request));
    }

    internal static async Task<IResult> List(HttpContext http, ParleyDbContext db, MeetingService meetings)
    {
        var team = TeamContext.Get(http);
        var query = http.Request.Query;
        var details = new List<ErrorDetail>();
        var limit = BotEndpoints.ReadLimit(query["limit"], details);
        Position? cursor = null;
        var forward = true;
        if (query.TryGetValue("cursor", out var rawCursor) && !string.IsNullOrEmpty(rawCursor))
        {
            if (Cursor.TryDecode(rawCursor, out var decoded) && Position.TryParse(decoded.AfterId, out var position))
            {
                cursor = position;
                forward = decoded.Forward;
            }
            else
            {
                details.Add(new("cursor", "is not a cursor returned by this API"));
            }
        }

        var now = meetings.Now();
        var rows = db.Meetings.AsNoTracking().Where(m => m.TeamId == team.TeamId);
        switch (query["status"].ToString())
        {
            case "":
                break;
            case "open":
                rows = rows.Where(m => m.ClosedAt == null && m.EndsAt > now);
                break;
            case "closed":
                rows = rows.Where(m => m.ClosedAt != null || m.EndsAt <= now);
                break;
            default:
                details.Add(new("status", "must be open or closed"));
                break;
        }

        if (details.Count > 0)
        {
            return ApiError.Validation(details);
        }

        // Keyset paging on (created_at, id), newest first: stable while meetings are created, and the ids
        // (random letters) say nothing about order on their own.
        List<Meeting> page;
        string? next;
        string? previous;
        if (cursor is { } back && !forward)
        {
            var newer = await rows
                .Where(m => m.CreatedAt > back.CreatedAt || (m.CreatedAt == back.CreatedAt && string.Compare(m.Id, back.Id) > 0))
                .OrderBy(m => m.CreatedAt).ThenBy(m => m.Id).Take(limit + 1).ToListAsync(http.RequestAborted);
            page = newer.Take(limit).Reverse().ToList();
            next = page.Count > 0 ? Encode(true, page[^1]) : null;
            previous = newer.Count > limit && page.Count > 0 ? Encode(false, page[0]) : null;
        }
        else
        {
            var filtered = cursor is { } after
                ? rows.Where(m => m.CreatedAt < after.CreatedAt || (m.CreatedAt == after.CreatedAt && string.Compare(m.Id, after.Id) < 0))
                : rows;
            var older = await filtered.OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Id).Take(limit + 1).ToListAsync(http.RequestAborted);
            page = older.Take(limit).ToList();
            next = older.Count > limit ? Encode(true, page[^1]) : null;
            previous = cursor is not null && page.Count > 0 ? Encode(false, page[0]) : null;
        }

        return ApiResults.List(page.Select(m => View(m, meetings, http.Request)).ToList(), next, previous);
    }

    internal static async Task<IResult> Get(string meetingId, HttpContext http, ParleyDbContext db, MeetingService meetings, IMeetingPresence presence)
    {
        var meeting = await FindAsync(db, TeamContext.Get(http), meetingId, http.RequestAborted);
        if (meeting is null)
        {
            return ApiError.NotFound("Meeting");
        }

        var view = View(meeting, meetings, http.Request);
        var count = view.Status == "open" ? presence.ParticipantCount(meeting.Id) : 0;
        return ApiResults.Ok(new MeetingDetails
        {
            MeetingId = view.MeetingId,
            JoinUrl = view.JoinUrl,
            Name = view.Name,
            MaxParticipants = view.MaxParticipants,
            TtlSeconds = view.TtlSeconds,
            Lobby = view.Lobby,
            AllowGuests = view.AllowGuests,
            Adhoc = view.Adhoc,
            Status = view.Status,
            CreatedAt = view.CreatedAt,
            EndsAt = view.EndsAt,
            ClosedAt = view.ClosedAt,
            CloseReason = view.CloseReason,
            ParticipantCount = count,
        });
    }

    /// <summary>
    /// Closes the meeting for good (close_reason "deleted") and its room. The row stays, so the meeting is
    /// still listed as closed and its link answers MEETING_CLOSED rather than starting an ad-hoc meeting.
    /// Deleting it again answers 200 with the same closed meeting and keeps its first close reason.
    /// </summary>
    internal static async Task<IResult> Delete(string meetingId, HttpContext http, ParleyDbContext db, MeetingService meetings, IMeetingPresence presence)
    {
        var meeting = await FindAsync(db, TeamContext.Get(http), meetingId, http.RequestAborted, tracked: true);
        if (meeting is null)
        {
            return ApiError.NotFound("Meeting");
        }

        if (meeting.ClosedAt is null)
        {
            meeting.ClosedAt = meetings.Now();
            meeting.CloseReason = MeetingCloseReason.Deleted;
            await db.SaveChangesAsync(http.RequestAborted);
        }

        presence.CloseMeeting(meeting.Id, MeetingCloseReason.Deleted);
        return ApiResults.Ok(View(meeting, meetings, http.Request));
    }

    internal static async Task<IResult> CreateToken(string meetingId, HttpContext http, ParleyDbContext db, MeetingService meetings)
    {
        var meeting = await FindAsync(db, TeamContext.Get(http), meetingId, http.RequestAborted);
        if (meeting is null)
        {
            return ApiError.NotFound("Meeting");
        }

        var (request, error) = await RequestBody.ReadAsync<CreateMeetingTokenRequest>(http.Request);
        if (error is not null)
        {
            return error;
        }

        var details = new List<ErrorDetail>();
        var identity = request!.Identity?.Trim();
        CheckText(identity, "identity", MaxIdentityLength, details);
        var name = request.Name?.Trim();
        CheckText(name, "name", MaxDisplayNameLength, details);
        if (request.TtlSeconds is { } ttl && (ttl < MinTokenTtlSeconds || ttl > MaxTokenTtlSeconds))
        {
            details.Add(new("ttl_seconds", $"must be between {MinTokenTtlSeconds} and {MaxTokenTtlSeconds} seconds"));
        }

        if (details.Count > 0)
        {
            return ApiError.Validation(details);
        }

        if (meeting.IsClosedAt(meetings.Now()))
        {
            return ApiError.MeetingClosed(meeting.Id);
        }

        var issued = meetings.IssueToken(meeting, new MeetingTokenClaims(meeting.Id, identity!, name!,
            request.CanPublish ?? true, request.CanSubscribe ?? true, request.Host ?? false, request.Bot ?? false), request.TtlSeconds);
        var joinUrl = meetings.JoinUrl(http.Request, meeting.Id) + "?token=" + Uri.EscapeDataString(issued.Token);
        return ApiResults.Ok(new MeetingTokenView(issued.Token, issued.ExpiresAt.UtcDateTime, meeting.Id, joinUrl));
    }

    /// <summary>Required, within the length, and no control characters (they end up in every client's UI).</summary>
    internal static void CheckText(string? value, string field, int maxLength, List<ErrorDetail> details)
    {
        if (string.IsNullOrEmpty(value))
        {
            details.Add(new(field, "is required"));
        }
        else if (value.Length > maxLength)
        {
            details.Add(new(field, $"must be at most {maxLength} characters"));
        }
        else if (value.Any(char.IsControl))
        {
            details.Add(new(field, "must not contain control characters"));
        }
    }

    internal static MeetingView View(Meeting meeting, MeetingService meetings, HttpRequest request)
    {
        var closed = meeting.IsClosedAt(meetings.Now());
        return new MeetingView
        {
            MeetingId = meeting.Id,
            JoinUrl = meetings.JoinUrl(request, meeting.Id),
            Name = meeting.Name,
            MaxParticipants = meetings.MaxParticipants(meeting),
            TtlSeconds = meeting.TtlSeconds,
            Lobby = meeting.Lobby,
            AllowGuests = meeting.AllowGuests,
            Adhoc = meeting.Adhoc,
            Status = closed ? "closed" : "open",
            CreatedAt = meeting.CreatedAt,
            EndsAt = meeting.EndsAt,
            ClosedAt = meeting.ClosedAt ?? (closed ? meeting.EndsAt : null),
            CloseReason = meeting.CloseReason ?? (closed ? MeetingCloseReason.Ttl : null),
        };
    }

    /// <summary>The caller's meeting, or null: another team's meeting is indistinguishable from a missing one.</summary>
    private static Task<Meeting?> FindAsync(ParleyDbContext db, TeamContext team, string meetingId, CancellationToken cancellationToken, bool tracked = false)
    {
        var query = db.Meetings.Where(m => m.Id == meetingId && m.TeamId == team.TeamId);
        return (tracked ? query : query.AsNoTracking()).FirstOrDefaultAsync(cancellationToken);
    }

    private static string Encode(bool forward, Meeting meeting) =>
        new Cursor(forward, new Position(meeting.CreatedAt, meeting.Id).ToString()).Encode();

    /// <summary>Where a page ends: the created_at (as ticks) and id of its last meeting.</summary>
    private readonly record struct Position(DateTime CreatedAt, string Id)
    {
        public override string ToString() => $"{CreatedAt.Ticks.ToString(CultureInfo.InvariantCulture)}:{Id}";

        public static bool TryParse(string text, out Position position)
        {
            position = default;
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || !long.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                || ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks || !MeetingIds.IsValid(text[(colon + 1)..]))
            {
                return false;
            }

            position = new Position(new DateTime(ticks, DateTimeKind.Utc), text[(colon + 1)..]);
            return true;
        }
    }
}
