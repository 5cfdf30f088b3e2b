using Microsoft.Extensions.DependencyInjection;
using Parley.Core.Bots;
using Parley.Core.Queues;
using Parley.Orchestration.Platforms.Local;

using Parley.Testing;

namespace Parley.Orchestration.Tests;

public sealed class CapacityTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Fifty_concurrent_reservations_never_overbook_a_limit(bool postgres)
    {
        await using var harness = await OrchestratorHarness.CreateAsync(postgres);
        var ids = new List<string>();
        for (var i = 0; i < 50; i++)
        {
            ids.Add(await harness.CreateBotAsync(enqueue: false));
        }

        var ledger = new CapacityLedger(harness.Database, TimeProvider.System);
        var results = await Task.WhenAll(ids.Select(id => Task.Run(() => ledger.TryReserveAsync(id, "local", 7, CancellationToken.None))));

        Assert.Equal(7, results.Count(r => r == ReservationResult.Reserved));
        Assert.Equal(43, results.Count(r => r == ReservationResult.Full));
        Assert.Equal(7, (await harness.BotsAsync()).Count(b => b.DeploymentPlatform == "local"));
        // A reserved bot cannot be claimed again (by a second delivery or another replica).
        var taken = ids[Array.IndexOf(results, ReservationResult.Reserved)];
        Assert.Equal(ReservationResult.NotDeployable, await ledger.TryReserveAsync(taken, "local", 100, CancellationToken.None));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Fifty_jobs_on_two_replicas_fill_the_chain_in_order_and_queue_the_rest(bool postgres)
    {
        await using var harness = await OrchestratorHarness.CreateAsync(postgres);
        var settings = new Dictionary<string, string>
        {
            ["PLATFORM_PRIORITY"] = "local,k8s",
            ["LOCAL_BOT_LIMIT"] = "3",
            ["K8S_BOT_LIMIT"] = "4",
            ["DEPLOYMENT_QUEUE_MAX_CONCURRENT"] = "25",
        };
        var k8sA = new FakePlatform("k8s");
        var k8sB = new FakePlatform("k8s");
        var replicaA = await harness.StartReplicaAsync(settings, k8sA);
        var replicaB = await harness.StartReplicaAsync(settings, k8sB);
        var ids = new List<string>();
        for (var i = 0; i < 50; i++)
        {
            ids.Add(await harness.CreateBotAsync());
        }

        var bots = await Eventually.ReturnsAsync(async () =>
        {
            var all = await harness.BotsAsync();
            return all.All(b => b.DeploymentIdentifier is not null || b.Status == BotStatus.PickupDelayed) ? all : null;
        }, TimeSpan.FromSeconds(60), "every bot deployed or waiting");

        Assert.Equal(3, bots.Count(b => b.DeploymentPlatform == "local"));
        Assert.Equal(4, bots.Count(b => b.DeploymentPlatform == "k8s"));
        Assert.Equal(43, bots.Count(b => b.DeploymentPlatform is null && b.Status == BotStatus.PickupDelayed));
        // Each bot deployed once, on one replica: 3 processes and 4 k8s requests in all.
        var processes = (await replicaA.GetRequiredService<LocalPlatform>().ListAsync(default)).Count
            + (await replicaB.GetRequiredService<LocalPlatform>().ListAsync(default)).Count;
        Assert.Equal(3, processes);
        var requests = k8sA.Requests.Concat(k8sB.Requests).ToList();
        Assert.Equal(4, requests.Count);
        Assert.Equal(4, requests.Select(r => r.BotId).Distinct().Count());
        Assert.All(requests, r =>
        {
            Assert.Equal(r.BotId, r.Environment["BOT_ID"]);
            Assert.StartsWith("pbt_", r.Environment["BOT_TOKEN"], StringComparison.Ordinal);
            Assert.StartsWith("http://127.0.0.1:", r.Environment["PARLEY_API_URL"], StringComparison.Ordinal);
            Assert.True(r.Environment.ContainsKey("PARLEY_DATA_DIR"));
        });
        // Jobs handled at the same moment race for capacity (arrival order among them is not kept: 25 slots per
        // replica); the order of bots that wait is, see GlobalQueueTests.
        Assert.Equal(7, bots.Count(b => ids.Contains(b.Id) && b.DeploymentPlatform is not null));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_job_delivered_three_times_to_three_replicas_deploys_its_bot_once(bool postgres)
    {
        await using var harness = await OrchestratorHarness.CreateAsync(postgres);
        var settings = new Dictionary<string, string>
        {
            ["PLATFORM_PRIORITY"] = "k8s",
            ["K8S_BOT_LIMIT"] = "100",
            ["DEPLOYMENT_QUEUE_MAX_CONCURRENT"] = "10",
        };
        // Deployments take a moment, so duplicates handled at the same time on different replicas overlap.
        FakePlatform[] platforms = [.. Enumerable.Range(0, 3).Select(_ => new FakePlatform("k8s", (_, token) => Task.Delay(50, token)))];
        foreach (var platform in platforms)
        {
            await harness.StartReplicaAsync(settings, platform);
        }

        var ids = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            ids.Add(await harness.CreateBotAsync(enqueue: false));
        }

        // At-least-once delivery: every job three times, all at once.
        var queue = harness.Replicas[0].GetRequiredService<IBotJobQueue>();
        foreach (var id in ids.Concat(ids).Concat(ids))
        {
            await queue.EnqueueAsync(new BotJob(id, "team-1", "zoom", DateTime.UtcNow), CancellationToken.None);
        }

        await Eventually.ReturnsAsync(async () => (await queue.GetDepthAsync(default)) is { Visible: 0, InFlight: 0 } ? "" : null, TimeSpan.FromSeconds(60), "queue drained");
        var bots = await harness.BotsAsync();

        Assert.All(bots, b => Assert.Equal("k8s", b.DeploymentPlatform));
        var requests = platforms.SelectMany(p => p.Requests).ToList();
        Assert.Equal(20, requests.Count);
        Assert.Equal(ids.Order(), requests.Select(r => r.BotId).Order());
        Assert.All(bots, b => Assert.Equal($"k8s-{b.Id}", b.DeploymentIdentifier));
    }

    [Fact]
    public async Task A_failed_or_timed_out_platform_falls_through_to_the_next()
    {
        await using var harness = await OrchestratorHarness.CreateAsync(postgres: false);
        var aws = new FakePlatform("aws", (_, _) => throw new InvalidOperationException("RunTask refused"));
        var k8s = new FakePlatform("k8s", (_, token) => Task.Delay(TimeSpan.FromMinutes(5), token));
        await harness.StartReplicaAsync(new Dictionary<string, string>
        {
            ["PLATFORM_PRIORITY"] = "aws,k8s,local",
            ["AWS_BOT_LIMIT"] = "5",
            ["K8S_BOT_LIMIT"] = "5",
            ["K8S_QUEUE_TIMEOUT_MS"] = "300",
        }, aws, k8s);

        var id = await harness.CreateBotAsync();
        var bot = await harness.WaitForAsync(id, b => b.DeploymentIdentifier is not null, "deployed");

        Assert.Equal("local", bot.DeploymentPlatform);
        Assert.Single(aws.Requests);
        Assert.Single(k8s.Requests);
        Assert.Empty(k8s.Running);
        Assert.True(OrchestrationMetrics.Deployments.WithLabels("aws", "failed").Value >= 1);
        Assert.True(OrchestrationMetrics.Deployments.WithLabels("k8s", "timeout").Value >= 1);
    }

    [Fact]
    public async Task When_every_platform_fails_the_bot_fails_with_deployment_failed()
    {
        await using var harness = await OrchestratorHarness.CreateAsync(postgres: false);
        harness.WriteBotScript("exit 0");
        File.Delete(harness.BotScript);
        await harness.StartReplicaAsync(new Dictionary<string, string> { ["PLATFORM_PRIORITY"] = "local" });

        var id = await harness.CreateBotAsync();
        var bot = await harness.WaitForAsync(id, b => b.IsEnded, "ended");

        Assert.Equal(BotStatus.Failed, bot.Status);
        Assert.Equal(BotErrorCode.DeploymentFailed, bot.ErrorCode);
        Assert.Null(bot.DeploymentPlatform);
    }
}
