using Parley.Core.Bots;

namespace Parley.Bots.Adapters;

/// <summary>
/// The adapter of a platform whose meetings this runtime cannot join yet: the bot fails honestly with
/// CANNOT_JOIN_MEETING and a message naming the platform, rather than pretending to record.
/// </summary>
public sealed class UnsupportedPlatformAdapter(string platform) : IMeetingAdapter
{
    public bool ReportsAudioLevel => false;

    public Task<MeetingEnd> RunAsync(IMeetingEventSink events, CancellationToken cancellationToken) =>
        throw new MeetingFailedException(
            BotErrorCode.CannotJoinMeeting,
            $"Meeting platform '{platform}' is not supported by this bot runtime yet: its meeting adapter is not implemented.");

    public Task LeaveAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task SendChatMessageAsync(string text, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task SetRecordingPausedAsync(bool paused, CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
