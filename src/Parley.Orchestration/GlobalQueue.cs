using Microsoft.EntityFrameworkCore;
using Parley.Core.Bots;
using Parley.Data;

namespace Parley.Orchestration;

/// <summary>
/// The order of the global queue: priority, highest first, then arrival (created_at, then id). A bot's
/// priority is the number `extra.priority` (default 0, negative allowed): the Meeting BaaS v2 create body has
/// no priority field, `extra` is free-form, stored with the bot and changeable by update-config, so a waiting
/// bot can be moved up without a new API field. A missing or non-numeric value counts as 0. The priority is
/// read in SQL (both providers' JSON functions) so the database orders the queue, whatever its length.
/// </summary>
public static class GlobalQueue
{
    /// <summary>The key in a bot's `extra` that sets its place in the global queue.</summary>
    public const string PriorityKey = "priority";

    /// <summary>The next waiting bots, in queue order.</summary>
    public static Task<List<Bot>> NextAsync(ParleyDbContext db, DatabaseProvider provider, int count, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        // Only the provider's own expression and a number are spliced in; the status goes as a parameter.
        var sql = $$"""
            SELECT * FROM bots AS w
            WHERE w.deployment_platform IS NULL AND w.status = {0}
            ORDER BY {{Priority(provider, "w")}} DESC, w.created_at, w.id
            LIMIT {{count}}
            """;
        return db.Bots.FromSqlRaw(sql, BotStatus.PickupDelayed).AsNoTracking().ToListAsync(cancellationToken);
    }

    /// <summary>Whether a waiting bot other than <paramref name="botId"/> comes before it in queue order.</summary>
    public static async Task<bool> AnyAheadOfAsync(ParleyDbContext db, DatabaseProvider provider, string botId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var w = Priority(provider, "w");
        var me = Priority(provider, "me");
        var sql = $$"""
            SELECT 1 AS "Value" FROM bots AS w JOIN bots AS me ON me.id = {0}
            WHERE w.id <> me.id AND w.deployment_platform IS NULL AND w.status = {1}
              AND ({{w}} > {{me}} OR {{w}} = {{me}} AND (w.created_at < me.created_at OR w.created_at = me.created_at AND w.id < me.id))
            LIMIT 1
            """;
        var rows = await db.Database.SqlQueryRaw<int>(sql, botId, BotStatus.PickupDelayed).ToListAsync(cancellationToken);
        return rows.Count > 0;
    }

    /// <summary>
    /// `extra.priority` as a number, 0 when absent or not a number. SQLite: `json_type` on malformed JSON
    /// raises, so it is guarded by `json_valid` (CASE evaluates lazily). PostgreSQL: `extra` is text written by
    /// the API as a JSON object; `->` on a non-object gives NULL.
    /// </summary>
    internal static string Priority(DatabaseProvider provider, string alias) => provider switch
    {
        DatabaseProvider.Postgres =>
            $"COALESCE(CASE WHEN jsonb_typeof({alias}.extra::jsonb -> '{PriorityKey}') = 'number' THEN ({alias}.extra::jsonb ->> '{PriorityKey}')::numeric END, 0)",
        _ =>
            $"COALESCE(CASE WHEN json_valid({alias}.extra) THEN CASE WHEN json_type({alias}.extra, '$.{PriorityKey}') IN ('integer', 'real') THEN json_extract({alias}.extra, '$.{PriorityKey}') END END, 0)",
    };
}
