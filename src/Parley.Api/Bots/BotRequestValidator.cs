using System.Net;
using System.Text.Json;
using Parley.Api.Http;
using Parley.Core.Bots;
using Parley.Core.Configuration;
using Parley.Core.Net;

namespace Parley.Api.Bots;

/// <summary>The outcome of validating a create body.</summary>
public sealed record ValidatedBot(MeetingUrl MeetingUrl, string RecordingMode, string? Extra, bool AllowMultipleBots, string? DeduplicationKey, CallbackTarget? Callback);

/// <summary>Where the final callback of a bot goes (per-bot `callback_config` or `callback_url`).</summary>
public sealed record CallbackTarget(string Url, string? Secret, string Method);

/// <summary>
/// The rules of API.md for the create body. All problems are collected; a body whose only problem is the
/// meeting URL gets the dedicated INVALID_MEETING_URL code, as Meeting BaaS clients expect.
/// </summary>
public sealed class BotRequestValidator(FeatureOptions features, ApiOptions api)
{
    public const int MaxExtraBytes = 16 * 1024;

    /// <summary>The key in `extra` that orders the global queue (Parley.Orchestration.GlobalQueue.PriorityKey).</summary>
    public const string PriorityKey = "priority";

    /// <summary>Bounds of `extra.priority`: room for any tiering scheme, and exact in both databases' JSON numbers.</summary>
    public const int MinPriority = -1000, MaxPriority = 1000;

    public static readonly string[] RecordingModes = ["speaker_view", "gallery_view", "audio_only"];

    /// <summary>(field, default, min, max) of timeout_config, in seconds.</summary>
    public static readonly (string Field, int Default, int Min, int Max)[] TimeoutBounds =
    [
        ("waiting_room_timeout", 600, 10, 7200),
        ("no_one_joined_timeout", 600, 10, 7200),
        ("silence_timeout", 600, 10, 7200),
        ("everyone_left_timeout", 60, 1, 3600),
        ("grace_period", 0, 0, 3600),
    ];

    public (ValidatedBot? Bot, ApiProblem? Error) Validate(CreateBotRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var details = new List<ErrorDetail>();

        var name = request.BotName?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            details.Add(new("bot_name", "is required"));
        }
        else if (name.Length > 255)
        {
            details.Add(new("bot_name", "must be at most 255 characters"));
        }

        var urlValid = MeetingUrl.TryParse(request.MeetingUrl, out var meetingUrl);

        ValidateImages(request, details);

        var mode = request.RecordingMode ?? "speaker_view";
        if (!RecordingModes.Contains(mode, StringComparer.Ordinal))
        {
            details.Add(new("recording_mode", $"must be one of {string.Join(", ", RecordingModes)}"));
        }

        if (request.EntryMessage is { Length: > 500 })
        {
            details.Add(new("entry_message", "must be at most 500 characters"));
        }

        if (request.TimeoutConfig is { } timeouts)
        {
            int?[] values = [timeouts.WaitingRoomTimeout, timeouts.NoOneJoinedTimeout, timeouts.SilenceTimeout, timeouts.EveryoneLeftTimeout, timeouts.GracePeriod];
            for (var i = 0; i < values.Length; i++)
            {
                var (field, _, min, max) = TimeoutBounds[i];
                if (values[i] is { } v && (v < min || v > max))
                {
                    details.Add(new($"timeout_config.{field}", $"must be between {min} and {max} seconds"));
                }
            }
        }

        if (request.DeduplicationKey is { Length: > 200 })
        {
            details.Add(new("deduplication_key", "must be at most 200 characters"));
        }

        string? extra = null;
        if (request.Extra is { ValueKind: not JsonValueKind.Null } extraElement)
        {
            if (extraElement.ValueKind != JsonValueKind.Object)
            {
                details.Add(new("extra", "must be an object"));
            }
            else
            {
                extra = extraElement.GetRawText();
                if (System.Text.Encoding.UTF8.GetByteCount(extra) > MaxExtraBytes)
                {
                    details.Add(new("extra", "must be at most 16 KB of JSON"));
                }

                if (ValidatePriority(extraElement) is { } priorityProblem)
                {
                    details.Add(priorityProblem);
                }
            }
        }

        var callback = ValidateCallback(request, details);
        ValidateStreaming(request, details);
        ValidateObject(request.ZoomConfig, "zoom_config", details);
        ValidateObject(request.TranscriptionConfig, "transcription_config", details);

        if (!urlValid && details.Count == 0)
        {
            return (null, ApiError.InvalidMeetingUrl(request.MeetingUrl));
        }

        if (!urlValid)
        {
            details.Insert(0, new("meeting_url", request.MeetingUrl is null ? "is required" : "is not a supported meeting URL"));
        }

        if (details.Count > 0)
        {
            return (null, ApiError.Validation(details));
        }

        if ((request.TranscriptionEnabled == true || request.TranscriptionConfig is { ValueKind: JsonValueKind.Object }) && !features.Transcription)
        {
            return (null, ApiError.FeatureDisabled("transcription_enabled", "ENABLE_TRANSCRIPTION"));
        }

