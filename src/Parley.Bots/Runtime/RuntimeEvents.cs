using System.Threading.Channels;
using Parley.Bots.Adapters;
using Parley.Bots.Api;

namespace Parley.Bots.Runtime;

/// <summary>Everything the runtime's loop reacts to, in one queue: adapter signals and heartbeat replies.</summary>
internal abstract record RuntimeEvent
{
    public sealed record Status(string Code) : RuntimeEvent;

    public sealed record Joined(MeetingParticipant Participant, DateTime At) : RuntimeEvent;

    public sealed record Left(MeetingParticipant Participant, DateTime At) : RuntimeEvent;

    public sealed record Chat(MeetingParticipant Sender, string Text, string? MessageId, DateTime At) : RuntimeEvent;

    public sealed record Speaker(MeetingParticipant Participant, DateTime At) : RuntimeEvent;

    public sealed record Audio(double Level) : RuntimeEvent;

    public sealed record Delivered(string? Message) : RuntimeEvent;

    public sealed record Heartbeat(HeartbeatReply Reply) : RuntimeEvent;

    /// <summary>The API no longer accepts this bot's token: the bot was ended from outside.</summary>
    public sealed record Revoked(string Reason) : RuntimeEvent;
}

/// <summary>The adapter's sink: never blocks the adapter, the runtime's loop handles events in order.</summary>
internal sealed class ChannelEventSink(ChannelWriter<RuntimeEvent> writer, TimeProvider time) : IMeetingEventSink
{
    public void StatusChanged(string status) => writer.TryWrite(new RuntimeEvent.Status(status));

    public void ParticipantJoined(MeetingParticipant participant) => writer.TryWrite(new RuntimeEvent.Joined(participant, Now()));

    public void ParticipantLeft(MeetingParticipant participant) => writer.TryWrite(new RuntimeEvent.Left(participant, Now()));

    public void ChatMessageReceived(MeetingParticipant sender, string text, string? messageId) =>
        writer.TryWrite(new RuntimeEvent.Chat(sender, text, messageId, Now()));

    public void SpeakerChanged(MeetingParticipant speaker) => writer.TryWrite(new RuntimeEvent.Speaker(speaker, Now()));

    public void AudioLevel(double level) => writer.TryWrite(new RuntimeEvent.Audio(level));

    public void RecordingDelivered(string? message) => writer.TryWrite(new RuntimeEvent.Delivered(message));

    private DateTime Now() => time.GetUtcNow().UtcDateTime;
}
