using System.Text.Json;

namespace Parley.Api.Bots;

/// <summary>The body of `POST /v2/bots` (API.md "Create body"). Every field is optional at the type level so
/// that a missing field gets a validation detail instead of a deserialization error.</summary>
public class CreateBotRequest
{
    public string? BotName { get; set; }

    public string? MeetingUrl { get; set; }

    /// <summary>A URL, an array of up to 5 URLs, or null.</summary>
    public JsonElement? BotImage { get; set; }

    public BotImageConfig? BotImageConfig { get; set; }

    public string? RecordingMode { get; set; }

    public string? EntryMessage { get; set; }

    public TimeoutConfig? TimeoutConfig { get; set; }

    public bool? AllowMultipleBots { get; set; }

    public string? DeduplicationKey { get; set; }

    public JsonElement? Extra { get; set; }

    public bool? CallbackEnabled { get; set; }

    public CallbackConfig? CallbackConfig { get; set; }

    public string? CallbackUrl { get; set; }

    public bool? TranscriptionEnabled { get; set; }

    public JsonElement? TranscriptionConfig { get; set; }

    public bool? StreamingEnabled { get; set; }

    public StreamingConfig? StreamingConfig { get; set; }

    public JsonElement? ZoomConfig { get; set; }
}

/// <summary>`POST /v2/bots/scheduled`: the create body plus when to join.</summary>
public sealed class CreateScheduledBotRequest : CreateBotRequest
{
    public DateTime? JoinAt { get; set; }
}

public sealed class BotImageConfig
{
    public string? LoopMode { get; set; }

    public int? ImageDuration { get; set; }
}

public sealed class TimeoutConfig
{
    public int? WaitingRoomTimeout { get; set; }

    public int? NoOneJoinedTimeout { get; set; }

    public int? SilenceTimeout { get; set; }

    public int? EveryoneLeftTimeout { get; set; }

    public int? GracePeriod { get; set; }
}

public sealed class CallbackConfig
{
    public string? Url { get; set; }

    public string? Secret { get; set; }

    public string? Method { get; set; }
}

public sealed class StreamingConfig
{
    public string? InputUrl { get; set; }

    public string? OutputUrl { get; set; }

    public int? AudioFrequency { get; set; }
}