        return (new ValidatedBot(meetingUrl, mode, extra, request.AllowMultipleBots ?? true, request.DeduplicationKey, callback), null);
    }

    /// <summary>
    /// `extra.priority`, when present and not null, must be an integer in [<see cref="MinPriority"/>,
    /// <see cref="MaxPriority"/>]. It decides the bot's place in the global queue, so a value the queue could
    /// only ignore ("high", 2.5, 1e9) is refused rather than silently counted as 0 (the default).
    /// </summary>
    public static ErrorDetail? ValidatePriority(JsonElement extra)
    {
        if (extra.ValueKind != JsonValueKind.Object || !extra.TryGetProperty(PriorityKey, out var priority) || priority.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        // TryGetInt32 refuses fractions and exponents ("2.0", "1e2"): only an integer literal is a priority.
        return priority.ValueKind == JsonValueKind.Number && priority.TryGetInt32(out var value) && value is >= MinPriority and <= MaxPriority
            ? null
            : new($"extra.{PriorityKey}", $"must be an integer between {MinPriority} and {MaxPriority} (the bot's place in the global queue; default 0)");
    }

    private void ValidateImages(CreateBotRequest request, List<ErrorDetail> details)
    {
        // The bot downloads these: a private address is refused as for webhook targets (the bot checks the
        // resolved addresses again when it connects).
        void CheckImage(string? url, string field)
        {
            if (!IsHttpUrl(url))
            {
                details.Add(new(field, "must be an http(s) URL"));
            }
            else if (!api.WebhookAllowPrivateNetworks && IsPrivateHost(new Uri(url!).Host))
            {
                details.Add(new(field, "points to a private or loopback address (set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow)"));
            }
        }

        switch (request.BotImage)
        {
            case null or { ValueKind: JsonValueKind.Null }:
                break;
            case { ValueKind: JsonValueKind.String } single:
                CheckImage(single.GetString(), "bot_image");
                break;
            case { ValueKind: JsonValueKind.Array } list:
                if (list.GetArrayLength() is 0 or > 5)
                {
                    details.Add(new("bot_image", "must hold 1 to 5 URLs"));
                }

                var index = 0;
                foreach (var item in list.EnumerateArray())
                {
                    CheckImage(item.ValueKind == JsonValueKind.String ? item.GetString() : null, $"bot_image[{index}]");

                    index++;
                }

                break;
            default:
                details.Add(new("bot_image", "must be a URL or an array of URLs"));
                break;
        }

        if (request.BotImageConfig is { } config)
        {
            if (config.LoopMode is not (null or "auto" or "bot_status"))
            {
                details.Add(new("bot_image_config.loop_mode", "must be auto or bot_status"));
            }

            if (config.ImageDuration is { } duration && (duration < 10 || duration > 120))
            {
                details.Add(new("bot_image_config.image_duration", "must be between 10 and 120 seconds"));
            }
        }
    }

    private CallbackTarget? ValidateCallback(CreateBotRequest request, List<ErrorDetail> details)
    {
        CallbackTarget? target = null;
        if (request.CallbackConfig is { } config)
        {
            var method = (config.Method ?? "POST").ToUpperInvariant();
            if (method is not ("POST" or "PUT"))
            {
                details.Add(new("callback_config.method", "must be POST or PUT"));
            }

            if (config.Secret is { Length: > 255 })
            {
                details.Add(new("callback_config.secret", "must be at most 255 characters"));
            }

            if (CheckTarget(config.Url, "callback_config.url", details))
            {
                target = new CallbackTarget(config.Url!, config.Secret, method);
            }
        }

        if (request.CallbackUrl is not null && target is null && CheckTarget(request.CallbackUrl, "callback_url", details))
        {
            target = new CallbackTarget(request.CallbackUrl, null, "POST");
        }

        // callback_url is shorthand for enabling; an explicit callback_enabled=false turns the callback off.
        return request.CallbackEnabled == false ? null : target;
    }

    /// <summary>A webhook or callback target: an absolute http(s) URL, not on a private network unless allowed.</summary>
    public bool CheckTarget(string? url, string field, List<ErrorDetail> details)
    {
        ArgumentNullException.ThrowIfNull(details);
        if (!IsHttpUrl(url))
        {
            details.Add(new(field, "must be an absolute http(s) URL"));
            return false;
        }

        if (!api.WebhookAllowPrivateNetworks && IsPrivateHost(new Uri(url!).Host))
        {
            details.Add(new(field, "points to a private or loopback address (set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow)"));
            return false;
        }

        return true;
    }

    private static void ValidateStreaming(CreateBotRequest request, List<ErrorDetail> details)
    {
        if (request.StreamingConfig is not { } streaming)
        {
            return;
        }

        if (streaming.AudioFrequency is { } hz && hz is not (16000 or 24000 or 32000 or 48000))
        {
            details.Add(new("streaming_config.audio_frequency", "must be 16000, 24000, 32000 or 48000"));
        }

        foreach (var (value, field) in new[] { (streaming.InputUrl, "streaming_config.input_url"), (streaming.OutputUrl, "streaming_config.output_url") })
        {
            if (value is not null && !(Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "ws" or "wss"))
            {
                details.Add(new(field, "must be a ws:// or wss:// URL"));
            }
        }
    }

    private static void ValidateObject(JsonElement? element, string field, List<ErrorDetail> details)
    {
        if (element is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Object) })
        {
            details.Add(new(field, "must be an object"));
        }
    }

    public static bool IsHttpUrl(string? value) =>
        value is { Length: <= 2048 } && Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && !string.IsNullOrEmpty(uri.Host);

    /// <summary>Literal addresses and names that are private by definition (<see cref="PrivateNetworks"/>).</summary>
    public static bool IsPrivateHost(string host) => PrivateNetworks.IsPrivateHost(host);

    public static bool IsPrivateAddress(IPAddress address) => PrivateNetworks.IsPrivateAddress(address);
}
