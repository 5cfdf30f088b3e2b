using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Parley.Core.Bots;
using Parley.Core.Queues;

using Parley.Testing;

namespace Parley.Orchestration.Tests;

public sealed class GlobalQueueTests
{
    [Fact]
    public async Task Waiting_bots_are_deployed_oldest_first_as_soon_as_capacity_frees()
    {
        await using var harness = await OrchestratorHarness.CreateAsync(postgres: false);
        await harness.StartReplicaAsync(new Dictionary<string, string> { ["LOCAL_BOT_LIMIT"] = "1" });
        var first = await harness.CreateBotAsync();
        await harness.WaitForAsync(first, b => b.DeploymentIdentifier is not null, "deployed");
        var second = await harness.CreateBotAsync();
        var third = await harness.CreateBotAsync();
        await harness.WaitForAsync(second, b => b.Status == BotStatus.PickupDelayed, "waiting");
        await harness.WaitForAsync(third, b => b.Status == BotStatus.PickupDelayed, "waiting");

        // The first bot ends normally: its capacity goes to the oldest waiting bot.
        await harness.ReportAsync(first, BotStatus.Completed);
        var deployed = await harness.WaitForAsync(second, b => b.DeploymentIdentifier is not null, "deployed after the first ended");
        Assert.Equal("local", deployed.DeploymentPlatform);
        Assert.Null((await harness.BotAsync(third)).DeploymentPlatform);

        // A crash frees capacity too, and is seen at once.
        Process.GetProcessById(OrchestratorHarness.Pid(deployed)).Kill();
        var crashed = await harness.WaitForAsync(second, b => b.IsEnded, "failed after its process was killed");
        Assert.Equal(BotErrorCode.DeploymentFailed, crashed.ErrorCode);
        await harness.WaitForAsync(third, b => b.DeploymentIdentifier is not null, "deployed after the crash");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Waiting_bots_are_deployed_by_priority_then_arrival(bool postgres)
    {
        await using var harness = await OrchestratorHarness.CreateAsync(postgres);
        await harness.StartReplicaAsync(new Dictionary<string, string> { ["LOCAL_BOT_LIMIT"] = "1" });
        var running = await harness.CreateBotAsync();
        await harness.WaitForAsync(running, b => b.DeploymentIdentifier is not null, "deployed");
        var low = await harness.CreateBotAsync(extra: """{"priority":-1}""");
        var normal = await harness.CreateBotAsync(extra: """{"customer":"acme"}""");
        // Not a number: counts as 0, so it stays behind the older normal bot.
        var text = await harness.CreateBotAsync(extra: """{"priority":"high"}""");
        var urgent = await harness.CreateBotAsync(extra: """{"priority":10}""");
        string[] waiting = [low, normal, text, urgent];
        foreach (var id in waiting)
        {
            await harness.WaitForAsync(id, b => b.Status == BotStatus.PickupDelayed, "waiting");
        }

        // Each time capacity frees, the first bot in queue order takes it and the others keep waiting.
        foreach (var next in new[] { urgent, normal, text, low })
        {
            await harness.ReportAsync(running, BotStatus.Completed);
            await harness.WaitForAsync(next, b => b.DeploymentIdentifier is not null, "deployed next");
            foreach (var other in waiting.Where(id => id != next))
            {
                Assert.Null((await harness.BotAsync(other)).DeploymentPlatform);
            }

            waiting = [.. waiting.Where(id => id != next)];
            running = next;
        }
    }

    [Fact]
    public async Task A_bot_waiting_longer_than_the_global_queue_timeout_fails_with_pickup_timeout()
    {
        await using var harness = await OrchestratorHarness.CreateAsync(postgres: false);
        await harness.StartReplicaAsync(new Dictionary<string, string> { ["LOCAL_BOT_LIMIT"] = "1", ["GLOBAL_QUEUE_TIMEOUT_MS"] = "1500" });
        var first = await harness.CreateBotAsync();
        await harness.WaitForAsync(first, b => b.DeploymentIdentifier is not null, "deployed");
        var second = await harness.CreateBotAsync();
        await harness.WaitForAsync(second, b => b.Status == BotStatus.PickupDelayed, "waiting");

        var expired = await harness.WaitForAsync(second, b => b.IsEnded, "expired");

        Assert.Equal(BotStatus.Failed, expired.Status);
        Assert.Equal(BotErrorCode.PickupTimeout, expired.ErrorCode);
        Assert.Null(expired.DeploymentPlatform);
        Assert.False((await harness.BotAsync(first)).IsEnded);
    }

    [Fact]
    public async Task A_job_for_an_ended_or_deployed_bot_is_deleted_without_a_deployment()
    {
        await using var harness = await OrchestratorHarness.CreateAsync(postgres: false);
        var replica = await harness.StartReplicaAsync(new Dictionary<string, string>());
        var ended = await harness.CreateBotAsync(enqueue: false);
        await harness.ReportAsync(ended, BotStatus.Failed);
        var deployed = await harness.CreateBotAsync();
        await harness.WaitForAsync(deployed, b => b.DeploymentIdentifier is not null, "deployed");

        // At-least-once delivery: the same jobs again.
        var queue = replica.GetRequiredService<IBotJobQueue>();
        await queue.EnqueueAsync(new BotJob(ended, "team-1", "zoom", DateTime.UtcNow), default);
        await queue.EnqueueAsync(new BotJob(deployed, "team-1", "zoom", DateTime.UtcNow), default);
        await Eventually.ReturnsAsync(async () => (await queue.GetDepthAsync(default)) is { Visible: 0, InFlight: 0 } ? "" : null, TimeSpan.FromSeconds(20), "queue drained");

        Assert.Single(await replica.GetRequiredService<Parley.Orchestration.Platforms.Local.LocalPlatform>().ListAsync(default));
        await using var db = harness.Database.CreateDbContext();
        Assert.Null((await db.Bots.SingleAsync(b => b.Id == ended)).DeploymentPlatform);
    }
}
