using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Parley.Core.Configuration;
using Parley.Core.SfuNodes;
using Parley.Data;

namespace Parley.Api.Sfu.Placement;

/// <summary>Where a meeting runs: its node's id and signaling base URL.</summary>
public sealed record PlacedNode(string NodeId, string InternalUrl, bool NewlyPlaced);

/// <summary>
/// Puts each meeting on one SFU node and keeps it there (docs/capacity.md, "Multi-node placement"). The
/// database is the arbiter, so any number of api replicas agree without talking to each other:
/// <list type="bullet">
/// <item>a live placement (its node heartbeats within PARLEY_SFU_NODE_TIMEOUT_SECONDS) is returned as it is;</item>
/// <item>no placement: insert one on the chosen node; the meeting id is the primary key, so of two replicas
/// inserting at once one fails and re-reads the winner's row;</item>
/// <item>a placement on a dead node: replace it with a conditional update (`where node_id = the dead one`), so
/// of two replicas replacing it at once only one update matches and the other re-reads.</item>
/// </list>
/// The chosen node is the live, non-draining one with the fewest participants (then fewest placed meetings,
/// which spreads a burst of new meetings between two heartbeats), unless the caller names a node (an SFU
/// node claiming a meeting a client joined on it directly).
/// </summary>
public sealed partial class SfuPlacementService(
    ParleyDbContextFactory databases,
    SfuNodeOptions options,
    TimeProvider time,
    ILogger<SfuPlacementService> logger)
{
    public const string WrongNode = "WRONG_NODE";
    public const string NoNode = "SFU_UNAVAILABLE";

    // Each round either returns or lost a race to another writer, which then holds a live placement: a second
    // round nearly always returns. The bound only stops a livelock between nodes dying and coming back.
    private const int MaxAttempts = 8;

    /// <summary>
    /// The node the meeting runs on, placing it on the least-loaded live node if needed; null when no live
    /// node takes new meetings.
    /// </summary>
    public Task<PlacedNode?> PlaceAsync(string meetingId, CancellationToken cancellationToken) =>
        PlaceCoreAsync(meetingId, claimingNode: null, cancellationToken);

    /// <summary>
    /// For an SFU node that received a join: the node the meeting runs on, placing it on
    /// <paramref name="nodeId"/> (draining or not: the client is already there) when it has no live placement.
    /// </summary>
    public async Task<PlacedNode> ClaimAsync(string meetingId, string nodeId, CancellationToken cancellationToken) =>
        await PlaceCoreAsync(meetingId, nodeId, cancellationToken).ConfigureAwait(false)
        ?? throw new InvalidOperationException($"SFU node {nodeId} is not in the node registry.");

    /// <summary>Live nodes, least loaded first (what `parley doctor` lists).</summary>
    public async Task<IReadOnlyList<SfuNode>> LiveNodesAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow().UtcDateTime - options.NodeTimeout;
        await using var db = databases.CreateDbContext();
        return await db.SfuNodes.AsNoTracking()
            .Where(n => n.HeartbeatAt >= cutoff)
            .OrderBy(n => n.Participants).ThenBy(n => n.Id)
            .ToListAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A meeting ended on <paramref name="nodeId"/>: its placement goes (unless it moved meanwhile).</summary>
    public async Task ReleaseAsync(string meetingId, string nodeId, CancellationToken cancellationToken)
    {
        await using var db = databases.CreateDbContext();
        await db.MeetingPlacements.Where(p => p.MeetingId == meetingId && p.NodeId == nodeId)
            .ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<PlacedNode?> PlaceCoreAsync(string meetingId, string? claimingNode, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(meetingId);
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var now = time.GetUtcNow().UtcDateTime;
            var cutoff = now - options.NodeTimeout;
            await using var db = databases.CreateDbContext();
            var current = await (
                from p in db.MeetingPlacements.AsNoTracking()
                where p.MeetingId == meetingId
                join n in db.SfuNodes.AsNoTracking() on p.NodeId equals n.Id into nodes
                from n in nodes.DefaultIfEmpty()
                select new { p.NodeId, Node = n })
                .FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
            if (current?.Node is { } placedOn && placedOn.HeartbeatAt >= cutoff)
            {
                return new PlacedNode(placedOn.Id, placedOn.InternalUrl, NewlyPlaced: false);
            }

            var target = await ChooseAsync(db, claimingNode, cutoff, cancellationToken).ConfigureAwait(false);
            if (target is null)
            {
                return null;
            }

            if (current is null)
            {
                db.MeetingPlacements.Add(new MeetingPlacement { MeetingId = meetingId, NodeId = target.Id, PlacedAt = now });
                try
                {
                    await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                    LogPlaced(logger, meetingId, target.Id, target.Participants);
                    return new PlacedNode(target.Id, target.InternalUrl, NewlyPlaced: true);
                }
                catch (DbUpdateException e) when (e.InnerException is DbException)
                {
                    // Another replica placed it first (unique key on meeting_id): the next round reads its row.
                    continue;
                }
            }

            var stale = current.NodeId;
            var moved = await db.MeetingPlacements
                .Where(p => p.MeetingId == meetingId && p.NodeId == stale)
                .ExecuteUpdateAsync(s => s.SetProperty(p => p.NodeId, target.Id).SetProperty(p => p.PlacedAt, now), cancellationToken)
                .ConfigureAwait(false);
            if (moved == 1)
            {
                LogReplaced(logger, meetingId, stale, target.Id);
                return new PlacedNode(target.Id, target.InternalUrl, NewlyPlaced: true);
            }
        }

        throw new InvalidOperationException($"Meeting {meetingId} could not be placed after {MaxAttempts} attempts (nodes coming and going).");
    }

    private static async Task<SfuNode?> ChooseAsync(ParleyDbContext db, string? claimingNode, DateTime cutoff, CancellationToken cancellationToken)
    {
        if (claimingNode is not null)
        {
            return await db.SfuNodes.AsNoTracking().FirstOrDefaultAsync(n => n.Id == claimingNode, cancellationToken).ConfigureAwait(false);
        }

        // Participants first (what costs CPU); placed meetings second, because load is only as fresh as the last
        // heartbeat and meetings placed since then would otherwise all pile onto the same idle node.
        var candidates = await db.SfuNodes.AsNoTracking()
            .Where(n => n.HeartbeatAt >= cutoff && !n.Draining)
            .Select(n => new { Node = n, Placed = db.MeetingPlacements.Count(p => p.NodeId == n.Id) })
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        return candidates
            .OrderBy(c => c.Node.Participants).ThenBy(c => c.Placed).ThenBy(c => c.Node.Id, StringComparer.Ordinal)
            .Select(c => c.Node)
            .FirstOrDefault();
    }

    [LoggerMessage(EventId = 1600, Level = LogLevel.Information, Message = "Meeting {MeetingId} placed on SFU node {NodeId} ({Participants} participants there)")]
    private static partial void LogPlaced(ILogger logger, string meetingId, string nodeId, int participants);

    [LoggerMessage(EventId = 1601, Level = LogLevel.Warning, Message = "Meeting {MeetingId} moved from dead SFU node {DeadNodeId} to {NodeId}")]
    private static partial void LogReplaced(ILogger logger, string meetingId, string deadNodeId, string nodeId);
}
