using Parley.Core.Configuration;

namespace Parley.Api;

/// <summary>Behaviour of the public API: administration, rate limits, webhooks.</summary>
public sealed class ApiOptions : ISettingsValidation
{
    public const string SectionName = "Api";

    [Setting("PARLEY_ADMIN_API_KEY", Description = "Key of the admin API (/v2/teams) in multi-tenant mode, sent as x-admin-api-key. Unset: the admin API answers 401.", Secret = true)]
    public string? AdminApiKey { get; set; }

    [Setting("PARLEY_RATE_LIMIT_PER_SECOND", Description = "Requests per second per team on POST, PATCH and DELETE; 0 turns the limit off.", Min = 0, Max = 100000)]
    public int RateLimitPerSecond { get; set; } = 20;

    [Setting("WEBHOOK_ALLOW_PRIVATE_NETWORKS", Description = "Allow webhook and callback targets and bot_image URLs on loopback, private and link-local addresses.")]
    public bool WebhookAllowPrivateNetworks { get; set; }

    [Setting("PARLEY_WEBHOOK_RETRY_SCHEDULE", Description = "Delays in seconds between webhook attempts, comma list; the first is the delay of the first attempt.")]
    public string[] WebhookRetrySchedule { get; set; } = ["0", "5", "10", "300", "900", "1800", "7200"];

    [Setting("PARLEY_WEBHOOK_TIMEOUT_SECONDS", Description = "How long a webhook target has to answer with a 2xx.", Min = 1, Max = 300)]
    public int WebhookTimeoutSeconds { get; set; } = 30;

    [Setting("BOT_PICKUP_DELAY_SECONDS", Description = "A bot still queued after this long is marked pickup_delayed.", Min = 1, Max = 86400)]
    public int PickupDelaySeconds { get; set; } = 60;

    [Setting("DATA_RETENTION_DAYS", Description = "Artifacts of bots that ended longer ago than this are deleted by data-retention-deletion-job.", Min = 1, Max = 36500)]
    public int DataRetentionDays { get; set; } = 14;

    [Setting("TEAM_DELETION_GRACE_DAYS", Description = "Soft-deleted teams are removed with their bots and artifacts after this many days (team-permanent-deletion-job).", Min = 0, Max = 3650)]
    public int TeamDeletionGraceDays { get; set; } = 30;

    [Setting("PARLEY_SCHEDULED_BOT_LEAD_SECONDS", Description = "How long before join_at a scheduled bot is handed over, so that it is in the call on time.", Min = 0, Max = 3600)]
    public int ScheduledBotLeadSeconds { get; set; } = 60;

    public void Validate(SettingsValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (AdminApiKey is { Length: < 16 })
        {
            context.Add("PARLEY_ADMIN_API_KEY", AdminApiKey, "expected at least 16 characters (generate one with `openssl rand -hex 32`)", secret: true);
        }

        if (ParseSchedule(WebhookRetrySchedule) is null)
        {
            context.Add("PARLEY_WEBHOOK_RETRY_SCHEDULE", string.Join(',', WebhookRetrySchedule), "expected a comma list of delays in seconds (0 to 604800), e.g. 0,5,10,300");
        }
    }

    /// <summary>The retry schedule as delays; validated at start by <see cref="ParseSchedule"/>.</summary>
    public IReadOnlyList<TimeSpan> RetryDelays => ParseSchedule(WebhookRetrySchedule) ?? [TimeSpan.Zero];

    public static IReadOnlyList<TimeSpan>? ParseSchedule(string[] items)
    {
        var delays = new List<TimeSpan>();
        foreach (var item in items)
        {
            if (!double.TryParse(item, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
                || seconds < 0 || seconds > 86400 * 7)
            {
                return null;
            }

            delays.Add(TimeSpan.FromSeconds(seconds));
        }

        return delays.Count == 0 ? null : delays;
    }
}
