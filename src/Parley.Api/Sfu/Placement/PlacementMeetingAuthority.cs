using System.Data.Common;
using Microsoft.Extensions.Logging;
using Parley.Core.Meetings;
using Parley.Sfu.Meetings;

namespace Parley.Api.Sfu.Placement;

/// <summary>
/// What an SFU node asks before it lets a participant in: the meeting's rules (the inner authority), then
/// whether the meeting is placed on this node. A meeting placed on another live node is refused with
/// WRONG_NODE, so a client that reached the wrong node (a stale link, a gateway without placement) cannot
/// split the meeting; an unplaced meeting is claimed by this node. When the room closes its placement goes.
/// </summary>
public sealed partial class PlacementMeetingAuthority(
    IMeetingAuthority inner,
    SfuPlacementService placements,
    SfuNodeIdentity identity,
    ILogger<PlacementMeetingAuthority> logger) : IMeetingAuthority
{
    public async ValueTask<JoinAuthorization> AuthorizeAsync(string token, CancellationToken cancellationToken)
    {
        var authorization = await inner.AuthorizeAsync(token, cancellationToken).ConfigureAwait(false);
        if (!authorization.IsAllowed)
        {
            return authorization;
        }

        var meetingId = authorization.Policy!.MeetingId;
        PlacedNode placed;
        try
        {
            placed = await placements.ClaimAsync(meetingId, identity.NodeId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DbException or InvalidOperationException)
        {
            LogPlacementFailed(logger, e, meetingId);
            return JoinAuthorization.Refused(SfuPlacementService.NoNode, "The meeting could not be placed on a media server; try again.");
        }

        if (placed.NodeId != identity.NodeId)
        {
            LogWrongNode(logger, meetingId, placed.NodeId);
            return JoinAuthorization.Refused(SfuPlacementService.WrongNode,
                $"Meeting {meetingId} runs on another media server ({placed.NodeId}); connect to /rtc/ws of the API, which routes each meeting to its server.");
        }

        return authorization;
    }

    public async ValueTask MeetingClosedAsync(string meetingId, string reason, CancellationToken cancellationToken)
    {
        // A room closed because this node stops ("shutdown") is not the meeting's end: with several nodes its
        // participants rejoin and it is placed on another node, so only the placement goes.
        if (MeetingCloseReason.All.Contains(reason))
        {
            await inner.MeetingClosedAsync(meetingId, reason, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await placements.ReleaseAsync(meetingId, identity.NodeId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DbException or InvalidOperationException)
        {
            // The heartbeat expires placements without a room.
            LogPlacementFailed(logger, e, meetingId);
        }
    }

    [LoggerMessage(EventId = 1620, Level = LogLevel.Information, Message = "Join for meeting {MeetingId} refused: it runs on SFU node {NodeId}")]
    private static partial void LogWrongNode(ILogger logger, string meetingId, string nodeId);

    [LoggerMessage(EventId = 1621, Level = LogLevel.Warning, Message = "Placement of meeting {MeetingId} failed")]
    private static partial void LogPlacementFailed(ILogger logger, Exception exception, string meetingId);
}
