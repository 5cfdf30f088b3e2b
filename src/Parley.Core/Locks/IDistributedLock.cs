namespace Parley.Core.Locks;

/// <summary>A held lock; disposing releases it (only if this holder still owns it).</summary>
public interface ILockHandle : IAsyncDisposable
{
    string Key { get; }
}

/// <summary>
/// Short mutual exclusion across replicas (Redis when REDIS_URL is set) or within one process (in-memory).
/// Locks expire after their time to live so that a crashed holder cannot block others for ever.
/// </summary>
public interface IDistributedLock
{
    /// <summary>"redis", "database" or "memory".</summary>
    string Kind { get; }

    /// <summary>Tries until <paramref name="wait"/> has passed; null when the lock could not be taken.</summary>
    Task<ILockHandle?> TryAcquireAsync(string key, TimeSpan timeToLive, TimeSpan wait, CancellationToken cancellationToken);
}
