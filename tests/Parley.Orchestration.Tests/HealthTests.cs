using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Parley.Core.Bots;
using Parley.Core.Webhooks;
using Parley.Orchestration.Platforms.Local;

using Parley.Testing;

namespace Parley.Orchestration.Tests;

public sealed class HealthTests
{
    private const string CallbackBody = """{"callback_enabled":true,"callback_config":{"url":"http://127.0.0.1:9/callback"}}""";

    [Fact]
    public async Task A_bot_process_killed_with_sigkill_fails_the_bot_frees_capacity_and_sends_the_webhook()
    {
        await using var harness = await OrchestratorHarness.CreateAsync(postgres: false);
        var replica = await harness.StartReplicaAsync(new Dictionary<string, string> { ["LOCAL_BOT_LIMIT"] = "1" });
        var id = await harness.CreateBotAsync(CallbackBody);
        var bot = await harness.WaitForAsync(id, b => b.DeploymentIdentifier is not null, "deployed");
        await harness.ReportAsync(id, BotStatus.JoiningCall);
        var log = Path.Combine(harness.DataDirectory, "logs", "bots", id + ".log");
        await Eventually.ReturnsAsync(() => Task.FromResult(File.Exists(log) && File.ReadAllText(log).Contains("fake bot", StringComparison.Ordinal) ? "" : null), TimeSpan.FromSeconds(10), "bot output in its log");

        Process.GetProcessById(OrchestratorHarness.Pid(bot)).Kill(); // SIGKILL

        var failed = await harness.WaitForAsync(id, b => b.IsEnded, "failed after SIGKILL");
        Assert.Equal(BotStatus.Failed, failed.Status);
        Assert.Equal(BotErrorCode.InternalError, failed.ErrorCode);
        Assert.Contains("signal 9", failed.ErrorMessage, StringComparison.Ordinal);
        Assert.Null(failed.BotTokenHash);
        await using (var db = harness.Database.CreateDbContext())
        {
            Assert.True(await db.WebhookDeliveries.AnyAsync(d => d.BotId == id && d.Event == WebhookEvent.Failed));
        }

        var figures = await replica.GetRequiredService<PlatformStatusSource>().GetAsync(default);
        Assert.Equal(0, figures.Platforms.Single(p => p.Platform == "local").Active);
        var text = await File.ReadAllTextAsync(log);
        Assert.Contains($"fake bot {id} args=bot run --bot-id {id} api=http://127.0.0.1:3001 token=pbt", text, StringComparison.Ordinal);

        // The freed slot takes the next bot.
        var next = await harness.CreateBotAsync();
        await harness.WaitForAsync(next, b => b.DeploymentIdentifier is not null, "next bot deployed");
    }

    [Fact]
    public async Task A_silent_bot_fails_with_heartbeat_timeout_and_its_process_is_killed()
    {
        await using var harness = await OrchestratorHarness.CreateAsync(postgres: false);
        var replica = await harness.StartReplicaAsync(new Dictionary<string, string> { ["BOT_HEARTBEAT_TIMEOUT_MS"] = "1000" });
        var id = await harness.CreateBotAsync(CallbackBody);
        var bot = await harness.WaitForAsync(id, b => b.DeploymentIdentifier is not null, "deployed");
        await harness.ReportAsync(id, BotStatus.JoiningCall, heartbeat: DateTime.UtcNow);

        var failed = await harness.WaitForAsync(id, b => b.IsEnded, "heartbeat timeout");

        Assert.Equal(BotErrorCode.HeartbeatTimeout, failed.ErrorCode);
        var local = replica.GetRequiredService<LocalPlatform>();
        await Eventually.ReturnsAsync(async () => (await local.ListAsync(default)).Count == 0 ? "" : null, TimeSpan.FromSeconds(10), "process removed");
        Assert.Throws<ArgumentException>(() => Process.GetProcessById(OrchestratorHarness.Pid(bot)));
        await using var db = harness.Database.CreateDbContext();
        Assert.True(await db.WebhookDeliveries.AnyAsync(d => d.BotId == id && d.Event == WebhookEvent.Failed));
    }

    [Fact]
    public async Task A_bot_that_never_starts_fails_with_deployment_failed_after_the_deploy_timeout()
    {
        await using var harness = await OrchestratorHarness.CreateAsync(postgres: false);
        var replica = await harness.StartReplicaAsync(new Dictionary<string, string> { ["BOT_DEPLOY_TIMEOUT_MS"] = "1000" });
        var id = await harness.CreateBotAsync();

        var failed = await harness.WaitForAsync(id, b => b.IsEnded, "deploy timeout");

        Assert.Equal(BotErrorCode.DeploymentFailed, failed.ErrorCode);
        Assert.Contains("BOT_DEPLOY_TIMEOUT_MS", failed.ErrorMessage, StringComparison.Ordinal);
        var local = replica.GetRequiredService<LocalPlatform>();
        await Eventually.ReturnsAsync(async () => (await local.ListAsync(default)).Count == 0 ? "" : null, TimeSpan.FromSeconds(10), "process removed");
    }
}
