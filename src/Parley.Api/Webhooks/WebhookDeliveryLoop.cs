using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Parley.Core.Webhooks;
using Parley.Data;

namespace Parley.Api.Webhooks;

/// <summary>
/// Sends due webhook deliveries and schedules retries: immediately, then the delays of
/// PARLEY_WEBHOOK_RETRY_SCHEDULE (API.md: 5 s, 10 s, 5 min, 15 min, 30 min, 2 h) with ±20 % jitter so that a
/// recovering receiver is not hit by every retry at once. State lives in the database, so pending retries
/// survive a restart; a delivery is claimed with a conditional update, so several replicas never send the
/// same attempt twice.
/// </summary>
public sealed partial class WebhookDeliveryLoop(
    ParleyDbContextFactory databases,
    WebhookSender sender,
    SvixClient svix,
    WebhookSignals signals,
    ApiOptions options,
    TimeProvider time,
    ILogger<WebhookDeliveryLoop> logger) : BackgroundService
{
    private const int BatchSize = 32;
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var sent = 0;
            try
            {
                sent = await RunOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogLoopFailed(logger, ex.Message);
            }

            if (sent == 0)
            {
                try
                {
                    await signals.WaitAsync(IdlePoll, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Sends every due delivery once; returns how many attempts were made.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = databases.CreateDbContext();
        var due = await db.WebhookDeliveries.AsNoTracking()
            .Where(d => d.Status == WebhookDeliveryStatus.Pending && d.NextAttemptAt <= now)
            .OrderBy(d => d.NextAttemptAt).Take(BatchSize).ToListAsync(cancellationToken);

        var claimed = new List<WebhookDelivery>();
        // A claim outlives the request timeout, so a replica that dies mid-attempt lets another retry later.
        var claimUntil = now + TimeSpan.FromSeconds(options.WebhookTimeoutSeconds + 30);
        foreach (var delivery in due)
        {
            var previous = delivery.NextAttemptAt;
            var rows = await db.WebhookDeliveries
                .Where(d => d.Id == delivery.Id && d.Status == WebhookDeliveryStatus.Pending && d.NextAttemptAt == previous)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.NextAttemptAt, claimUntil), cancellationToken);
            if (rows == 1)
            {
                claimed.Add(delivery);
            }
        }

        await Task.WhenAll(claimed.Select(d => AttemptAsync(d, cancellationToken)));
        return claimed.Count;
    }

    private async Task AttemptAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        var result = delivery.TargetKind == "svix"
            ? await svix.SendAsync(delivery, cancellationToken)
            : await sender.SendAsync(delivery, cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        var attempt = delivery.Attempt + 1;
        var delays = options.RetryDelays;
        string status;
        DateTime? next = null;
        if (result.Success)
        {
            status = WebhookDeliveryStatus.Succeeded;
        }
        else if (attempt < delays.Count)
        {
            status = WebhookDeliveryStatus.Pending;
            var jitter = 0.8 + (Random.Shared.NextDouble() * 0.4);
            next = now + (delays[attempt] * jitter);
            LogRetryScheduled(logger, delivery.Id, delivery.TargetUrl, attempt, result.Error ?? "", next.Value);
        }
        else
        {
            status = WebhookDeliveryStatus.Failed;
            LogGaveUp(logger, delivery.Id, delivery.TargetUrl, attempt, result.Error ?? "");
        }

        var error = result.Error is { Length: > 2000 } e ? e[..2000] : result.Error;
        await using var db = databases.CreateDbContext();
        await db.WebhookDeliveries.Where(d => d.Id == delivery.Id).ExecuteUpdateAsync(s => s
            .SetProperty(d => d.Attempt, attempt)
            .SetProperty(d => d.Status, status)
            .SetProperty(d => d.LastStatusCode, result.StatusCode)
            .SetProperty(d => d.LastError, error)
            .SetProperty(d => d.NextAttemptAt, next)
            .SetProperty(d => d.UpdatedAt, now)
            .SetProperty(d => d.DeliveredAt, result.Success ? now : null), CancellationToken.None);
        WebhookMetrics.Deliveries.WithLabels(result.Success ? "success" : status == WebhookDeliveryStatus.Failed ? "failed" : "retry").Inc();
    }

    [LoggerMessage(EventId = 3200, Level = LogLevel.Information, Message = "Webhook {DeliveryId} to {Target}: attempt {Attempt} failed ({Error}); next attempt at {NextAttempt:o}")]
    private static partial void LogRetryScheduled(ILogger logger, string deliveryId, string target, int attempt, string error, DateTime nextAttempt);

    [LoggerMessage(EventId = 3201, Level = LogLevel.Warning, Message = "Webhook {DeliveryId} to {Target}: giving up after {Attempt} attempts ({Error})")]
    private static partial void LogGaveUp(ILogger logger, string deliveryId, string target, int attempt, string error);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Error, Message = "Webhook delivery loop failed: {Error}")]
    private static partial void LogLoopFailed(ILogger logger, string error);
}

/// <summary>Prometheus counters of webhook deliveries.</summary>
public static class WebhookMetrics
{
    public static readonly Prometheus.Counter Deliveries = Prometheus.Metrics.CreateCounter(
        "parley_webhook_deliveries_total", "Webhook delivery attempts by result (success, retry, failed).", "result");
}
