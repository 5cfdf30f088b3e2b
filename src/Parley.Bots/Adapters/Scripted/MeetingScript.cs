using System.Globalization;
using System.Text.Json;
using Parley.Core.Bots;

namespace Parley.Bots.Adapters.Scripted;

/// <summary>One step of a meeting script: what the scripted adapter does or pretends happened.</summary>
public abstract record ScriptStep
{
    public sealed record Status(string Code) : ScriptStep;

    public sealed record Join(string Name) : ScriptStep;

    public sealed record Leave(string Name) : ScriptStep;

    public sealed record Chat(string From, string Text) : ScriptStep;

    public sealed record Speaker(string Name) : ScriptStep;

    public sealed record Audio(double Level) : ScriptStep;

    public sealed record Wait(int Milliseconds) : ScriptStep;

    public sealed record End(MeetingEnd How) : ScriptStep;

    public sealed record Fail(string ErrorCode, string Message, string? ReasonStatus) : ScriptStep;

    /// <summary>An unexpected exception, to exercise the INTERNAL_ERROR path.</summary>
    public sealed record Crash(string Message) : ScriptStep;
}

/// <summary>
/// A JSON array of one-key objects, played in order:
/// <c>{"status":"in_call_recording"}</c>, <c>{"join":"Alice"}</c>, <c>{"leave":"Alice"}</c>,
/// <c>{"chat":{"from":"Alice","text":"hi"}}</c>, <c>{"speaker":"Alice"}</c>, <c>{"audio":0.5}</c>,
/// <c>{"wait_ms":200}</c>, <c>{"end":"call_ended"|"removed"}</c>,
/// <c>{"fail":{"code":"CANNOT_JOIN_MEETING","message":"...","reason":"bot_rejected"}}</c>, <c>{"crash":"..."}</c>.
/// A script that runs out of steps without an end stays in the meeting until the runtime asks it to leave.
/// </summary>
public static class MeetingScript
{
    private static readonly string[] MeetingStatuses =
    [
        BotStatus.InWaitingRoom, BotStatus.InWaitingForHost, BotStatus.InCallNotRecording, BotStatus.InCallRecording,
        BotStatus.RecordingPaused, BotStatus.RecordingResumed,
    ];

    /// <summary>Parses a script; returns null on success, else what is wrong (for a configuration problem line).</summary>
    public static string? TryParse(string json, out IReadOnlyList<ScriptStep> steps)
    {
        steps = [];
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            return $"expected a JSON array of steps: {ex.Message}";
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                return "expected a JSON array of steps, e.g. [{\"status\":\"in_call_recording\"},{\"wait_ms\":100},{\"end\":\"call_ended\"}]";
            }

            var list = new List<ScriptStep>();
            var index = 0;
            foreach (var item in document.RootElement.EnumerateArray())
            {
                var step = item.ValueKind == JsonValueKind.Object && item.EnumerateObject().Count() == 1 ? ParseStep(item.EnumerateObject().First()) : null;
                if (step is null)
                {
                    return $"step {index}: expected one of status, join, leave, chat, speaker, audio, wait_ms, end, fail, crash with a valid value";
                }

                list.Add(step);
                index++;
            }

            steps = list;
            return null;
        }
    }

    private static ScriptStep? ParseStep(JsonProperty p)
    {
        var v = p.Value;
        string? Str(JsonElement e) => e.ValueKind == JsonValueKind.String && e.GetString() is { Length: > 0 } s ? s : null;
        return p.Name switch
        {
            "status" when Str(v) is { } code && MeetingStatuses.Contains(code) => new ScriptStep.Status(code),
            "join" when Str(v) is { } name => new ScriptStep.Join(name),
            "leave" when Str(v) is { } name => new ScriptStep.Leave(name),
            "speaker" when Str(v) is { } name => new ScriptStep.Speaker(name),
            "chat" when v.ValueKind == JsonValueKind.Object && v.TryGetProperty("from", out var from) && Str(from) is { } f
                && v.TryGetProperty("text", out var text) && Str(text) is { } t => new ScriptStep.Chat(f, t),
            "audio" when v.ValueKind == JsonValueKind.Number && v.GetDouble() is >= 0 and <= 1 => new ScriptStep.Audio(v.GetDouble()),
            "wait_ms" when v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var ms) && ms is >= 0 and <= 3_600_000 => new ScriptStep.Wait(ms),
            "end" when Str(v) == "call_ended" => new ScriptStep.End(MeetingEnd.CallEnded),
            "end" when Str(v) == "removed" => new ScriptStep.End(MeetingEnd.Removed),
            "fail" when v.ValueKind == JsonValueKind.Object && v.TryGetProperty("code", out var c) && Str(c) is { } code && BotErrorCode.IsKnown(code) =>
                new ScriptStep.Fail(
                    code,
                    v.TryGetProperty("message", out var m) && Str(m) is { } message ? message : string.Create(CultureInfo.InvariantCulture, $"scripted failure {code}"),
                    v.TryGetProperty("reason", out var r) && Str(r) is { } reason && BotStatus.IsKnown(reason) ? reason : null),
            "crash" when Str(v) is { } message => new ScriptStep.Crash(message),
            _ => null,
        };
    }
}
