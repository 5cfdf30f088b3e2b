using System.Text.Json;
using System.Text.Json.Serialization;
using Parley.Core.Bots;
using Parley.Core.Storage;

namespace Parley.Api.Bots;

public sealed record StatusEntry(
    string Code,
    DateTime CreatedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ErrorMessage);

public sealed record DeploymentInfo(string? Platform, string? Identifier, string State);

/// <summary>`GET /v2/bots/{id}`: every field of the Meeting BaaS details shape, plus Parley's history and deployment.</summary>
public sealed record BotDetails(
    string BotId,
    string BotName,
    string MeetingUrl,
    string MeetingPlatform,
    string RecordingMode,
    string Status,
    DateTime CreatedAt,
    DateTime? JoinedAt,
    DateTime? ExitedAt,
    double? DurationSeconds,
    JsonElement Participants,
    JsonElement Speakers,
    bool ArtifactsDeleted,
    string? Video,
    string? Audio,
    string? Diarization,
    string? Transcription,
    string? RawTranscription,
    string? ChatMessages,
    JsonElement? TranscriptionIds,
    string? TranscriptionProvider,
    string? ErrorCode,
    string? ErrorMessage,
    JsonElement? Extra,
    JsonElement? ZoomConfig,
    IReadOnlyList<StatusEntry> StatusHistory,
    DeploymentInfo Deployment);

/// <summary>Builds the public views of a bot.</summary>
public sealed class BotViews(IArtifactStore? storage)
{
    /// <summary>API.md: artifact links are valid 4 hours.</summary>
    public static readonly TimeSpan LinkLifetime = TimeSpan.FromHours(4);

    private static readonly JsonElement EmptyArray = JsonDocument.Parse("[]").RootElement.Clone();

    public BotDetails Details(Bot bot)
    {
        ArgumentNullException.ThrowIfNull(bot);
        var history = bot.StatusHistory.OrderBy(h => h.Id).ThenBy(h => h.CreatedAt)
            .Select(h => new StatusEntry(h.Code, h.CreatedAt, h.ErrorMessage)).ToList();
        return new BotDetails(
            bot.Id, bot.BotName, bot.MeetingUrl, bot.MeetingPlatform, bot.RecordingMode, bot.Status, bot.CreatedAt,
            bot.JoinedAt, bot.ExitedAt, bot.DurationSeconds is { } d ? Math.Round(d, 3) : null,
            People(bot.Participants), People(bot.Speakers), bot.ArtifactsDeleted,
            Link(bot, "video"), Link(bot, "audio"), Link(bot, "diarization"), Link(bot, "transcription"),
            Link(bot, "raw_transcription"), Link(bot, "chat_messages"), null, null,
            bot.ErrorCode, bot.ErrorMessage, Parse(bot.Extra), ZoomConfig(bot),
            history, new DeploymentInfo(bot.DeploymentPlatform, bot.DeploymentIdentifier, DeploymentState.FromStatus(bot.Status)));
    }

    /// <summary>The short summary used in lists: the details without history.</summary>
    public BotSummary Summary(Bot bot)
    {
        ArgumentNullException.ThrowIfNull(bot);
        return new BotSummary(bot.Id, bot.BotName, bot.MeetingUrl, bot.MeetingPlatform, bot.RecordingMode, bot.Status, bot.CreatedAt,
            bot.JoinedAt, bot.ExitedAt, bot.DurationSeconds is { } d ? Math.Round(d, 3) : null, bot.ErrorCode, bot.ErrorMessage, bot.ArtifactsDeleted, Parse(bot.Extra));
    }

    public string? Link(Bot bot, string kind)
    {
        ArgumentNullException.ThrowIfNull(bot);
        if (bot.ArtifactsDeleted || storage is null)
        {
            return null;
        }

        var artifact = bot.Artifacts.Where(a => a.Kind == kind).OrderByDescending(a => a.Id).FirstOrDefault();
        return artifact is null ? null : storage.GetDownloadUrl(StorageBucket.Artifacts, artifact.StorageKey, LinkLifetime).ToString();
    }

    public static JsonElement? Parse(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }

        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary>Participants or speakers without the internal matching key the events endpoint keeps.</summary>
    public static JsonElement People(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return EmptyArray;
        }

        var list = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsArray();
        foreach (var entry in list)
        {
            (entry as System.Text.Json.Nodes.JsonObject)?.Remove("_key");
        }

        return JsonSerializer.SerializeToElement(list);
    }

    private static JsonElement? ZoomConfig(Bot bot)
    {
        using var body = JsonDocument.Parse(bot.CreateBody);
        return body.RootElement.TryGetProperty("zoom_config", out var zoom) && zoom.ValueKind == JsonValueKind.Object ? zoom.Clone() : null;
    }
}
