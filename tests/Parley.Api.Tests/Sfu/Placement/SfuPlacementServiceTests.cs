using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.Api.Sfu.Placement;
using Parley.Api.Tests.Meetings;
using Parley.Core.Configuration;
using Parley.Core.SfuNodes;
using Parley.Data;
using Parley.Testing;

namespace Parley.Api.Tests.Sfu.Placement;

/// <summary>
/// Placement of meetings on SFU nodes over a real migrated database (SQLite and PostgreSQL): the node registry
/// rows are written as nodes would write them, the clock is moved by hand to make nodes die.
/// </summary>
public abstract class SfuPlacementServiceTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 11, 23, 1, 0, 0, TimeSpan.Zero);

    private readonly ManualTimeProvider _time = new(Start);
    private readonly SfuNodeOptions _options = new() { HeartbeatSeconds = 5, NodeTimeoutSeconds = 20 };
    private ParleyDbContextFactory _databases = null!;

    protected abstract Task<DatabaseTarget> TargetAsync();

    public async Task InitializeAsync()
    {
        _databases = new ParleyDbContextFactory(await TargetAsync());
        await new DatabaseMigrator(_databases).MigrateAsync(CancellationToken.None);
    }

    public virtual Task DisposeAsync() => Task.CompletedTask;

    /// <summary>A fresh service, as each api replica has its own.</summary>
    private SfuPlacementService Service() => new(_databases, _options, _time, NullLogger<SfuPlacementService>.Instance);

    /// <summary>What a node's heartbeat writes.</summary>
    private async Task HeartbeatAsync(string id, int participants = 0, bool draining = false, TimeSpan? ago = null)
    {
        var at = (_time.Now - (ago ?? TimeSpan.Zero)).UtcDateTime;
        await using var db = _databases.CreateDbContext();
        var node = await db.SfuNodes.FirstOrDefaultAsync(n => n.Id == id);
        if (node is null)
        {
            db.SfuNodes.Add(new SfuNode { Id = id, InternalUrl = $"http://{id}.test:3001", Participants = participants, Draining = draining, StartedAt = at, HeartbeatAt = at });
        }
        else
        {
            node.Participants = participants;
            node.Draining = draining;
            node.HeartbeatAt = at;
        }

        await db.SaveChangesAsync();
    }

    private async Task<List<MeetingPlacement>> PlacementsAsync()
    {
        await using var db = _databases.CreateDbContext();
        return await db.MeetingPlacements.AsNoTracking().ToListAsync();
    }

    [Fact]
    public async Task A_new_meeting_goes_to_the_live_node_with_the_fewest_participants()
    {
        await HeartbeatAsync("node-a", participants: 10);
        await HeartbeatAsync("node-b", participants: 3);
        await HeartbeatAsync("node-c", participants: 7);
        await HeartbeatAsync("node-d", participants: 0, ago: TimeSpan.FromSeconds(21)); // dead: heartbeat too old

        var placed = await Service().PlaceAsync("abc-defg-hij", CancellationToken.None);

        Assert.NotNull(placed);
        Assert.Equal("node-b", placed.NodeId);
        Assert.Equal("http://node-b.test:3001", placed.InternalUrl);
        Assert.True(placed.NewlyPlaced);
        var row = Assert.Single(await PlacementsAsync());
        Assert.Equal(("abc-defg-hij", "node-b"), (row.MeetingId, row.NodeId));
    }

    [Fact]
    public async Task The_same_meeting_stays_on_its_node_when_the_loads_change()
    {
        await HeartbeatAsync("node-a", participants: 5);
        await HeartbeatAsync("node-b", participants: 1);
        var first = await Service().PlaceAsync("stay-here", CancellationToken.None);
        await HeartbeatAsync("node-b", participants: 90);

        var again = await Service().PlaceAsync("stay-here", CancellationToken.None);

        Assert.Equal("node-b", first!.NodeId);
        Assert.Equal("node-b", again!.NodeId);
        Assert.False(again.NewlyPlaced);
        // A second meeting now goes to the less loaded node.
        Assert.Equal("node-a", (await Service().PlaceAsync("another", CancellationToken.None))!.NodeId);
    }

    [Fact]
    public async Task Meetings_placed_between_two_heartbeats_are_spread_over_equally_loaded_nodes()
    {
        await HeartbeatAsync("node-a");
        await HeartbeatAsync("node-b");

        var nodes = new List<string>();
        foreach (var meeting in new[] { "m-1", "m-2", "m-3", "m-4" })
        {
            nodes.Add((await Service().PlaceAsync(meeting, CancellationToken.None))!.NodeId);
        }

        Assert.Equal(2, nodes.Count(n => n == "node-a"));
        Assert.Equal(2, nodes.Count(n => n == "node-b"));
    }

    [Fact]
    public async Task Concurrent_placements_of_one_meeting_from_several_replicas_agree_on_one_node()
    {
        await HeartbeatAsync("node-a");
        await HeartbeatAsync("node-b");
        await HeartbeatAsync("node-c");

        using var go = new ManualResetEventSlim();
        var tasks = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            go.Wait();
            return await Service().PlaceAsync("race-meeting", CancellationToken.None);
        })).ToList();
        go.Set();
        var results = await Task.WhenAll(tasks);

        Assert.All(results, r => Assert.NotNull(r));
        Assert.Single(results.Select(r => r!.NodeId).Distinct());
        Assert.Single(results, r => r!.NewlyPlaced);
        var row = Assert.Single(await PlacementsAsync());
        Assert.Equal(results[0]!.NodeId, row.NodeId);
    }

    [Fact]
    public async Task A_meeting_on_a_dead_node_is_placed_again_once_and_for_everyone()
    {
        await HeartbeatAsync("node-a", participants: 0);
        await HeartbeatAsync("node-b", participants: 4);
        await HeartbeatAsync("node-c", participants: 8);
        Assert.Equal("node-a", (await Service().PlaceAsync("survivor", CancellationToken.None))!.NodeId);

        // node-a stops heartbeating; the others go on.
        _time.Advance(TimeSpan.FromSeconds(21));
        await HeartbeatAsync("node-b", participants: 4);
        await HeartbeatAsync("node-c", participants: 8);
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => Service().PlaceAsync("survivor", CancellationToken.None))));

        Assert.All(results, r => Assert.Equal("node-b", r!.NodeId));
        Assert.Single(results, r => r!.NewlyPlaced);
        var row = Assert.Single(await PlacementsAsync());
        Assert.Equal("node-b", row.NodeId);
        Assert.Equal(_time.Now.UtcDateTime, row.PlacedAt);
    }

    [Fact]
    public async Task A_draining_node_keeps_its_meetings_and_gets_no_new_one()
    {
        await HeartbeatAsync("node-a", participants: 0);
        await HeartbeatAsync("node-b", participants: 6);
        Assert.Equal("node-a", (await Service().PlaceAsync("before-drain", CancellationToken.None))!.NodeId);

        await HeartbeatAsync("node-a", participants: 2, draining: true);

        Assert.Equal("node-a", (await Service().PlaceAsync("before-drain", CancellationToken.None))!.NodeId);
        Assert.Equal("node-b", (await Service().PlaceAsync("after-drain", CancellationToken.None))!.NodeId);
    }

    [Fact]
    public async Task Without_a_live_node_that_takes_meetings_nothing_is_placed()
    {
        Assert.Null(await Service().PlaceAsync("nowhere", CancellationToken.None));
        await HeartbeatAsync("node-a", draining: true);
        await HeartbeatAsync("node-b", ago: TimeSpan.FromMinutes(1));

        Assert.Null(await Service().PlaceAsync("nowhere", CancellationToken.None));
        Assert.Empty(await PlacementsAsync());
        Assert.Equal(["node-a"], (await Service().LiveNodesAsync(CancellationToken.None)).Select(n => n.Id));
    }

    [Fact]
    public async Task A_node_claims_an_unplaced_meeting_and_learns_where_a_placed_one_runs()
    {
        await HeartbeatAsync("node-a", participants: 0);
        await HeartbeatAsync("node-b", participants: 9, draining: true);
        Assert.Equal("node-a", (await Service().PlaceAsync("placed", CancellationToken.None))!.NodeId);

        // node-b, draining or not, takes a meeting whose client came to it directly...
        Assert.Equal("node-b", (await Service().ClaimAsync("direct", "node-b", CancellationToken.None)).NodeId);
        // ...but not one placed on a live node: that is the WRONG_NODE case.
        Assert.Equal("node-a", (await Service().ClaimAsync("placed", "node-b", CancellationToken.None)).NodeId);

        // Once node-a is dead, node-b takes its meeting over.
        _time.Advance(TimeSpan.FromSeconds(30));
        await HeartbeatAsync("node-b", participants: 9);
        Assert.Equal("node-b", (await Service().ClaimAsync("placed", "node-b", CancellationToken.None)).NodeId);

        await Service().ReleaseAsync("placed", "node-a", CancellationToken.None); // not its node: nothing happens
        Assert.Equal(2, (await PlacementsAsync()).Count);
        await Service().ReleaseAsync("placed", "node-b", CancellationToken.None);
        Assert.Equal(["direct"], (await PlacementsAsync()).Select(p => p.MeetingId));
    }
}

public sealed class SfuPlacementServiceSqliteTests : SfuPlacementServiceTests
{
    private readonly TempDirectory _directory = new();

    protected override Task<DatabaseTarget> TargetAsync() => Task.FromResult(DatabaseUrl.Resolve(null, _directory.Path, 30));

    public override Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class SfuPlacementServicePostgresTests : SfuPlacementServiceTests
{
    protected override async Task<DatabaseTarget> TargetAsync() => DatabaseUrl.Resolve(await PostgresDatabase.CreateAsync(), "/", 30);
}
