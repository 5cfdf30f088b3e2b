using Microsoft.EntityFrameworkCore;
using Parley.Core.Bots;
using Parley.Testing;

namespace Parley.Bots.Tests.Runtime;

/// <summary>The bot against an API that is not there yet, and `--from-queue`, each with its own server.</summary>
public sealed class BotResilienceTests
{

    private const string EndingScript = """[{"status":"in_call_recording"},{"wait_ms":100},{"end":"call_ended"}]""";

    [Fact]
    public async Task A_bot_started_before_the_API_retries_until_the_API_is_up_and_completes()
    {
        using var directory = new TempDirectory();
        var port = ParleyProcess.FreePort();
        string botId;
        string token;
        await using (var first = await BotServer.StartReadyAsync(port, directory))
        {
            botId = await first.CreateBotAsync();
            token = await first.MintTokenAsync(botId);
            await first.StopAsync();
        }

        var apiUrl = new Uri($"http://127.0.0.1:{port}");
        var env = BotServer.BotEnvironment(apiUrl, botId, token, EndingScript);
        await using var bot = ParleyProcess.Start(["bot", "run"], env, directory.Path);
        // The bot is refused a connection before the server exists; it must be retrying, not gone.
        await bot.WaitForStdoutAsync("retrying", TimeSpan.FromSeconds(30));

        await using var server = await BotServer.StartReadyAsync(port, directory);
        await bot.ExitsWithAsync(0);
        Assert.Equal(BotStatus.Completed, (await server.GetBotAsync(botId)).Status);
    }

    [Fact]
    public async Task From_queue_runs_exactly_one_job_and_leaves_a_job_it_cannot_finish_in_the_queue()
    {
        await using var server = await BotServer.StartReadyAsync();
        var first = await server.CreateBotAsync();
        var second = await server.CreateBotAsync();
        Assert.Equal(2, await VisibleJobsAsync(server));

        var env = new Dictionary<string, string?>
        {
            ["PARLEY_API_URL"] = server.ApiUrl.ToString(),
            ["PARLEY_DATA_DIR"] = server.DataDirectory,
            ["PARLEY_BOT_QUEUE_WAIT_MS"] = "2000",
            ["BOT_HEARTBEAT_INTERVAL_MS"] = "200",
            ["PARLEY_BOT_TEST_ADAPTER"] = "scripted",
            ["PARLEY_BOT_SCRIPT"] = EndingScript,
        };
        await using (var bot = server.StartBot(env, "--from-queue"))
        {
            await bot.ExitsWithAsync(0);
        }

        Assert.Equal(BotStatus.Completed, (await server.GetBotAsync(first)).Status);
        Assert.Equal(BotStatus.Queued, (await server.GetBotAsync(second)).Status);
        Assert.Equal(1, await VisibleJobsAsync(server));

        // The API is unreachable and the retry budget short: the bot cannot end, so its job stays queued.
        env["PARLEY_API_URL"] = $"http://127.0.0.1:{ParleyProcess.FreePort()}";
        env["PARLEY_BOT_API_RETRY_BUDGET_MS"] = "1000";
        await using (var bot = server.StartBot(env, "--from-queue"))
        {
            await bot.ExitsWithAsync(1);
        }

        Assert.Equal(BotStatus.Queued, (await server.GetBotAsync(second)).Status);
        Assert.Equal(1, await VisibleJobsAsync(server));
        await using var db = server.Database.CreateDbContext();
        Assert.Equal(1, await db.QueueMessages.Where(m => m.DeadLetteredAt == null).Select(m => m.ReceiveCount).SingleAsync());
    }

    private static async Task<int> VisibleJobsAsync(BotServer server)
    {
        await using var db = server.Database.CreateDbContext();
        return await db.QueueMessages.CountAsync(m => m.DeadLetteredAt == null && m.VisibleAt <= DateTime.UtcNow);
    }
}
