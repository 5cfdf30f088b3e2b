using Parley.Core.Locks;

namespace Parley.Infrastructure.Locks;

/// <summary>
/// Locks within one process (embedded mode, one replica). Same contract as the Redis lock, including the
/// time to live: a holder that forgets to release does not block others for ever.
/// </summary>
public sealed class InMemoryDistributedLock(TimeProvider? time = null) : IDistributedLock
{
    private const int SweepThreshold = 1024;

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Dictionary<string, Holder> _held = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    // Completed and replaced on every release, so that waiters wake at once instead of polling.
    private TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Kind => "memory";

    public async Task<ILockHandle?> TryAcquireAsync(string key, TimeSpan timeToLive, TimeSpan wait, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeToLive, TimeSpan.Zero);
        var deadline = _time.GetUtcNow() + (wait > TimeSpan.Zero ? wait : TimeSpan.Zero);
        while (true)
        {
            Task released;
            DateTimeOffset wakeAt;
            lock (_gate)
            {
                var now = _time.GetUtcNow();
                if (_held.Count > SweepThreshold)
                {
                    // Keys are often unique (one per meeting URL): forget the expired ones now and then.
                    foreach (var expired in _held.Where(p => p.Value.ExpiresAt <= now).Select(p => p.Key).ToList())
                    {
                        _held.Remove(expired);
                    }
                }

                if (!_held.TryGetValue(key, out var holder) || holder.ExpiresAt <= now)
                {
                    var token = Guid.NewGuid();
                    _held[key] = new Holder(token, now + timeToLive);
                    return new Handle(this, key, token);
                }

                if (now >= deadline)
                {
                    return null;
                }

                released = _released.Task;
                wakeAt = holder.ExpiresAt < deadline ? holder.ExpiresAt : deadline;
            }

            var delay = wakeAt - _time.GetUtcNow();
            if (delay > TimeSpan.Zero)
            {
                await Task.WhenAny(released, Task.Delay(delay, _time, cancellationToken));
            }

            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private void Release(string key, Guid token)
    {
        lock (_gate)
        {
            // Only the owner releases: after its time to live ran out, someone else may hold the key.
            if (_held.TryGetValue(key, out var holder) && holder.Token == token)
            {
                _held.Remove(key);
                var released = _released;
                _released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                released.TrySetResult();
            }
        }
    }

    private sealed record Holder(Guid Token, DateTimeOffset ExpiresAt);

    private sealed class Handle(InMemoryDistributedLock owner, string key, Guid token) : ILockHandle
    {
        private int _disposed;

        public string Key => key;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Release(key, token);
            }

            return ValueTask.CompletedTask;
        }
    }
}
