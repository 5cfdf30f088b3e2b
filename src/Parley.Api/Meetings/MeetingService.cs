using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Parley.Api.Teams;
using Parley.Core.Configuration;
using Parley.Core.Meetings;
using Parley.Data;

namespace Parley.Api.Meetings;

/// <summary>
/// What the meeting endpoints and the authority share: creating meetings (by the API or ad hoc), their
/// effective limits, their join URL and the tokens for them.
/// </summary>
public sealed class MeetingService(
    ParleyDbContextFactory databases,
    MeetingTokenService tokens,
    MeetingOptions options,
    ServerOptions server,
    AuthOptions auth,
    FeatureOptions features,
    TeamService teams,
    TimeProvider time)
{
    private volatile bool _selfHostedTeamExists;

    public MeetingOptions Options => options;

    public DateTime Now() => time.GetUtcNow().UtcDateTime;

    /// <summary>The meeting's own limit, or MAX_PARTICIPANTS for a meeting that set none.</summary>
    public int MaxParticipants(Meeting meeting)
    {
        ArgumentNullException.ThrowIfNull(meeting);
        return meeting.MaxParticipants ?? options.MaxParticipants;
    }

    /// <summary>
    /// `{base}/meet/{id}`: the base is API_SERVER_BASEURL when set (what users reach behind a proxy), else the
    /// scheme and host the request came in on.
    /// </summary>
    public string JoinUrl(HttpRequest request, string meetingId)
    {
        ArgumentNullException.ThrowIfNull(request);
        var root = server.PublicBaseUrl is { } configured
            ? configured.ToString().TrimEnd('/')
            : $"{request.Scheme}://{request.Host.ToUriComponent()}{request.PathBase.ToUriComponent()}";
        return $"{root}/meet/{Uri.EscapeDataString(meetingId)}";
    }

    /// <summary>A token valid for ttl (default PARLEY_MEETING_TOKEN_TTL), never past the meeting's end.</summary>
    public IssuedMeetingToken IssueToken(Meeting meeting, MeetingTokenClaims claims, int? ttlSeconds)
    {
        ArgumentNullException.ThrowIfNull(meeting);
        var now = time.GetUtcNow();
        var expires = now.AddSeconds(ttlSeconds ?? options.TokenTtlSeconds);
        var endsAt = new DateTimeOffset(meeting.EndsAt, TimeSpan.Zero);
        return tokens.Issue(claims, expires < endsAt ? expires : endsAt);
    }

    public async Task<Meeting> CreateAsync(string teamId, string? name, int? maxParticipants, int? ttlSeconds, bool lobby, bool allowGuests, CancellationToken cancellationToken)
    {
        // Times to the millisecond: what the API shows is what the list cursor compares.
        var now = TruncateToMilliseconds(Now());
        var ttl = ttlSeconds ?? options.MeetingTtlSeconds;
        await EnsureTeamAsync(teamId, cancellationToken);
        await using var db = databases.CreateDbContext();
        // Ten random letters rarely collide; if they do, the primary key says so and another id is drawn.
        for (var attempt = 0; ; attempt++)
        {
            var meeting = new Meeting
            {
                Id = MeetingIds.NewId(),
                TeamId = teamId,
                Name = name,
                MaxParticipants = maxParticipants,
                TtlSeconds = ttl,
                Lobby = lobby,
                AllowGuests = allowGuests,
                Adhoc = false,
                CreatedAt = now,
                EndsAt = now.AddSeconds(ttl),
            };
            db.Meetings.Add(meeting);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return meeting;
            }
            catch (DbUpdateException) when (attempt < 3)
            {
                db.ChangeTracker.Clear();
            }
        }
    }

    /// <summary>Whether a guest who opens an unknown id starts a meeting there: on, and single-tenant.</summary>
    public bool AdhocAllowed => options.AdhocMeetings && !features.MultiTenant;

    /// <summary>
    /// The ad-hoc meeting at this id, created with the defaults (no lobby, guests allowed, MEETING_TTL) in the
    /// single team, or the one a concurrent guest created a moment before.
    /// </summary>
    public async Task<Meeting> CreateAdhocAsync(string meetingId, CancellationToken cancellationToken)
    {
        var now = TruncateToMilliseconds(Now());
        await EnsureTeamAsync(auth.StaticTeamId, cancellationToken);
        await using var db = databases.CreateDbContext();
        var meeting = new Meeting
        {
            Id = meetingId,
            TeamId = auth.StaticTeamId,
            Name = null,
            MaxParticipants = null,
            TtlSeconds = options.MeetingTtlSeconds,
            Lobby = false,
            AllowGuests = true,
            Adhoc = true,
            CreatedAt = now,
            EndsAt = now.AddSeconds(options.MeetingTtlSeconds),
        };
        db.Meetings.Add(meeting);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return meeting;
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            return await db.Meetings.AsNoTracking().FirstOrDefaultAsync(m => m.Id == meetingId, cancellationToken)
                ?? throw new InvalidOperationException($"Cannot create the ad-hoc meeting {meetingId}.");
        }
    }

    /// <summary>
    /// An ad-hoc meeting that ended by its TTL (or was never closed by a room, say after a crash, and is past
    /// its end) gives way to a new one at the same id: the link is the room's name, and a TTL bounds one
    /// session, not the link. One deleted through the API keeps its link blocked. Of concurrent renewals
    /// only the first deletes the old row (it is matched by its creation time); the others find the new one.
    /// </summary>
    public async Task<Meeting> RenewAdhocAsync(Meeting ended, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ended);
        await using (var db = databases.CreateDbContext())
        {
            await db.Meetings.Where(m => m.Id == ended.Id && m.Adhoc && m.CreatedAt == ended.CreatedAt
                    && (m.CloseReason == null || m.CloseReason != MeetingCloseReason.Deleted))
                .ExecuteDeleteAsync(cancellationToken);
        }

        return await CreateAdhocAsync(ended.Id, cancellationToken);
    }

    public async Task<Meeting?> FindAsync(string meetingId, CancellationToken cancellationToken)
    {
        await using var db = databases.CreateDbContext();
        return await db.Meetings.AsNoTracking().FirstOrDefaultAsync(m => m.Id == meetingId, cancellationToken);
    }

    /// <summary>
    /// Single-tenant mode: the team row the meeting refers to is made by a background bootstrap at start;
    /// a meeting created in the first instant must not wait for it. Once per process.
    /// </summary>
    private async Task EnsureTeamAsync(string teamId, CancellationToken cancellationToken)
    {
        if (_selfHostedTeamExists || features.MultiTenant || teamId != auth.StaticTeamId)
        {
            return;
        }

        await teams.EnsureTeamAsync(teamId, SelfHostedTeamBootstrap.TeamName, cancellationToken);
        _selfHostedTeamExists = true;
    }

    private static DateTime TruncateToMilliseconds(DateTime value) =>
        new(value.Ticks - value.Ticks % TimeSpan.TicksPerMillisecond, DateTimeKind.Utc);
}
