using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Parley.Core.Configuration;
using Parley.Core.Webhooks;

namespace Parley.Api.Webhooks;

/// <summary>
/// Svix's HTTP API for ENABLE_SVIX: one Svix application per team (uid = team id), one message per event
/// (`eventId` = the delivery id, so a retried send is deduplicated by Svix), event types registered at start.
/// Svix then owns the endpoints, signing and retries towards receivers; our delivery loop only retries
/// reaching Svix itself. The Svix URL is set by the operator (often cluster-internal), so the private-network
/// guard of customer targets does not apply to it.
/// </summary>
public sealed partial class SvixClient : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly HttpClient _http;
    private readonly Uri _base;
    private readonly ILogger<SvixClient> _logger;

    public SvixClient(SvixOptions options, ApiOptions api, ILogger<SvixClient> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(api);
        _base = options.Url ?? new Uri("http://svix.invalid/");
        _logger = logger;
        _http = new HttpClient { Timeout = TimeSpan.FromSeconds(api.WebhookTimeoutSeconds) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.JwtSecret ?? "");
    }

    public static string MessageUrl(Uri svixUrl, string teamId)
    {
        ArgumentNullException.ThrowIfNull(svixUrl);
        return new Uri(svixUrl, $"/api/v1/app/{Uri.EscapeDataString(teamId)}/msg/").ToString();
    }

    /// <summary>Creates the message; a missing application is created on the way.</summary>
    public async Task<DeliveryAttemptResult> SendAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        using var payload = JsonDocument.Parse(delivery.Payload);
        var body = JsonSerializer.Serialize(new { eventType = delivery.Event, eventId = delivery.Id, payload = payload.RootElement }, Json);
        try
        {
            var status = await PostAsync(delivery.TargetUrl, body, cancellationToken);
            if (status == HttpStatusCode.NotFound)
            {
                var app = await PostAsync(new Uri(_base, "/api/v1/app/").ToString(), JsonSerializer.Serialize(new { name = delivery.TeamId, uid = delivery.TeamId }, Json), cancellationToken);
                if ((int)app is < 200 or >= 300 && app != HttpStatusCode.Conflict)
                {
                    return new DeliveryAttemptResult(false, (int)app, $"Svix refused to create application {delivery.TeamId}: HTTP {(int)app}");
                }

                status = await PostAsync(delivery.TargetUrl, body, cancellationToken);
            }

            // 409: Svix already has a message with this eventId, i.e. an earlier attempt got through.
            return (int)status is >= 200 and < 300 || status == HttpStatusCode.Conflict
                ? new DeliveryAttemptResult(true, (int)status, null)
                : new DeliveryAttemptResult(false, (int)status, $"Svix answered HTTP {(int)status}");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new DeliveryAttemptResult(false, null, $"Svix unreachable: {ex.Message}");
        }
    }

    /// <summary>Registers Parley's event types; existing ones (409) are fine.</summary>
    public async Task RegisterEventTypesAsync(CancellationToken cancellationToken)
    {
        foreach (var name in WebhookEvent.All)
        {
            var status = await PostAsync(new Uri(_base, "/api/v1/event-type/").ToString(),
                JsonSerializer.Serialize(new { name, description = $"Parley {name}" }, Json), cancellationToken);
            if ((int)status is < 200 or >= 300 && status != HttpStatusCode.Conflict)
            {
                LogEventTypeFailed(_logger, name, (int)status);
            }
        }
    }

    private async Task<HttpStatusCode> PostAsync(string url, string json, CancellationToken cancellationToken)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync(url, content, cancellationToken);
        return response.StatusCode;
    }

    public void Dispose() => _http.Dispose();

    [LoggerMessage(EventId = 3300, Level = LogLevel.Warning, Message = "Svix did not register event type {EventType}: HTTP {Status}")]
    private static partial void LogEventTypeFailed(ILogger logger, string eventType, int status);
}

/// <summary>Registers the event types in Svix when the jobs role starts (ENABLE_SVIX only).</summary>
public sealed partial class SvixEventTypeRegistration(SvixClient svix, FeatureOptions features, ILogger<SvixEventTypeRegistration> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!features.Svix)
        {
            return;
        }

        // Svix may start after us: retry with backoff until it answers.
        for (var attempt = 0; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await svix.RegisterEventTypesAsync(stoppingToken);
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !stoppingToken.IsCancellationRequested)
            {
                LogRetry(logger, ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(60, 1 << Math.Min(attempt, 6))), stoppingToken);
            }
        }
    }

    [LoggerMessage(EventId = 3301, Level = LogLevel.Warning, Message = "Svix unreachable while registering event types ({Error}); retrying")]
    private static partial void LogRetry(ILogger logger, string error);
}
