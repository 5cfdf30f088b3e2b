using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Parley.Data;

/// <summary>
/// Per-connection SQLite settings. `synchronous=NORMAL` with WAL keeps every commit durable against a process
/// crash and skips the fsync per commit (only a power loss can lose the last commits); measured in
/// docs/benchmarks.md, it is the difference between tens and hundreds of creates per second on this disk.
/// `busy_timeout` lets SQLite's own busy handler wait for the write lock in short steps instead of the
/// provider's coarse retries, which showed as second-long p99 latencies under concurrent writes.
/// </summary>
internal sealed class SqlitePragmas(int busyTimeoutMs) : DbConnectionInterceptor
{
    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private void Apply(DbConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA synchronous=NORMAL; PRAGMA busy_timeout={busyTimeoutMs};";
        command.ExecuteNonQuery();
    }
}
