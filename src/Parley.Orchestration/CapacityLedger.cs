using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Parley.Core.Bots;
using Parley.Data;

namespace Parley.Orchestration;

public enum ReservationResult
{
    /// <summary>The bot now counts against the platform's limit.</summary>
    Reserved,

    /// <summary>The platform is at its limit.</summary>
    Full,

    /// <summary>The bot is missing, ended, or already on a platform (another replica or an earlier delivery took it).</summary>
    NotDeployable,
}

/// <summary>
/// Platform capacity, kept in the bots table itself: a bot counts against a platform from the moment its
/// `deployment_platform` is set until it ends. Reserving is one conditional UPDATE that sets the platform
/// only when the bot is still unassigned and the platform's count of unended bots is below the limit, so
/// the count and the claim cannot drift apart, and "never deploy a bot twice" falls out of the same
/// statement. SQLite runs one writer at a time, which makes that statement atomic; on PostgreSQL two
/// READ COMMITTED transactions could both see room, so each reservation first takes a transaction-scoped
/// advisory lock per platform (released by the commit, and by PostgreSQL if the replica dies).
/// </summary>
public sealed class CapacityLedger(ParleyDbContextFactory databases, TimeProvider time)
{
    public async Task<ReservationResult> TryReserveAsync(string botId, string platform, int limit, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = databases.CreateDbContext();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (databases.Target.Provider == DatabaseProvider.Postgres)
        {
            await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock({0})", [LockId(platform)], cancellationToken);
        }

        var claimed = await db.Bots
            .Where(b => b.Id == botId && b.DeploymentPlatform == null && b.Status != BotStatus.Completed && b.Status != BotStatus.Failed
                && db.Bots.Count(o => o.DeploymentPlatform == platform && o.Status != BotStatus.Completed && o.Status != BotStatus.Failed) < limit)
            .ExecuteUpdateAsync(s => s
                .SetProperty(b => b.DeploymentPlatform, platform)
                .SetProperty(b => b.DeploymentIdentifier, (string?)null)
                .SetProperty(b => b.UpdatedAt, now), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (claimed == 1)
        {
            return ReservationResult.Reserved;
        }

        var deployable = await db.Bots.AsNoTracking()
            .AnyAsync(b => b.Id == botId && b.DeploymentPlatform == null && b.Status != BotStatus.Completed && b.Status != BotStatus.Failed, cancellationToken);
        return deployable ? ReservationResult.Full : ReservationResult.NotDeployable;
    }

    /// <summary>
    /// Gives a reservation back after a failed deployment so the next platform can take the bot; the token
    /// minted for the failed attempt stops working with it.
    /// </summary>
    public async Task ReleaseAsync(string botId, string platform, CancellationToken cancellationToken)
    {
        await using var db = databases.CreateDbContext();
        await db.Bots
            .Where(b => b.Id == botId && b.DeploymentPlatform == platform && b.Status != BotStatus.Completed && b.Status != BotStatus.Failed)
            .ExecuteUpdateAsync(s => s
                .SetProperty(b => b.DeploymentPlatform, (string?)null)
                .SetProperty(b => b.DeploymentIdentifier, (string?)null)
                .SetProperty(b => b.BotTokenHash, (string?)null), cancellationToken);
    }

    public async Task SetIdentifierAsync(string botId, string platform, string identifier, CancellationToken cancellationToken)
    {
        await using var db = databases.CreateDbContext();
        await db.Bots.Where(b => b.Id == botId && b.DeploymentPlatform == platform)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.DeploymentIdentifier, identifier), cancellationToken);
    }

    private static long LockId(string platform) =>
        BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes("parley:capacity:" + platform)), 0);
}
