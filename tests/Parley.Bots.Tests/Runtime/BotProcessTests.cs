using System.Net;
using Parley.Core.Bots;

namespace Parley.Bots.Tests.Runtime;

/// <summary>
/// `parley bot run` as a platform runs it: a real child process against a real `parley serve`, its meeting
/// played by the scripted adapter (PARLEY_BOT_TEST_ADAPTER=scripted), which the test chooses through the
/// bot's environment exactly like any other setting.
/// </summary>
public sealed class BotProcessTests(BotServerFixture fixture) : IClassFixture<BotServerFixture>
{

    private BotServer Server => fixture.Server;

    [Fact]
    public async Task A_scripted_meeting_is_driven_to_completion_with_events_and_its_log_uploaded()
    {
        var botId = await Server.CreateBotAsync();
        var token = await Server.MintTokenAsync(botId);
        const string script = """
            [{"status":"in_call_not_recording"},{"join":"Alice"},{"status":"in_call_recording"},
             {"speaker":"Alice"},{"chat":{"from":"Alice","text":"hello bot"}},{"wait_ms":300},{"leave":"Alice"},{"end":"call_ended"}]
            """;
        await using var bot = Server.StartBot(BotServer.BotEnvironment(Server.ApiUrl, botId, token, script));

        await bot.ExitsWithAsync(0);
        var stored = await Server.GetBotAsync(botId);
        Assert.Equal(BotStatus.Completed, stored.Status);
        Assert.Equal(
            [BotStatus.Queued, BotStatus.JoiningCall, BotStatus.InCallNotRecording, BotStatus.InCallRecording, BotStatus.CallEnded, BotStatus.RecordingSucceeded, BotStatus.Completed],
            await Server.HistoryAsync(botId));
        Assert.Contains("Alice", stored.Participants ?? "", StringComparison.Ordinal);
        Assert.Contains("Alice", stored.Speakers ?? "", StringComparison.Ordinal);
        var log = Assert.Single(stored.Artifacts, a => a.Kind == "log");
        Assert.EndsWith("bot.log", log.StorageKey, StringComparison.Ordinal);
        Assert.True(log.SizeBytes > 0);
        Assert.Null(stored.BotTokenHash);
    }

    [Fact]
    public async Task An_unimplemented_platform_fails_the_bot_with_CANNOT_JOIN_MEETING_naming_the_platform()
    {
        var botId = await Server.CreateBotAsync();
        var token = await Server.MintTokenAsync(botId);
        await using var bot = Server.StartBot(BotServer.BotEnvironment(Server.ApiUrl, botId, token));

        await bot.ExitsWithAsync(0);
        var stored = await Server.GetBotAsync(botId);
        Assert.Equal(BotStatus.Failed, stored.Status);
        Assert.Equal(BotErrorCode.CannotJoinMeeting, stored.ErrorCode);
        Assert.Contains("'meet'", stored.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal([BotStatus.Queued, BotStatus.JoiningCall, BotStatus.Failed], await Server.HistoryAsync(botId));
    }

    [Fact]
    public async Task A_leave_requested_through_the_API_is_obeyed_at_the_next_heartbeat()
    {
        var botId = await Server.CreateBotAsync();
        var token = await Server.MintTokenAsync(botId);
        const string script = """[{"status":"in_call_recording"},{"join":"Bob"}]""";
        await using var bot = Server.StartBot(BotServer.BotEnvironment(Server.ApiUrl, botId, token, script));
        await Server.WaitForStatusAsync(botId, BotStatus.InCallRecording, bot);

        using var response = await Server.Http.PostAsync($"/v2/bots/{botId}/leave", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        await bot.ExitsWithAsync(0);
        var stored = await Server.GetBotAsync(botId);
        Assert.Equal(BotStatus.Completed, stored.Status);
        Assert.Equal(BotErrorCode.ApiRequest, stored.ErrorCode);
        Assert.Equal(
            [BotStatus.Queued, BotStatus.JoiningCall, BotStatus.InCallRecording, BotStatus.ApiRequestStop, BotStatus.CallEnded, BotStatus.RecordingSucceeded, BotStatus.Completed],
            await Server.HistoryAsync(botId));
    }

    [Fact]
    public async Task SIGTERM_makes_the_bot_leave_report_its_end_and_exit()
    {
        var botId = await Server.CreateBotAsync();
        var token = await Server.MintTokenAsync(botId);
        const string script = """[{"status":"in_call_recording"}]""";
        await using var bot = Server.StartBot(BotServer.BotEnvironment(Server.ApiUrl, botId, token, script));
        await Server.WaitForStatusAsync(botId, BotStatus.InCallRecording, bot);

        bot.Terminate();

        await bot.ExitsWithAsync(0);
        var stored = await Server.GetBotAsync(botId);
        Assert.Equal(BotStatus.Completed, stored.Status);
        Assert.Equal(BotErrorCode.ApiRequest, stored.ErrorCode);
        Assert.Contains("SIGTERM", stored.ErrorMessage, StringComparison.Ordinal);
        Assert.Single(stored.Artifacts, a => a.Kind == "log");
    }

    [Fact]
    public async Task An_adapter_crash_fails_the_bot_with_INTERNAL_ERROR()
    {
        var botId = await Server.CreateBotAsync();
        var token = await Server.MintTokenAsync(botId);
        const string script = """[{"status":"in_call_not_recording"},{"crash":"boom in the adapter"}]""";
        await using var bot = Server.StartBot(BotServer.BotEnvironment(Server.ApiUrl, botId, token, script));

        await bot.ExitsWithAsync(0);
        var stored = await Server.GetBotAsync(botId);
        Assert.Equal(BotStatus.Failed, stored.Status);
        Assert.Equal(BotErrorCode.InternalError, stored.ErrorCode);
        Assert.Contains("boom in the adapter", stored.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_token_exits_non_zero_without_touching_the_bot()
    {
        var botId = await Server.CreateBotAsync();
        await Server.MintTokenAsync(botId);
        await using var bot = Server.StartBot(BotServer.BotEnvironment(Server.ApiUrl, botId, "pbt_wrong"));

        await bot.ExitsWithAsync(1);
        Assert.Equal(BotStatus.Queued, (await Server.GetBotAsync(botId)).Status);
    }

    [Fact]
    public async Task Missing_inputs_are_a_configuration_error()
    {
        var (code, _, stderr) = await Parley.Testing.ParleyProcess.RunAsync(["bot", "run"], new Dictionary<string, string?>(), Server.WorkingDirectory);
        Assert.Equal(2, code);
        Assert.Contains("BOT_ID", stderr, StringComparison.Ordinal);
        Assert.Contains("BOT_TOKEN", stderr, StringComparison.Ordinal);
    }
}
