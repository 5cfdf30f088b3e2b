using System.Text.Json;

namespace Parley.Bots;

/// <summary>The timeout_config of a bot, in seconds, as the API resolved it (defaults filled in).</summary>
public sealed record TimeoutConfig(int WaitingRoomSeconds, int NoOneJoinedSeconds, int EveryoneLeftSeconds, int SilenceSeconds)
{
    /// <summary>API.md's defaults, used for any field the API did not send.</summary>
    public static TimeoutConfig Default { get; } = new(600, 600, 60, 600);
}

/// <summary>
/// What `GET /internal/bots/{id}/config` returns (the <c>data</c> of the envelope); the original create
/// body is kept whole so that adapters can read their own fields (recording mode, chat options, ...).
/// </summary>
public sealed record BotConfig(
    string BotId,
    string BotName,
    string MeetingUrl,
    string MeetingPlatform,
    string? RecordingMode,
    string Status,
    TimeoutConfig Timeouts,
    JsonElement Body)
{
    /// <summary>For a Parley meeting: <c>{meeting_id, token, expires_at, server_url, error}</c> (the bot's join); else undefined.</summary>
    public JsonElement MeetingJoin { get; init; }

    /// <summary>
    /// Whether URLs the tenant gave (bot_image) may point at private addresses (WEBHOOK_ALLOW_PRIVATE_NETWORKS
    /// of the api); false when the api did not say.
    /// </summary>
    public bool AllowPrivateNetworks { get; init; }

    public static BotConfig Parse(JsonElement data)
    {
        static string Text(JsonElement e, string name) =>
            e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";

        var defaults = TimeoutConfig.Default;
        var timeouts = defaults;
        if (data.TryGetProperty("timeout_config", out var t) && t.ValueKind == JsonValueKind.Object)
        {
            int Seconds(string name, int fallback) =>
                t.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : fallback;
            timeouts = new TimeoutConfig(
                Seconds("waiting_room_timeout", defaults.WaitingRoomSeconds),
                Seconds("no_one_joined_timeout", defaults.NoOneJoinedSeconds),
                Seconds("everyone_left_timeout", defaults.EveryoneLeftSeconds),
                Seconds("silence_timeout", defaults.SilenceSeconds));
        }

        return new BotConfig(
            Text(data, "bot_id"),
            Text(data, "bot_name"),
            Text(data, "meeting_url"),
            Text(data, "meeting_platform"),
            data.TryGetProperty("recording_mode", out var mode) && mode.ValueKind == JsonValueKind.String ? mode.GetString() : null,
            Text(data, "status"),
            timeouts,
            data.TryGetProperty("body", out var body) ? body.Clone() : default)
        {
            MeetingJoin = data.TryGetProperty("meeting_join", out var join) && join.ValueKind == JsonValueKind.Object ? join.Clone() : default,
            AllowPrivateNetworks = data.TryGetProperty("allow_private_networks", out var allow) && allow.ValueKind == JsonValueKind.True,
        };
    }
}
