using System.Text.Json;

namespace Parley.Orchestration.Platforms.Coolify;

public static class SlotState
{
    public const string Idle = "IDLE";
    public const string Deploying = "DEPLOYING";
    public const string Busy = "BUSY";
    public const string Error = "ERROR";
}

/// <summary>
/// A pool slot's state as the pool records it. It is kept in the Coolify application's description, so
/// every orchestrator replica reads the same state from the same place without a table of its own (and
/// without a migration for both database providers); writes happen under the pool lock.
/// </summary>
/// <param name="Since">When the slot entered its state: what recovery measures a stuck DEPLOYING slot by.</param>
/// <param name="LastUsedAt">When the slot last returned to IDLE: the least recently used idle slot is taken first.</param>
/// <param name="Failures">Recovery attempts that failed in a row; the slot is replaced after a few.</param>
public sealed record SlotRecord(string State, string? BotId, DateTimeOffset Since, DateTimeOffset LastUsedAt, int Failures = 0)
{
    /// <summary>Marks descriptions written by the pool: other applications of the project are not slots.</summary>
    public const string Marker = "parley-pool-slot ";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string ToDescription() => Marker + JsonSerializer.Serialize(this, Json);

    public static SlotRecord? Parse(string? description)
    {
        if (description is null || !description.StartsWith(Marker, StringComparison.Ordinal))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<SlotRecord>(description.AsSpan(Marker.Length), Json);
        }
        catch (JsonException)
        {
            // A description edited by hand: the slot is treated as broken, which recovery repairs.
            return new SlotRecord(SlotState.Error, null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);
        }
    }
}

/// <summary>A slot: its Coolify application and recorded state; <paramref name="Status"/> is Coolify's ("running:healthy", "exited").</summary>
public sealed record CoolifySlot(string Uuid, string Name, string? Status, SlotRecord Record);
