using Microsoft.Extensions.Logging.Abstractions;
using Parley.Bots.Adapters;
using Parley.Bots.Api;
using Parley.Bots.Runtime;
using Parley.Core.Bots;

namespace Parley.Bots.Tests.Runtime;

/// <summary>
/// The leave grace bounds leaving the call, not what follows (found by the Chromium end-to-end test: on a loaded
/// machine composing a 20 s recording took longer than the 30 s grace, the runtime cancelled the adapter, and the
/// upload was abandoned to the fallback directory although the bot had long left the call).
/// </summary>
public sealed class BotRuntimeLeaveGraceTests(BotServerFixture fixture) : IClassFixture<BotServerFixture>
{
    private BotServer Server => fixture.Server;

    [Fact]
    public async Task Post_processing_after_leaving_outlasts_the_leave_grace_and_the_bot_completes_with_recording_succeeded()
    {
        var botId = await Server.CreateBotAsync();
        var token = await Server.MintTokenAsync(botId);
        var adapter = new PostProcessingAdapter(TimeSpan.FromSeconds(3));
        var runtime = Runtime(botId, token, adapter, leaveGrace: TimeSpan.FromMilliseconds(500));

        var run = runtime.RunAsync("SIGTERM", CancellationToken.None);
        await adapter.InCall.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await LeaveAsync(botId);
        var result = await run.WaitAsync(TimeSpan.FromSeconds(120));

        Assert.True(adapter.PostProcessingFinished, "the post-processing after leaving was cancelled by the leave grace");
        Assert.Equal(BotStatus.Completed, result.FinalStatus);
        Assert.Equal(
            [BotStatus.Queued, BotStatus.JoiningCall, BotStatus.InCallRecording, BotStatus.ApiRequestStop, BotStatus.CallEnded, BotStatus.RecordingSucceeded, BotStatus.Completed],
            await Server.HistoryAsync(botId));
    }

    [Fact]
    public async Task An_adapter_that_does_not_get_out_of_the_call_is_still_cancelled_after_the_grace()
    {
        var botId = await Server.CreateBotAsync();
        var token = await Server.MintTokenAsync(botId);
        var adapter = new PostProcessingAdapter(TimeSpan.FromSeconds(3)) { ReportsLeaving = false };
        var runtime = Runtime(botId, token, adapter, leaveGrace: TimeSpan.FromMilliseconds(500));

        var run = runtime.RunAsync("SIGTERM", CancellationToken.None);
        await adapter.InCall.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await LeaveAsync(botId);
        var result = await run.WaitAsync(TimeSpan.FromSeconds(120));

        Assert.False(adapter.PostProcessingFinished);
        Assert.Equal(BotStatus.Completed, result.FinalStatus);
    }

    private async Task LeaveAsync(string botId)
    {
        await Server.WaitForStatusAsync(botId, BotStatus.InCallRecording);
        using var response = await Server.Http.PostAsync($"/v2/bots/{botId}/leave", null);
        Assert.True(response.IsSuccessStatusCode, $"POST /leave answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}\n{Server.Process.Stderr}");
    }

    private BotRuntime Runtime(string botId, string token, IMeetingAdapter adapter, TimeSpan leaveGrace)
    {
        var options = new BotOptions { BotId = botId, ApiUrl = Server.ApiUrl, Token = token, HeartbeatIntervalMs = 200 };
        var api = new BotApiClient(Server.ApiUrl, botId, token, TimeSpan.FromSeconds(30), TimeProvider.System, NullLogger.Instance);
        var registry = new MeetingAdapterRegistry();
        foreach (var platform in MeetingAdapterRegistry.Platforms)
        {
            registry.Register(platform, _ => adapter);
        }

        return new BotRuntime(api, registry, options, NullLoggerFactory.Instance, TimeProvider.System, () => "log"u8.ToArray()) { LeaveGraceTime = leaveGrace };
    }

    /// <summary>Joins, records until asked to leave, says it is out of the call, then "composes" for a while.</summary>
    private sealed class PostProcessingAdapter(TimeSpan work) : IMeetingAdapter
    {
        private readonly TaskCompletionSource _leave = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource InCall { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool ReportsLeaving { get; init; } = true;

        public bool PostProcessingFinished { get; private set; }

        public bool ReportsAudioLevel => false;

        public async Task<MeetingEnd> RunAsync(IMeetingEventSink events, CancellationToken cancellationToken)
        {
            events.StatusChanged(BotStatus.InCallRecording);
            InCall.TrySetResult();
            await _leave.Task.WaitAsync(cancellationToken);
            if (ReportsLeaving)
            {
                events.StatusChanged(BotStatus.CallEnded);
            }

            try
            {
                await Task.Delay(work, cancellationToken);
                PostProcessingFinished = true;
            }
            catch (OperationCanceledException)
            {
                // cancelled: what the runtime does to an adapter stuck in the call
            }

            return MeetingEnd.Left;
        }

        public Task LeaveAsync(CancellationToken cancellationToken)
        {
            _leave.TrySetResult();
            return Task.CompletedTask;
        }

        public Task SendChatMessageAsync(string text, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task SetRecordingPausedAsync(bool paused, CancellationToken cancellationToken) => Task.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
