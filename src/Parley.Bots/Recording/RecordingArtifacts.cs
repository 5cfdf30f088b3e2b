using System.Text.Json;

namespace Parley.Bots.Recording;

/// <summary>
/// The JSON artifacts of a recording in the shapes of the bots API (API.md "Artifacts" and bot details):
/// participants and speakers lists <c>[{id, name, display_name, profile_picture}]</c> with ids sequential
/// from 1, diarization JSONL <c>{speaker, user_id, start_time, end_time}</c> in seconds from the recording start
/// (pauses cut), and chat_messages. None of them needs ffmpeg.
/// </summary>
public static class RecordingArtifacts
{
    private static readonly JsonWriterOptions Indented = new() { Indented = true };

    /// <summary>Participants other than bots, in order of appearance, with their API ids 1, 2, 3...</summary>
    public static IReadOnlyList<(int Id, ManifestParticipant Participant)> NumberParticipants(RecordingManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return [.. manifest.Participants.Where(p => !p.IsBot).Select((p, i) => (i + 1, p))];
    }

    /// <summary>Speech segments of non-bot participants mapped onto the artifacts' axis (pauses cut), in time order.</summary>
    public static IReadOnlyList<SpeechSegment> SpeechInOutput(RecordingManifest manifest, RecordingTimeline timeline)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(timeline);
        var bots = manifest.Participants.Where(p => p.IsBot).Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        var result = new List<SpeechSegment>();
        foreach (var segment in manifest.Speech.Where(s => !bots.Contains(s.ParticipantId)).OrderBy(s => s.StartOffsetSeconds))
        {
            if (timeline.MapSpan(segment.StartOffsetSeconds, segment.EndOffsetSeconds) is { } span)
            {
                result.Add(new SpeechSegment(segment.ParticipantId, span.Start, span.End));
            }
        }

        return result;
    }

    public static void WriteParticipants(string path, RecordingManifest manifest) =>
        WriteList(path, NumberParticipants(manifest));

    /// <summary>The participants who spoke at least once (after pauses are cut).</summary>
    public static void WriteSpeakers(string path, RecordingManifest manifest, IReadOnlyList<SpeechSegment> speech)
    {
        ArgumentNullException.ThrowIfNull(speech);
        var speakers = speech.Select(s => s.ParticipantId).ToHashSet(StringComparer.Ordinal);
        WriteList(path, [.. NumberParticipants(manifest).Where(p => speakers.Contains(p.Participant.Id))]);
    }

    /// <summary>One JSON object per line: <c>{"speaker":name,"user_id":id,"start_time":s,"end_time":s}</c>.</summary>
    public static void WriteDiarization(string path, RecordingManifest manifest, IReadOnlyList<SpeechSegment> speech)
    {
        ArgumentNullException.ThrowIfNull(speech);
        var ids = NumberParticipants(manifest).ToDictionary(p => p.Participant.Id, p => p, StringComparer.Ordinal);
        using var stream = File.Create(path);
        foreach (var segment in speech)
        {
            if (!ids.TryGetValue(segment.ParticipantId, out var participant))
            {
                continue;
            }

            using (var json = new Utf8JsonWriter(stream))
            {
                json.WriteStartObject();
                json.WriteString("speaker", participant.Participant.DisplayName ?? participant.Participant.Name);
                json.WriteNumber("user_id", participant.Id);
                json.WriteNumber("start_time", Math.Round(segment.Start, 3));
                json.WriteNumber("end_time", Math.Round(segment.End, 3));
                json.WriteEndObject();
            }

            stream.WriteByte((byte)'\n');
        }
    }

    /// <summary>
    /// <c>[{message_id, sender_id, sender_name, user_id, text, sent_at}]</c>: the fields of the bot.chat_message
    /// webhook, plus the participant's API id.
    /// </summary>
    public static void WriteChatMessages(string path, RecordingManifest manifest)
    {
        var ids = NumberParticipants(manifest).ToDictionary(p => p.Participant.Id, p => p.Id, StringComparer.Ordinal);
        using var stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, Indented);
        json.WriteStartArray();
        foreach (var message in manifest.ChatMessages.OrderBy(m => m.SentAt))
        {
            json.WriteStartObject();
            WriteStringOrNull(json, "message_id", message.MessageId);
            WriteStringOrNull(json, "sender_id", message.ParticipantId);
            json.WriteString("sender_name", message.SenderName);
            if (message.ParticipantId is not null && ids.TryGetValue(message.ParticipantId, out var id))
            {
                json.WriteNumber("user_id", id);
            }
            else
            {
                json.WriteNull("user_id");
            }

            json.WriteString("text", message.Text);
            json.WriteString("sent_at", message.SentAt.UtcDateTime);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteList(string path, IEnumerable<(int Id, ManifestParticipant Participant)> participants)
    {
        using var stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, Indented);
        json.WriteStartArray();
        foreach (var (id, participant) in participants)
        {
            json.WriteStartObject();
            json.WriteNumber("id", id);
            json.WriteString("name", participant.Name);
            WriteStringOrNull(json, "display_name", participant.DisplayName);
            WriteStringOrNull(json, "profile_picture", participant.ProfilePicture);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteStringOrNull(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }
}
