namespace Parley.Core.SfuNodes;

/// <summary>
/// A process running the sfu role, as it last reported itself (docs/capacity.md, "Multi-node placement").
/// Each node writes its own row: at start, on every heartbeat with its live load, when it starts draining,
/// and deletes it when it stops. A node whose <see cref="HeartbeatAt"/> is older than
/// PARLEY_SFU_NODE_TIMEOUT_SECONDS is dead, whatever the row says.
/// </summary>
public sealed class SfuNode
{
    public required string Id { get; init; }

    /// <summary>Where the api role opens its WebSocket to this node: `{InternalUrl}/rtc/ws`.</summary>
    public required string InternalUrl { get; set; }

    /// <summary>Participants in rooms on this node at the last heartbeat.</summary>
    public int Participants { get; set; }

    /// <summary>Live rooms (meetings) on this node at the last heartbeat.</summary>
    public int Rooms { get; set; }

    /// <summary>Shutting down: keeps its meetings until it stops, gets no new ones.</summary>
    public bool Draining { get; set; }

    public DateTime StartedAt { get; init; }

    public DateTime HeartbeatAt { get; set; }

    public bool IsAliveAt(DateTime now, TimeSpan timeout) => HeartbeatAt >= now - timeout;
}

/// <summary>
/// Which SFU node hosts a meeting. One row per meeting (the primary key), so two api replicas placing the same
/// meeting at once cannot both win: the second insert fails and re-reads the first.
/// </summary>
public sealed class MeetingPlacement
{
    public required string MeetingId { get; init; }

    public required string NodeId { get; set; }

    public DateTime PlacedAt { get; set; }
}
