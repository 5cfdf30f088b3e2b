using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using Parley.Core.Locks;

namespace Parley.Data.Locks;

/// <summary>
/// The lock used when no Redis is configured. On PostgreSQL: a session advisory lock held on a dedicated
/// connection, so replicas sharing the database exclude each other. On SQLite (one process by design): an
/// in-process lock. Expiry on PostgreSQL is the connection's life: a crashed holder's session ends and
/// PostgreSQL releases the lock.
/// </summary>
public sealed class DatabaseDistributedLock(DatabaseTarget target, TimeProvider time) : IDistributedLock
{
    private static readonly TimeSpan RetryEvery = TimeSpan.FromMilliseconds(20);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _local = new(StringComparer.Ordinal);

    public string Kind => target.Provider == DatabaseProvider.Postgres ? "database" : "memory";

    public async Task<ILockHandle?> TryAcquireAsync(string key, TimeSpan timeToLive, TimeSpan wait, CancellationToken cancellationToken)
    {
        if (target.Provider != DatabaseProvider.Postgres)
        {
            var semaphore = _local.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
            return await semaphore.WaitAsync(wait, cancellationToken) ? new LocalHandle(key, semaphore) : null;
        }

        var lockId = BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes(key)), 0);
        var connection = new NpgsqlConnection(target.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            var deadline = time.GetUtcNow() + wait;
            while (true)
            {
                await using (var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@id)", connection))
                {
                    command.Parameters.AddWithValue("id", lockId);
                    if (await command.ExecuteScalarAsync(cancellationToken) is true)
                    {
                        return new PostgresHandle(key, lockId, connection);
                    }
                }

                if (time.GetUtcNow() >= deadline)
                {
                    await connection.DisposeAsync();
                    return null;
                }

                await Task.Delay(RetryEvery, cancellationToken);
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private sealed class LocalHandle(string key, SemaphoreSlim semaphore) : ILockHandle
    {
        private int _released;

        public string Key => key;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                semaphore.Release();
            }

            return ValueTask.CompletedTask;
        }
    }

    private sealed class PostgresHandle(string key, long lockId, NpgsqlConnection connection) : ILockHandle
    {
        public string Key => key;

        public async ValueTask DisposeAsync()
        {
            try
            {
                await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock(@id)", connection);
                command.Parameters.AddWithValue("id", lockId);
                await command.ExecuteScalarAsync();
            }
            finally
            {
                // Closing the session releases the lock even if the unlock above failed.
                await connection.DisposeAsync();
            }
        }
    }
}
