using Microsoft.Extensions.Logging.Abstractions;
using Parley.Core.Locks;
using Parley.Infrastructure.Locks;
using Parley.Testing;

namespace Parley.Infrastructure.Tests.Locks;

/// <summary>Against the real Redis test.sh starts.</summary>
public sealed class RedisDistributedLockTests : DistributedLockContract, IAsyncLifetime
{
    private readonly RedisConnection _connection = new(new Uri(TestEnvironment.RedisUrl));

    protected override IDistributedLock Lock => new RedisDistributedLock(_connection, NullLogger<RedisDistributedLock>.Instance, "parley-test:");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _connection.DisposeAsync();

    [Fact]
    public async Task The_key_lives_in_redis_with_a_millisecond_ttl_and_a_random_token()
    {
        var key = UniqueKey();
        await using var handle = await Lock.TryAcquireAsync(key, TimeSpan.FromSeconds(5), TimeSpan.Zero, default);

        var database = await _connection.GetDatabaseAsync();
        var ttl = await database.KeyTimeToLiveAsync($"parley-test:lock:{key}");
        var token = (string?)await database.StringGetAsync($"parley-test:lock:{key}");
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(5));
        Assert.Matches("^[0-9a-f]{32}$", token);
        Assert.Equal("redis", Lock.Kind);

        await handle!.DisposeAsync();
        Assert.False(await database.KeyExistsAsync($"parley-test:lock:{key}"));
    }

    [Fact]
    public async Task Two_processes_worth_of_connections_exclude_each_other()
    {
        await using var other = new RedisConnection(new Uri(TestEnvironment.RedisUrl));
        var otherLock = new RedisDistributedLock(other, NullLogger<RedisDistributedLock>.Instance, "parley-test:");
        var key = UniqueKey();

        await using var held = await Lock.TryAcquireAsync(key, TimeSpan.FromSeconds(30), TimeSpan.Zero, default);

        Assert.NotNull(held);
        Assert.Null(await otherLock.TryAcquireAsync(key, TimeSpan.FromSeconds(30), TimeSpan.Zero, default));
    }
}

public sealed class InMemoryDistributedLockTests : DistributedLockContract
{
    protected override IDistributedLock Lock { get; } = new InMemoryDistributedLock();

    [Fact]
    public void It_reports_its_kind() => Assert.Equal("memory", Lock.Kind);
}
