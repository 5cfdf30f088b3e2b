using Microsoft.Extensions.Logging;

namespace Parley.Bots.Adapters.Scripted;

/// <summary>
/// A diagnostic and test adapter that joins no meeting: it plays <see cref="MeetingScript"/> steps from
/// PARLEY_BOT_SCRIPT, raising the events a real meeting would, and logs the commands it receives.
///
/// Why it ships in the executable: the tests that matter run the real `parley` binary as a child process,
/// exactly as a platform launches it, so a test cannot inject an adapter object into that process. An
/// adapter that plays a declared script is honest about what it is, lets a test drive every path of the
/// runtime (statuses, participants, chat, leave, timeouts, failures) and lets an operator check a deployment's
/// plumbing (token, API URL, heartbeats, log upload) without a meeting. It can never stand in for a real
/// adapter by accident: it is used only when PARLEY_BOT_TEST_ADAPTER=scripted is set, which settings
/// validation refuses without a valid script, and every bot it runs logs a warning saying so.
/// </summary>
public sealed partial class ScriptedMeetingAdapter : IMeetingAdapter
{
    private readonly IReadOnlyList<ScriptStep> _steps;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _leave = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ScriptedMeetingAdapter(IReadOnlyList<ScriptStep> steps, TimeProvider time, ILogger logger)
    {
        _steps = steps;
        _time = time;
        _logger = logger;
    }

    public bool ReportsAudioLevel => _steps.Any(s => s is ScriptStep.Audio);

    public static IMeetingAdapter Create(MeetingAdapterContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (MeetingScript.TryParse(context.Options.Script ?? "", out var steps) is { } error)
        {
            // Settings validation checks the script at start; this guards an in-process caller.
            throw new InvalidOperationException("PARLEY_BOT_SCRIPT: " + error);
        }

        var logger = context.Loggers.CreateLogger<ScriptedMeetingAdapter>();
        LogScripted(logger, context.Config.MeetingPlatform, steps.Count);
        return new ScriptedMeetingAdapter(steps, context.Time, logger);
    }

    public async Task<MeetingEnd> RunAsync(IMeetingEventSink events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        foreach (var step in _steps)
        {
            if (_leave.Task.IsCompleted)
            {
                return MeetingEnd.Left;
            }

            switch (step)
            {
                case ScriptStep.Status s:
                    events.StatusChanged(s.Code);
                    break;
                case ScriptStep.Join j:
                    events.ParticipantJoined(new MeetingParticipant(j.Name, j.Name));
                    break;
                case ScriptStep.Leave l:
                    events.ParticipantLeft(new MeetingParticipant(l.Name, l.Name));
                    break;
                case ScriptStep.Chat c:
                    events.ChatMessageReceived(new MeetingParticipant(c.From, c.From), c.Text, null);
                    break;
                case ScriptStep.Speaker s:
                    events.SpeakerChanged(new MeetingParticipant(s.Name, s.Name));
                    break;
                case ScriptStep.Audio a:
                    events.AudioLevel(a.Level);
                    break;
                case ScriptStep.Wait w:
                    // A leave request cuts a wait short, as a real meeting would let the bot go at once.
                    await Task.WhenAny(_leave.Task, Task.Delay(TimeSpan.FromMilliseconds(w.Milliseconds), _time, cancellationToken));
                    cancellationToken.ThrowIfCancellationRequested();
                    break;
                case ScriptStep.End e:
                    return e.How;
                case ScriptStep.Fail f:
                    throw new MeetingFailedException(f.ErrorCode, f.Message, f.ReasonStatus);
                case ScriptStep.Crash c:
                    throw new InvalidOperationException(c.Message);
            }
        }

        // Out of steps: stay "in the meeting" until told to leave.
        await _leave.Task.WaitAsync(cancellationToken);
        return MeetingEnd.Left;
    }

    public Task LeaveAsync(CancellationToken cancellationToken)
    {
        LogCommand(_logger, "leave", "");
        _leave.TrySetResult();
        return Task.CompletedTask;
    }

    public Task SendChatMessageAsync(string text, CancellationToken cancellationToken)
    {
        LogCommand(_logger, "send chat", text);
        return Task.CompletedTask;
    }

    public Task SetRecordingPausedAsync(bool paused, CancellationToken cancellationToken)
    {
        LogCommand(_logger, paused ? "pause recording" : "resume recording", "");
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [LoggerMessage(EventId = 6100, Level = LogLevel.Warning, Message = "Scripted test adapter in use for platform {Platform} (PARLEY_BOT_TEST_ADAPTER=scripted): {Steps} step(s), no real meeting is joined")]
    private static partial void LogScripted(ILogger logger, string platform, int steps);

    [LoggerMessage(EventId = 6101, Level = LogLevel.Information, Message = "Scripted adapter command: {Command} {Argument}")]
    private static partial void LogCommand(ILogger logger, string command, string argument);
}
