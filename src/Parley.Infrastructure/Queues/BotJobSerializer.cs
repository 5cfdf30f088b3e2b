using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;
using Parley.Core.Queues;

namespace Parley.Infrastructure.Queues;

/// <summary>
/// The wire form of a bot job in a queue message: snake_case JSON like the rest of the API
/// (<c>{"bot_id":..,"team_id":..,"meeting_platform":..,"enqueued_at":..}</c>), so that a KEDA scaler, a
/// dead-letter inspection or another language reads it without Parley's types.
/// </summary>
public static class BotJobSerializer
{
    public static string Serialize(BotJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return JsonSerializer.Serialize(job, BotJobJsonContext.Default.BotJob);
    }

    /// <summary>False for anything that is not a complete job: a queue may hold messages we did not write.</summary>
    public static bool TryDeserialize(string? body, [NotNullWhen(true)] out BotJob? job)
    {
        job = null;
        if (string.IsNullOrWhiteSpace(body))
        {
            return false;
        }

        try
        {
            job = JsonSerializer.Deserialize(body, BotJobJsonContext.Default.BotJob);
        }
        catch (JsonException)
        {
            return false;
        }

        if (job is null || string.IsNullOrWhiteSpace(job.BotId) || string.IsNullOrWhiteSpace(job.TeamId) || string.IsNullOrWhiteSpace(job.MeetingPlatform))
        {
            job = null;
            return false;
        }

        return true;
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(BotJob))]
internal sealed partial class BotJobJsonContext : JsonSerializerContext;
