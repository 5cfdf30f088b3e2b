using Parley.Api.Webhooks;

namespace Parley.Api.Jobs;

/// <summary>
/// webhook-retry-job: one pass of the webhook delivery loop, for deployments that run retries from a CronJob
/// (`parley job run webhook-retry-job`). The jobs role runs the loop continuously instead.
/// </summary>
public sealed class WebhookRetryJob(WebhookDeliveryLoop loop) : IParleyJob, IManualJob
{
    public string Name => "webhook-retry-job";

    public bool Enabled => true;

    public DateTime NextRun(DateTime now, DateTime? lastRun) => now;

    public Task<int> RunOnceAsync(CancellationToken cancellationToken) => loop.RunOnceAsync(cancellationToken);
}
