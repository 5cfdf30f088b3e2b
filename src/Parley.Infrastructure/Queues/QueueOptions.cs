using Parley.Core.Configuration;
using Parley.Infrastructure.Aws;

namespace Parley.Infrastructure.Queues;

/// <summary>
/// The bot job queue: the embedded database queue by default, SQS when a queue URL is set. Queues are
/// chosen by meeting platform as in Meeting BaaS (<c>SQS_QUEUE_URL_ZOOM</c>, <c>SQS_QUEUE_URL_MEET_TEAMS</c>);
/// Parley's own meetings use <c>SQS_QUEUE_URL_PARLEY</c>, or the Meet/Teams queue when that is unset, so a
/// Meeting BaaS environment works unchanged. <c>QUEUE_MAX_RECEIVES</c> applies to both queue kinds.
/// </summary>
public sealed class QueueOptions : ISettingsValidation
{
    public const string SectionName = "Queue";

    [Setting("QUEUE_MAX_RECEIVES", Description = "Deliveries of one bot job before it is dead-lettered (embedded queue, and SQS queues without a redrive policy).", Min = 1, Max = 1000)]
    public int MaxReceives { get; set; } = 5;

    [Setting("SQS_QUEUE_URL_ZOOM", Description = "SQS queue for Zoom bots. Setting any SQS queue URL switches the bot queue to SQS.", Schemes = ["http", "https"])]
    public Uri? ZoomQueueUrl { get; set; }

    [Setting("SQS_QUEUE_URL_MEET_TEAMS", Description = "SQS queue for Google Meet and Microsoft Teams bots.", Schemes = ["http", "https"])]
    public Uri? MeetTeamsQueueUrl { get; set; }

    [Setting("SQS_QUEUE_URL_PARLEY", Description = "SQS queue for bots in Parley's own meetings. Unset: the Meet/Teams queue.", Schemes = ["http", "https"])]
    public Uri? ParleyQueueUrl { get; set; }

    [Setting("SQS_QUEUE_URL_DEAD_LETTER", Description = "Where bot jobs delivered more than QUEUE_MAX_RECEIVES times are moved, for queues without an SQS redrive policy. Unset: such jobs are deleted and logged.", Schemes = ["http", "https"])]
    public Uri? DeadLetterQueueUrl { get; set; }

    [Setting("AWS_ENDPOINT_URL_SQS", Description = "Endpoint of an SQS-compatible server. Unset: AWS_ENDPOINT_URL, else AWS itself.", Schemes = ["http", "https"])]
    public Uri? EndpointUrl { get; set; }

    [Setting("AWS_ACCESS_KEY_ID_SQS", Description = "Access key id for SQS. Unset: AWS_ACCESS_KEY_ID, else the default credential chain.", Secret = true)]
    public string? AccessKeyId { get; set; }

    [Setting("AWS_SECRET_ACCESS_KEY_SQS", Description = "Secret access key paired with AWS_ACCESS_KEY_ID_SQS.", Secret = true)]
    public string? SecretAccessKey { get; set; }

    /// <summary>True when bot jobs go through SQS; otherwise the embedded queue is used.</summary>
    public bool IsSqsConfigured => ZoomQueueUrl is not null || MeetTeamsQueueUrl is not null || ParleyQueueUrl is not null;

    /// <summary>The meeting platforms of API.md's details shape (<c>meeting_platform</c>).</summary>
    public static readonly IReadOnlyList<string> Platforms = ["parley", "meet", "teams", "zoom"];

    /// <summary>The queue a bot for <paramref name="platform"/> is sent to.</summary>
    /// <exception cref="ArgumentException">Unknown platform.</exception>
    /// <exception cref="InvalidOperationException">SQS is not configured (validation guarantees the rest).</exception>
    public Uri QueueUrlFor(string platform)
    {
        var url = platform switch
        {
            "zoom" => ZoomQueueUrl,
            "meet" or "teams" => MeetTeamsQueueUrl,
            "parley" => ParleyQueueUrl ?? MeetTeamsQueueUrl,
            _ => throw new ArgumentException($"Unknown meeting platform '{platform}': expected one of {string.Join(", ", Platforms)}.", nameof(platform)),
        };
        return url ?? throw new InvalidOperationException($"No SQS queue is configured for meeting platform '{platform}'.");
    }

    public void Validate(SettingsValidationContext context)
    {
        if (IsSqsConfigured)
        {
            // A job for a platform without a queue could only fail at the first bot of that platform,
            // long after deployment: say it now.
            if (ZoomQueueUrl is null)
            {
                context.Add("SQS_QUEUE_URL_ZOOM", null, "required when any SQS queue URL is set (every meeting platform needs a queue)");
            }

            if (MeetTeamsQueueUrl is null)
            {
                context.Add("SQS_QUEUE_URL_MEET_TEAMS", null, "required when any SQS queue URL is set (every meeting platform needs a queue)");
            }

            Uri?[] sources = [ZoomQueueUrl, MeetTeamsQueueUrl, ParleyQueueUrl];
            if (DeadLetterQueueUrl is not null && sources.Any(s => s == DeadLetterQueueUrl))
            {
                context.Add("SQS_QUEUE_URL_DEAD_LETTER", DeadLetterQueueUrl.OriginalString, "expected a queue other than the bot queues");
            }
        }
        else if (DeadLetterQueueUrl is not null)
        {
            context.Add("SQS_QUEUE_URL_DEAD_LETTER", DeadLetterQueueUrl.OriginalString, "only used with SQS: set SQS_QUEUE_URL_ZOOM and SQS_QUEUE_URL_MEET_TEAMS too, or unset it (the embedded queue keeps dead letters in its table)");
        }

        AwsCredentialPair.Validate(context, "AWS_ACCESS_KEY_ID_SQS", AccessKeyId, "AWS_SECRET_ACCESS_KEY_SQS", SecretAccessKey);
    }
}
