using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Parley.Core.Meetings;
using Parley.Data;
using Parley.Sfu.Meetings;

namespace Parley.Api.Meetings;

/// <summary>
/// The SFU's <see cref="IMeetingAuthority"/> over the meetings table and JWT_SECRET: a join is allowed when
/// the token verifies and names a meeting that exists and is open; a room that closes closes its meeting.
/// </summary>
public sealed partial class DatabaseMeetingAuthority(
    MeetingTokenService tokens,
    ParleyDbContextFactory databases,
    MeetingOptions options,
    TimeProvider time,
    ILogger<DatabaseMeetingAuthority> logger) : IMeetingAuthority
{
    public const string MeetingNotFound = "MEETING_NOT_FOUND";
    public const string MeetingClosed = "MEETING_CLOSED";

    private static readonly TimeSpan TtlTolerance = TimeSpan.FromMinutes(5);

    public async ValueTask<JoinAuthorization> AuthorizeAsync(string token, CancellationToken cancellationToken)
    {
        var validation = await tokens.ValidateAsync(token);
        if (validation.Grant is not { } grant)
        {
            return JoinAuthorization.Refused(validation.ErrorCode!, validation.ErrorMessage!);
        }

        Meeting? meeting;
        await using (var db = databases.CreateDbContext())
        {
            meeting = await db.Meetings.AsNoTracking().FirstOrDefaultAsync(m => m.Id == grant.MeetingId, cancellationToken);
        }

        if (meeting is null)
        {
            return JoinAuthorization.Refused(MeetingNotFound, $"Meeting {grant.MeetingId} does not exist.");
        }

        if (meeting.IsClosedAt(time.GetUtcNow().UtcDateTime))
        {
            return JoinAuthorization.Refused(MeetingClosed, $"Meeting {meeting.Id} has ended.");
        }

        return JoinAuthorization.Allowed(grant, new MeetingPolicy
        {
            MeetingId = meeting.Id,
            Name = meeting.Name,
            MaxParticipants = meeting.MaxParticipants ?? options.MaxParticipants,
            Lobby = meeting.Lobby,
            EndsAt = new DateTimeOffset(meeting.EndsAt, TimeSpan.Zero),
            EmptyTimeout = TimeSpan.FromSeconds(options.EmptyMeetingTimeoutSeconds),
        });
    }

    /// <summary>
    /// Records the close. An ad-hoc meeting that closed because everyone left is deleted instead, so that the
    /// same link starts a new meeting later; one closed by its TTL or deleted through the API stays closed.
    /// </summary>
    public async ValueTask MeetingClosedAsync(string meetingId, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(meetingId);
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = databases.CreateDbContext();
        if (reason == MeetingCloseReason.Empty
            && await db.Meetings.Where(m => m.Id == meetingId && m.Adhoc && m.ClosedAt == null).ExecuteDeleteAsync(cancellationToken) > 0)
        {
            LogClosed(logger, meetingId, reason, "deleted the ad-hoc meeting");
            return;
        }

        // Only the first close counts: a meeting deleted through the API keeps "deleted" when its room then closes.
        var open = db.Meetings.Where(m => m.Id == meetingId && m.ClosedAt == null);
        if (reason == MeetingCloseReason.Ttl)
        {
            // A TTL close of a meeting that is not near its end is a late report about an earlier meeting at the
            // same id (an ad-hoc link that started afresh meanwhile); the tolerance covers other nodes' clocks.
            var latest = now + TtlTolerance;
            open = open.Where(m => m.EndsAt <= latest);
        }

        var closed = await open
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.ClosedAt, now).SetProperty(m => m.CloseReason, reason), cancellationToken);
        if (closed > 0)
        {
            LogClosed(logger, meetingId, reason, "closed");
        }
    }

    [LoggerMessage(EventId = 1500, Level = LogLevel.Information, Message = "Meeting {MeetingId} ended ({Reason}): {Action}")]
    private static partial void LogClosed(ILogger logger, string meetingId, string reason, string action);
}
