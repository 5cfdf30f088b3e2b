using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Parley.Bots.Adapters;
using Parley.Bots.Api;
using Parley.Core.Bots;

namespace Parley.Bots.Runtime;

/// <summary>
/// Runs one bot from config to its terminal status (issue 4, "Bot runtime"): fetches the config, reports
/// joining_call, runs the platform's adapter, forwards the adapter's statuses and events to the API, sends
/// heartbeats and obeys their replies, enforces timeout_config, and on the way out reports the reason, the
/// end of the call, uploads its log and reports completed or failed. Whatever happens (adapter failure,
/// exception, a stop signal), the last thing it tries is the terminal report.
/// </summary>
public sealed partial class BotRuntime(
    BotApiClient api,
    MeetingAdapterRegistry adapters,
    BotOptions options,
    ILoggerFactory loggers,
    TimeProvider time,
    Func<byte[]> logSnapshot)
{
    /// <summary>How long an adapter has to leave politely before its run is cancelled.</summary>
    public static readonly TimeSpan LeaveGrace = TimeSpan.FromSeconds(30);

    /// <summary>
    /// <see cref="LeaveGrace"/> for this runtime. It bounds leaving the call only: once the adapter says it is out
    /// (<c>call_ended</c> through its sink) its post-processing and upload run to the end, however long a meeting's
    /// composition takes, unless the process is being stopped (SIGTERM), where delivery falls back as interrupted.
    /// </summary>
    public TimeSpan LeaveGraceTime { get; init; } = LeaveGrace;

    private readonly ILogger _logger = loggers.CreateLogger<BotRuntime>();
    private readonly Channel<RuntimeEvent> _events = Channel.CreateUnbounded<RuntimeEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly HashSet<string> _participants = new(StringComparer.Ordinal);
    private readonly List<object> _pendingEvents = [];
    private bool _recorded;
    private bool _outOfCall;

    /// <param name="stop">Cancelled on SIGTERM/SIGINT: leave, flush, report, exit (not an abort).</param>
    public async Task<BotRunResult> RunAsync(string stopSignalName, CancellationToken stop)
    {
        BotConfig config;
        try
        {
            config = await api.GetConfigAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is BotApiException or BotApiUnavailableException)
        {
            LogNoConfig(_logger, ex.Message);
            return new BotRunResult(false, null, null, ex.Message);
        }

        LogConfig(_logger, config.BotId, config.MeetingPlatform, config.Status);
        var reporter = new StatusReporter(api, config.Status, loggers.CreateLogger<StatusReporter>());
        if (reporter.IsTerminal)
        {
            return new BotRunResult(false, config.Status, null, $"the bot has already ended ({config.Status})");
        }

        BotEnding ending;
        try
        {
            ending = stop.IsCancellationRequested
                ? BotEnding.Signal(stopSignalName)
                : await RunMeetingAsync(config, reporter, stopSignalName, stop);
        }
        catch (BotApiException ex) when (ex.Status == HttpStatusCode.Unauthorized)
        {
            // The token stopped working: the bot was ended from outside (heartbeat timeout, deleted). Nothing
            // can be reported any more.
            LogRevoked(_logger, ex.Message);
            return new BotRunResult(false, null, null, ex.Message);
        }
        catch (MeetingFailedException ex)
        {
            ending = BotEnding.MeetingFailed(ex.ErrorCode, ex.Message, ex.ReasonStatus);
        }
        catch (Exception ex)
        {
            LogCrashed(_logger, ex);
            ending = BotEnding.InternalError($"{ex.GetType().Name}: {ex.Message}");
        }

        return await FinishAsync(reporter, ending);
    }

    private async Task<BotEnding> RunMeetingAsync(BotConfig config, StatusReporter reporter, string signal, CancellationToken stop)
    {
        await reporter.ReportAsync(BotStatus.JoiningCall, null, null, CancellationToken.None);
        await using var adapter = adapters.Create(new MeetingAdapterContext(config, options, loggers, time));
        var rules = new TimeoutRules(config.Timeouts, time, adapter.ReportsAudioLevel);
        using var adapterCancel = new CancellationTokenSource();
        using var heartbeatCancel = new CancellationTokenSource();
        var sink = new ChannelEventSink(_events.Writer, time);
        var adapterTask = Task.Run(() => adapter.RunAsync(sink, adapterCancel.Token), CancellationToken.None);
        var heartbeats = HeartbeatLoopAsync(heartbeatCancel.Token);
        var stopped = Task.Delay(Timeout.Infinite, stop).ContinueWith(_ => { }, TaskScheduler.Default);

        BotEnding? leaving = null;
        DateTimeOffset? leaveDeadline = null;
        var recordingPaused = false;
        try
        {
            while (!adapterTask.IsCompleted)
            {
                // Out of the call, the adapter is composing and uploading: only a stop signal still cuts that short.
                var graceRuns = !_outOfCall || stop.IsCancellationRequested;
                // Rules only matter until the bot leaves: an expired rule's deadline stays in the past, and waking for it
                // would spin a core through the whole post-processing.
                var wake = NextWake(leaving is null && !_outOfCall ? rules : null, graceRuns ? leaveDeadline : null);
                using var wakeCancel = new CancellationTokenSource();
                var timer = Task.Delay(wake, time, wakeCancel.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                var readable = _events.Reader.WaitToReadAsync(wakeCancel.Token).AsTask();
                await Task.WhenAny(adapterTask, readable, timer, leaving is null ? stopped : Task.Delay(Timeout.Infinite, wakeCancel.Token));
                await wakeCancel.CancelAsync();

                while (_events.Reader.TryRead(out var item))
                {
                    switch (item)
                    {
                        case RuntimeEvent.Heartbeat h:
                            if (h.Reply.ShouldLeave && leaving is null && !_outOfCall)
                            {
                                leaving = BotEnding.LeaveRequested();
                            }

                            foreach (var message in h.Reply.PendingChatMessages)
                            {
                                await adapter.SendChatMessageAsync(message, CancellationToken.None);
                            }

                            if (h.Reply.RecordingPaused != recordingPaused && BotStatus.IsInCall(reporter.Current))
                            {
                                recordingPaused = h.Reply.RecordingPaused;
                                await adapter.SetRecordingPausedAsync(recordingPaused, CancellationToken.None);
                            }

                            break;
                        case RuntimeEvent.Revoked r:
                            throw new BotApiException(HttpStatusCode.Unauthorized, "UNAUTHORIZED", r.Reason);
                        default:
                            await HandleMeetingEventAsync(item, reporter, rules);
                            break;
                    }
                }

                await FlushEventsAsync();
                if (leaving is null && stop.IsCancellationRequested)
                {
                    leaving = BotEnding.Signal(signal);
                }

                // Out of the call (the meeting ended, the adapter is post-processing) no timeout or leave request applies.
                if (leaving is null && !_outOfCall && rules.Expired() is { } expired)
                {
                    LogTimeout(_logger, expired);
                    leaving = BotEnding.Timeout(expired, config.Timeouts);
                }

                if (leaving is not null && leaveDeadline is null)
                {
                    LogLeaving(_logger, leaving.Message ?? leaving.Terminal);
                    leaveDeadline = time.GetUtcNow() + LeaveGraceTime;
                    await adapter.LeaveAsync(CancellationToken.None);
                }
                else if (leaveDeadline is { } deadline && (!_outOfCall || stop.IsCancellationRequested) && time.GetUtcNow() >= deadline)
                {
                    // The adapter did not get out in time: stop it; the bot still ends as decided.
                    await adapterCancel.CancelAsync();
                }
            }
        }
        finally
        {
            await heartbeatCancel.CancelAsync();
            await heartbeats;
        }

        MeetingEnd end;
        try
        {
            end = await adapterTask;
        }
        catch (OperationCanceledException) when (leaving is not null)
        {
            end = MeetingEnd.Left;
        }

        // Statuses and events raised just before the adapter returned still count.
        while (_events.Reader.TryRead(out var last))
        {
            if (last is not RuntimeEvent.Heartbeat and not RuntimeEvent.Revoked)
            {
                await HandleMeetingEventAsync(last, reporter, rules);
            }
        }

        await FlushEventsAsync();
        return leaving ?? (end == MeetingEnd.Removed ? BotEnding.Removed() : BotEnding.CallEnded());
    }

    private TimeSpan NextWake(TimeoutRules? rules, DateTimeOffset? leaveDeadline)
    {
        var now = time.GetUtcNow();
        var next = now + TimeSpan.FromSeconds(5);
        if (rules?.NextDeadline() is { } rule && rule < next)
        {
            next = rule;
        }

        if (leaveDeadline is { } leave && leave < next)
        {
            next = leave;
        }

        var wait = next - now;
        return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
    }

    private async Task HandleMeetingEventAsync(RuntimeEvent item, StatusReporter reporter, TimeoutRules rules)
    {
        switch (item)
        {
            case RuntimeEvent.Status { Code: BotStatus.CallEnded }:
                // The adapter left the call and now post-processes: the leave grace is over. Reported in FinishAsync,
                // after the reason status (api_request_stop...), so the history keeps its order.
                _outOfCall = true;
                break;
            case RuntimeEvent.Status s:
                rules.OnStatus(s.Code);
                _recorded |= s.Code == BotStatus.InCallRecording;
                await reporter.ReportAsync(s.Code, null, null, CancellationToken.None);
                break;
            case RuntimeEvent.Joined j:
                _participants.Add(j.Participant.Id);
                rules.OnParticipantCount(_participants.Count);
                _pendingEvents.Add(Event("participant_join", j.At, j.Participant));
                break;
            case RuntimeEvent.Left l:
                _participants.Remove(l.Participant.Id);
                rules.OnParticipantCount(_participants.Count);
                _pendingEvents.Add(Event("participant_leave", l.At, l.Participant));
                break;
            case RuntimeEvent.Speaker s:
                _pendingEvents.Add(Event("speaker_change", s.At, s.Participant));
                break;
            case RuntimeEvent.Chat c:
                _pendingEvents.Add(Event("chat_message", c.At, c.Sender, c.Text, c.MessageId));
                break;
            case RuntimeEvent.Audio a:
                rules.OnAudioLevel(a.Level);
                break;
        }
    }

    private static Dictionary<string, object?> Event(string type, DateTime at, MeetingParticipant p, string? text = null, string? messageId = null) => new()
    {
        ["type"] = type,
        ["at"] = at,
        ["participant"] = new Dictionary<string, string?> { ["id"] = p.Id, ["name"] = p.Name, ["display_name"] = p.DisplayName, ["profile_picture"] = p.ProfilePicture },
        ["text"] = text,
        ["message_id"] = messageId,
    };

    private async Task FlushEventsAsync()
    {
        while (_pendingEvents.Count > 0)
        {
            // The API takes at most 500 events per call.
            var batch = _pendingEvents.Take(500).ToList();
            try
            {
                await api.PostEventsAsync(batch, CancellationToken.None);
            }
            catch (BotApiException ex) when (ex.Status != HttpStatusCode.Unauthorized)
            {
                // A batch the API refuses would be refused forever: log it and move on.
                LogEventsRefused(_logger, batch.Count, ex.Message);
            }
            catch (BotApiUnavailableException ex)
            {
                LogEventsRefused(_logger, batch.Count, ex.Message);
            }

            _pendingEvents.RemoveRange(0, batch.Count);
        }
    }

    private async Task HeartbeatLoopAsync(CancellationToken cancellationToken)
    {
        var interval = TimeSpan.FromMilliseconds(options.HeartbeatIntervalMs);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    var reply = await api.HeartbeatAsync(cancellationToken);
                    _events.Writer.TryWrite(new RuntimeEvent.Heartbeat(reply));
                }
                catch (BotApiException ex) when (ex.Status == HttpStatusCode.Unauthorized)
                {
                    _events.Writer.TryWrite(new RuntimeEvent.Revoked(ex.Message));
                    return;
                }
                catch (Exception ex) when (ex is BotApiException or BotApiUnavailableException)
                {
                    // One lost heartbeat is not fatal: the API's own timeout (BOT_HEARTBEAT_TIMEOUT_MS) is far longer.
                    LogHeartbeatFailed(_logger, ex.Message);
                }

                await Task.Delay(interval, time, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task<BotRunResult> FinishAsync(StatusReporter reporter, BotEnding ending)
    {
        try
        {
            if (ending.ReasonStatus is { } reason)
            {
                await reporter.ReportAsync(reason, null, null, CancellationToken.None);
            }

            if (BotStatus.IsInCall(reporter.Current) || reporter.Current is BotStatus.ApiRequestStop or BotStatus.BotRemoved)
            {
                await reporter.ReportAsync(BotStatus.CallEnded, null, null, CancellationToken.None);
            }

            // Issue 7 item 4: a bot that recorded and ends well says so before `completed` (Meeting BaaS order:
            // call_ended, recording_succeeded, completed). A failed delivery reported recording_failed itself.
            if (_recorded && !ending.Failed && reporter.Current == BotStatus.CallEnded)
            {
                await reporter.ReportAsync(BotStatus.RecordingSucceeded, null, null, CancellationToken.None);
            }
        }
        catch (Exception ex)
        {
            // The terminal report below is what matters; it may still succeed.
            LogEndingReportFailed(_logger, ex.Message);
        }

        LogEnding(_logger, ending.Terminal, ending.ErrorCode ?? "-", ending.Message ?? "");

        // The log goes up before the terminal status: that report revokes the bot's token.
        try
        {
            await api.UploadArtifactAsync("log", "bot.log", logSnapshot(), "text/plain; charset=utf-8", CancellationToken.None);
        }
        catch (Exception ex)
        {
            // Whatever went wrong with the log, the terminal report below must still be sent.
            LogUploadFailed(_logger, ex.Message);
        }

        try
        {
            await reporter.ReportAsync(ending.Terminal, ending.ErrorCode, ending.Message, CancellationToken.None);
        }
        catch (Exception ex) when (ex is BotApiException or BotApiUnavailableException)
        {
            LogEndingReportFailed(_logger, ex.Message);
            return new BotRunResult(false, reporter.Current, ending.ErrorCode, ex.Message);
        }

        return reporter.IsTerminal
            ? new BotRunResult(true, reporter.Current, ending.ErrorCode, null)
            : new BotRunResult(false, reporter.Current, ending.ErrorCode, $"the API kept the bot in {reporter.Current}");
    }

    [LoggerMessage(EventId = 6020, Level = LogLevel.Information, Message = "Bot {BotId}: meeting platform {Platform}, status {Status}")]
    private static partial void LogConfig(ILogger logger, string botId, string platform, string status);

    [LoggerMessage(EventId = 6021, Level = LogLevel.Error, Message = "Could not fetch the bot's config: {Reason}")]
    private static partial void LogNoConfig(ILogger logger, string reason);

    [LoggerMessage(EventId = 6022, Level = LogLevel.Error, Message = "The bot's token was refused; the bot was ended elsewhere: {Reason}")]
    private static partial void LogRevoked(ILogger logger, string reason);

    [LoggerMessage(EventId = 6023, Level = LogLevel.Error, Message = "The bot crashed")]
    private static partial void LogCrashed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 6024, Level = LogLevel.Information, Message = "Timeout rule expired: {Kind}")]
    private static partial void LogTimeout(ILogger logger, TimeoutKind kind);

    [LoggerMessage(EventId = 6025, Level = LogLevel.Information, Message = "Leaving the meeting: {Reason}")]
    private static partial void LogLeaving(ILogger logger, string reason);

    [LoggerMessage(EventId = 6026, Level = LogLevel.Warning, Message = "{Count} meeting event(s) not delivered: {Reason}")]
    private static partial void LogEventsRefused(ILogger logger, int count, string reason);

    [LoggerMessage(EventId = 6027, Level = LogLevel.Warning, Message = "Heartbeat failed: {Reason}")]
    private static partial void LogHeartbeatFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 6028, Level = LogLevel.Information, Message = "Ending: {Status} (error code {ErrorCode}) {Message}")]
    private static partial void LogEnding(ILogger logger, string status, string errorCode, string message);

    [LoggerMessage(EventId = 6029, Level = LogLevel.Warning, Message = "Log upload failed: {Reason}")]
    private static partial void LogUploadFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 6030, Level = LogLevel.Error, Message = "Could not report the end: {Reason}")]
    private static partial void LogEndingReportFailed(ILogger logger, string reason);
}
