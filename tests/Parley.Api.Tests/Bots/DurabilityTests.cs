using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Parley.Api.Bots;
using Parley.Core.Bots;
using Parley.Core.Queues;
using Parley.Data;
using Parley.Testing;

namespace Parley.Api.Tests.Bots;

/// <summary>Nothing is lost across a crash or a restart: the outbox and pending webhook retries live in the database.</summary>
public sealed class DurabilityTests
{
    private const string Key = ApiServer.Key;

    private static Dictionary<string, string?> Env(string dataDir, string schedule) => new()
    {
        ["PARLEY_DATA_DIR"] = dataDir,
        ["STATIC_API_KEY"] = Key,
        ["WEBHOOK_ALLOW_PRIVATE_NETWORKS"] = "true",
        ["PARLEY_WEBHOOK_RETRY_SCHEDULE"] = schedule,
        // No orchestrator: the bots here must stay where the test puts them.
        ["PARLEY_ROLES"] = "api,jobs",
    };

    [Fact]
    public async Task A_bot_committed_but_not_published_before_a_crash_reaches_the_queue_after_restart()
    {
        using var dir = new TempDirectory();
        var data = Path.Combine(dir.Path, "data");
        Assert.Equal(0, (await ParleyProcess.RunAsync(["migrate", "--data-dir", data], new Dictionary<string, string?>(), dir.Path)).ExitCode);

        // What the API commits in one transaction, written while no process is running: the state a crash
        // between the commit and the publish leaves behind.
        var factory = new ParleyDbContextFactory(DatabaseUrl.Resolve(null, data, 30));
        var id = Guid.CreateVersion7().ToString();
        var now = DateTime.UtcNow;
        await using (var db = factory.CreateDbContext())
        {
            db.Bots.Add(new Bot
            {
                Id = id, TeamId = "self-hosted", BotName = "orphan", MeetingUrl = "https://meet.google.com/abc-defg-hij",
                NormalizedMeetingUrl = "https://meet.google.com/abc-defg-hij", MeetingPlatform = "meet", CreateBody = "{}", CreatedAt = now, UpdatedAt = now,
            });
            db.Outbox.Add(OutboxSignals.BotJobMessage(new BotJob(id, "self-hosted", "meet", now), now));
            await db.SaveChangesAsync();
        }

        await using var server = RunningServer.Start(Env(data, "0"), directory: dir);
        await server.WaitForStatusAsync("/ready", HttpStatusCode.OK);

        await Eventually.ReturnsAsync(async () =>
        {
            await using var db = factory.CreateDbContext();
            return await db.QueueMessages.AnyAsync(m => m.Body.Contains(id)) ? (object?)true : null;
        }, TimeSpan.FromSeconds(20), "the orphaned bot job in the queue");
    }

    [Fact]
    public async Task A_webhook_retry_pending_at_shutdown_is_delivered_by_the_next_process()
    {
        await using var receiver = await WebhookReceiver.StartAsync(failFirst: 1);
        using var dir = new TempDirectory();
        var data = Path.Combine(dir.Path, "data");
        // First attempt at once, the retry 3 s later: the first process is stopped in between.
        var env = Env(data, "0,3");
        string id;
        await using (var first = RunningServer.Start(env, directory: dir))
        {
            await first.WaitForStatusAsync("/ready", HttpStatusCode.OK);
            first.Http.DefaultRequestHeaders.Add("x-meeting-baas-api-key", Key);
            using var created = await first.Http.PostAsJsonAsync("/v2/bots", new { bot_name = "r", meeting_url = "https://meet.google.com/abc-defg-hij", callback_url = receiver.Url() });
            id = (await created.ReadJsonAsync()).GetProperty("data").GetProperty("bot_id").GetString()!;
            (await first.Http.PostAsync($"/v2/bots/{id}/leave", null)).EnsureSuccessStatusCode();
            await Eventually.ReturnsAsync(() => Task.FromResult(receiver.For(id).Any() ? (object?)true : null), TimeSpan.FromSeconds(20), "the failed first attempt");
            first.Process.Terminate();
            Assert.Equal(0, await first.Process.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }

        Assert.Single(receiver.For(id));
        await using var second = RunningServer.Start(env, directory: dir);
        var delivered = await Eventually.ReturnsAsync(
            () => Task.FromResult(receiver.For(id).FirstOrDefault(r => r.AnsweredWith == 200)), TimeSpan.FromSeconds(30), "the retried delivery");
        Assert.Equal("bot.completed", delivered.Json.GetProperty("event").GetString());
        Assert.Equal(2, receiver.For(id).Count());
    }
}
