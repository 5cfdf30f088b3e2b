using Parley.Core.Locks;

namespace Parley.Infrastructure.Tests.Locks;

/// <summary>What every IDistributedLock must do; run against Redis and the in-memory lock alike.</summary>
public abstract class DistributedLockContract
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    protected abstract IDistributedLock Lock { get; }

    protected static string UniqueKey() => $"test:{Guid.NewGuid():N}";

    [Fact]
    public async Task Fifty_concurrent_acquirers_hold_the_lock_one_at_a_time()
    {
        var key = UniqueKey();
        var inside = 0;
        var maxInside = 0;
        var entered = 0;
        using var start = new ManualResetEventSlim();

        var workers = Enumerable.Range(0, 50).Select(_ => Task.Run(async () =>
        {
            start.Wait();
            await using var handle = await Lock.TryAcquireAsync(key, Long, Long, default);
            Assert.NotNull(handle);
            var now = Interlocked.Increment(ref inside);
            InterlockedMax(ref maxInside, now);
            Interlocked.Increment(ref entered);
            // Give a second holder, if the lock let one in, the time to show up.
            await Task.Yield();
            await Task.Delay(1);
            Interlocked.Decrement(ref inside);
        })).ToList();
        start.Set();
        await Task.WhenAll(workers);

        Assert.Equal(50, entered);
        Assert.Equal(1, maxInside);
    }

    [Fact]
    public async Task A_held_lock_is_refused_to_others_until_released()
    {
        var key = UniqueKey();
        var first = await Lock.TryAcquireAsync(key, Long, TimeSpan.Zero, default);
        Assert.NotNull(first);
        Assert.Equal(key, first.Key);

        Assert.Null(await Lock.TryAcquireAsync(key, Long, TimeSpan.Zero, default));
        Assert.Null(await Lock.TryAcquireAsync(key, Long, TimeSpan.FromMilliseconds(200), default));
        Assert.NotNull(await Lock.TryAcquireAsync(UniqueKey(), Long, TimeSpan.Zero, default));

        var waiter = Lock.TryAcquireAsync(key, Long, Long, default);
        await first.DisposeAsync();
        await using var second = await waiter;
        Assert.NotNull(second);
    }

    [Fact]
    public async Task A_lock_that_is_never_released_expires_after_its_time_to_live()
    {
        var key = UniqueKey();
        var crashed = await Lock.TryAcquireAsync(key, TimeSpan.FromMilliseconds(300), TimeSpan.Zero, default);
        Assert.NotNull(crashed);
        Assert.Null(await Lock.TryAcquireAsync(key, Long, TimeSpan.Zero, default));

        await using var next = await Lock.TryAcquireAsync(key, Long, TimeSpan.FromSeconds(10), default);

        Assert.NotNull(next);
    }

    [Fact]
    public async Task Only_the_owner_releases_a_lock()
    {
        var key = UniqueKey();
        var stale = await Lock.TryAcquireAsync(key, TimeSpan.FromMilliseconds(200), TimeSpan.Zero, default);
        var current = await Lock.TryAcquireAsync(key, Long, TimeSpan.FromSeconds(10), default);
        Assert.NotNull(stale);
        Assert.NotNull(current);

        // The first holder, whose time ran out, releases late: the second holder must keep the lock.
        await stale.DisposeAsync();
        Assert.Null(await Lock.TryAcquireAsync(key, Long, TimeSpan.Zero, default));

        await current.DisposeAsync();
        await current.DisposeAsync();
        await using var third = await Lock.TryAcquireAsync(key, Long, TimeSpan.Zero, default);
        Assert.NotNull(third);
    }

    [Fact]
    public async Task Waiting_can_be_cancelled()
    {
        var key = UniqueKey();
        await using var held = await Lock.TryAcquireAsync(key, Long, TimeSpan.Zero, default);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Lock.TryAcquireAsync(key, Long, Long, cancel.Token));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
