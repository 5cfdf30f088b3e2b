using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Parley.Core.Configuration;
using Parley.Core.SfuNodes;
using Parley.Data;
using Parley.Sfu;

namespace Parley.Api.Sfu.Placement;

/// <summary>
/// The sfu role's entry in the node registry: registers at start (before Kestrel accepts joins), writes the
/// engine's load every PARLEY_SFU_HEARTBEAT_SECONDS, marks itself draining as soon as the host is asked to stop
/// (SIGTERM), and deletes its row when it stops. Each heartbeat also expires what nobody else cleans: rows of
/// nodes that died without saying so, placements on such nodes, and this node's placements that never got a
/// room (a client placed here that never arrived).
/// </summary>
public sealed partial class SfuNodeRegistration(
    SfuNodeIdentity identity,
    SfuEngine engine,
    SfuPlacementService placements,
    ParleyDbContextFactory databases,
    SfuNodeOptions options,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<SfuNodeRegistration> logger) : BackgroundService
{
    private volatile bool _draining;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await WriteAsync(cancellationToken).ConfigureAwait(false);
            LogRegistered(logger, identity.NodeId, identity.InternalUrl);
        }
        catch (Exception e) when (e is DbException or DbUpdateException or InvalidOperationException or TimeoutException)
        {
            // The process serves while the database is down (/ready says so); the heartbeat registers it later.
            LogHeartbeatFailed(logger, e, identity.NodeId);
        }

        lifetime.ApplicationStopping.Register(() =>
        {
            _draining = true;
            // Best effort and bounded: the stop itself must not hang on a slow database.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                WriteAsync(timeout.Token).GetAwaiter().GetResult();
                LogDraining(logger, identity.NodeId);
            }
            catch (Exception e) when (e is DbException or DbUpdateException or OperationCanceledException or InvalidOperationException)
            {
                LogHeartbeatFailed(logger, e, identity.NodeId);
            }
        });
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        // Not the host's token: it is already cancelled when open signaling connections used up the shutdown
        // timeout (Kestrel waits for them first), and leaving the registry is what matters most at this point.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await using var db = databases.CreateDbContext();
            await db.SfuNodes.Where(n => n.Id == identity.NodeId).ExecuteDeleteAsync(timeout.Token).ConfigureAwait(false);
            // Its meetings die with its rooms: their next join is placed afresh without waiting for the timeout.
            await db.MeetingPlacements.Where(p => p.NodeId == identity.NodeId).ExecuteDeleteAsync(timeout.Token).ConfigureAwait(false);
            LogDeregistered(logger, identity.NodeId);
        }
        catch (Exception e) when (e is DbException or OperationCanceledException or InvalidOperationException)
        {
            // The row expires after PARLEY_SFU_NODE_TIMEOUT_SECONDS anyway.
            LogHeartbeatFailed(logger, e, identity.NodeId);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.HeartbeatInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await WriteAsync(stoppingToken).ConfigureAwait(false);
                    await ExpireAsync(stoppingToken).ConfigureAwait(false);
                    await KeepRoomsPlacedAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is DbException or DbUpdateException or InvalidOperationException or TimeoutException
                    || (e is OperationCanceledException && !stoppingToken.IsCancellationRequested))
                {
                    // A database blip: the next tick tries again; after the timeout, api processes see this node as dead.
                    LogHeartbeatFailed(logger, e, identity.NodeId);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Upserts this node's row with the engine's current load.</summary>
    private async Task WriteAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        // The workers' counters: read without their locks, like /api/stats; a heartbeat needs no exact figure.
        var rooms = engine.Rooms;
        var participants = engine.Workers.Sum(w => w.ParticipantCount);
        await using var db = databases.CreateDbContext();
        var updated = await db.SfuNodes.Where(n => n.Id == identity.NodeId).ExecuteUpdateAsync(s => s
            .SetProperty(n => n.InternalUrl, identity.InternalUrl)
            .SetProperty(n => n.Participants, participants)
            .SetProperty(n => n.Rooms, rooms.Count)
            .SetProperty(n => n.Draining, _draining)
            .SetProperty(n => n.HeartbeatAt, now), cancellationToken).ConfigureAwait(false);
        if (updated == 0)
        {
            // First start, or another node expired this row during a long pause: register (again).
            db.SfuNodes.Add(new SfuNode
            {
                Id = identity.NodeId,
                InternalUrl = identity.InternalUrl,
                Participants = participants,
                Rooms = rooms.Count,
                Draining = _draining,
                StartedAt = now,
                HeartbeatAt = now,
            });
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ExpireAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var deadBefore = now - options.NodeTimeout;
        await using var db = databases.CreateDbContext();
        var dead = await db.SfuNodes.Where(n => n.HeartbeatAt < deadBefore).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
        // Placements on nodes that are gone; the grace keeps a placement whose node row is being re-registered.
        var orphans = await db.MeetingPlacements
            .Where(p => p.PlacedAt < deadBefore && !db.SfuNodes.Any(n => n.Id == p.NodeId))
            .ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
        // Placed here, yet no room after a whole timeout: the client never came (or its join was refused).
        var live = engine.Rooms.Select(r => r.MeetingId).ToList();
        var unused = await db.MeetingPlacements
            .Where(p => p.NodeId == identity.NodeId && p.PlacedAt < deadBefore && !live.Contains(p.MeetingId))
            .ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
        if (dead + orphans + unused > 0)
        {
            LogExpired(logger, dead, orphans + unused);
        }
    }

    /// <summary>
    /// After a pause longer than the node timeout, this node may find that a meeting it still holds was placed
    /// elsewhere (or its placement expired). Unplaced: it claims it back. Placed on another live node: new
    /// participants are there, so this room closes ("moved") and its participants rejoin through the api,
    /// rather than the meeting staying split for its whole length.
    /// </summary>
    private async Task KeepRoomsPlacedAsync(CancellationToken cancellationToken)
    {
        var live = engine.Rooms.Select(r => r.MeetingId).ToList();
        if (live.Count == 0)
        {
            return;
        }

        Dictionary<string, string> placed;
        await using (var db = databases.CreateDbContext())
        {
            placed = await db.MeetingPlacements.AsNoTracking().Where(p => live.Contains(p.MeetingId))
                .ToDictionaryAsync(p => p.MeetingId, p => p.NodeId, cancellationToken).ConfigureAwait(false);
        }

        foreach (var meetingId in live)
        {
            if (placed.TryGetValue(meetingId, out var nodeId) && nodeId == identity.NodeId)
            {
                continue;
            }

            var owner = await placements.ClaimAsync(meetingId, identity.NodeId, cancellationToken).ConfigureAwait(false);
            if (owner.NodeId != identity.NodeId)
            {
                LogMoved(logger, meetingId, owner.NodeId);
                engine.CloseRoom(meetingId, MovedReason);
            }
        }
    }

    /// <summary>The close reason of a room whose meeting now runs on another node (not a meeting end).</summary>
    public const string MovedReason = "moved";

    [LoggerMessage(EventId = 1615, Level = LogLevel.Warning, Message = "Meeting {MeetingId} was placed on SFU node {NodeId} while this node did not heartbeat: its room here closes")]
    private static partial void LogMoved(ILogger logger, string meetingId, string nodeId);

    [LoggerMessage(EventId = 1610, Level = LogLevel.Information, Message = "SFU node {NodeId} registered; api processes reach its signaling at {InternalUrl}/rtc/ws")]
    private static partial void LogRegistered(ILogger logger, string nodeId, string internalUrl);

    [LoggerMessage(EventId = 1611, Level = LogLevel.Information, Message = "SFU node {NodeId} is draining: it keeps its meetings and gets no new ones")]
    private static partial void LogDraining(ILogger logger, string nodeId);

    [LoggerMessage(EventId = 1612, Level = LogLevel.Information, Message = "SFU node {NodeId} left the node registry")]
    private static partial void LogDeregistered(ILogger logger, string nodeId);

    [LoggerMessage(EventId = 1613, Level = LogLevel.Warning, Message = "SFU node {NodeId}: the node registry could not be written")]
    private static partial void LogHeartbeatFailed(ILogger logger, Exception exception, string nodeId);

    [LoggerMessage(EventId = 1614, Level = LogLevel.Information, Message = "Node registry: expired {Nodes} dead SFU node(s) and {Placements} placement(s)")]
    private static partial void LogExpired(ILogger logger, int nodes, int placements);
}
