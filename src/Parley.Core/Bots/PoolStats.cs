namespace Parley.Core.Bots;

/// <summary>Slots of a container pool by state (deploying ones count as busy: they hold a bot).</summary>
public sealed record PoolSlotCounts(int Total, int Idle, int Busy, int Error);

/// <summary>
/// The pool behind `GET /api/bots/pool-stats` (Meeboter's Coolify pool). Implemented by the orchestration
/// project when a pool platform is configured; without one the endpoint reports an empty pool.
/// </summary>
public interface IPoolStatsSource
{
    Task<PoolSlotCounts> GetAsync(CancellationToken cancellationToken);
}
