namespace Parley.Core.Webhooks;

/// <summary>An account-level webhook target: receives every event of the team's bots.</summary>
public sealed class WebhookEndpoint
{
    public required string Id { get; init; }

    public required string TeamId { get; init; }

    public required string Url { get; init; }

    /// <summary>Sent as `x-mb-secret` and used for the Standard Webhooks signature.</summary>
    public required string Secret { get; init; }

    /// <summary>Comma list of events to send, or null for all.</summary>
    public string? Events { get; init; }

    public DateTime CreatedAt { get; init; }
}

/// <summary>Webhook event names (API.md "Webhooks").</summary>
public static class WebhookEvent
{
    public const string StatusChange = "bot.status_change";
    public const string Completed = "bot.completed";
    public const string Failed = "bot.failed";
    public const string ChatMessage = "bot.chat_message";

    public static readonly IReadOnlyList<string> All = [StatusChange, Completed, Failed, ChatMessage];
}

public static class WebhookDeliveryStatus
{
    public const string Pending = "pending";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
}

/// <summary>
/// One event for one target, with its retry state. Persisted before the first attempt so that pending
/// retries survive a restart; one row per (event, target), the attempt counter says how often it was tried.
/// </summary>
public sealed class WebhookDelivery
{
    /// <summary>Also the Standard Webhooks `webhook-id`, stable across retries so receivers can deduplicate.</summary>
    public required string Id { get; init; }

    public required string TeamId { get; init; }

    public required string BotId { get; init; }

    public required string Event { get; init; }

    /// <summary>callback, endpoint, retry_callback or svix.</summary>
    public required string TargetKind { get; init; }

    public required string TargetUrl { get; init; }

    public string? EndpointId { get; init; }

    public string? Secret { get; init; }

    public string Method { get; init; } = "POST";

    public required string Payload { get; init; }

    public int Attempt { get; set; }

    public string Status { get; set; } = WebhookDeliveryStatus.Pending;

    public int? LastStatusCode { get; set; }

    public string? LastError { get; set; }

    public DateTime? NextAttemptAt { get; set; }

    public DateTime CreatedAt { get; init; }

    public DateTime UpdatedAt { get; set; }

    public DateTime? DeliveredAt { get; set; }
}
