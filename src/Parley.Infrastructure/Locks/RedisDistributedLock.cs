using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Parley.Core.Locks;
using StackExchange.Redis;

namespace Parley.Infrastructure.Locks;

/// <summary>
/// The single-instance Redis lock of the Redis documentation ("Distributed locks with Redis", the correct
/// implementation with a single instance): <c>SET key token NX PX ttl</c> with a random token, released by a
/// script that deletes the key only while it still holds our token, so a holder whose time to live ran out
/// cannot release the next holder's lock.
/// </summary>
public sealed partial class RedisDistributedLock(RedisConnection connection, ILogger<RedisDistributedLock> logger, string keyPrefix = "parley:") : IDistributedLock
{
    private const string ReleaseScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

    // Retry backoff while another holder has the key: short at first (locks guard short sections, such as
    // one bot insert), doubling up to a cap so that 50 waiters do not hammer Redis.
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan MaxRetry = TimeSpan.FromMilliseconds(100);

    public string Kind => "redis";

    public async Task<ILockHandle?> TryAcquireAsync(string key, TimeSpan timeToLive, TimeSpan wait, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentOutOfRangeException.ThrowIfLessThan(timeToLive, TimeSpan.FromMilliseconds(1));
        var database = await connection.GetDatabaseAsync();
        var redisKey = (RedisKey)(keyPrefix + "lock:" + key);
        var token = (RedisValue)Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var deadline = DateTime.UtcNow + (wait > TimeSpan.Zero ? wait : TimeSpan.Zero);
        var retry = FirstRetry;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (await database.StringSetAsync(redisKey, token, timeToLive, When.NotExists))
            {
                return new Handle(database, redisKey, token, key, logger);
            }

            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                return null;
            }

            // Jitter keeps waiters that started together from retrying together.
            var pause = TimeSpan.FromTicks((long)(retry.Ticks * (0.5 + Random.Shared.NextDouble())));
            await Task.Delay(pause < remaining ? pause : remaining, cancellationToken);
            retry = retry * 2 < MaxRetry ? retry * 2 : MaxRetry;
        }
    }

    [LoggerMessage(EventId = 3201, Level = LogLevel.Warning, Message = "Could not release Redis lock {Key}; it expires with its time to live: {Reason}")]
    private static partial void LogReleaseFailed(ILogger logger, string key, string reason);

    private sealed class Handle(IDatabase database, RedisKey redisKey, RedisValue token, string key, ILogger logger) : ILockHandle
    {
        private int _disposed;

        public string Key => key;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            try
            {
                await database.ScriptEvaluateAsync(ReleaseScript, [redisKey], [token]);
            }
            catch (RedisException ex)
            {
                // Dispose runs in finally blocks: throwing here would hide the caller's own outcome.
                LogReleaseFailed(logger, key, ex.Message);
            }
        }
    }
}
