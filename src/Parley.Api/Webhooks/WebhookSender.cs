using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Parley.Api.Bots;
using Parley.Core.Net;
using Parley.Core.Webhooks;

namespace Parley.Api.Webhooks;

/// <summary>The outcome of one delivery attempt.</summary>
public sealed record DeliveryAttemptResult(bool Success, int? StatusCode, string? Error);

/// <summary>
/// Sends one webhook: `x-mb-secret` for Meeting BaaS receivers, and the Standard Webhooks headers
/// (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,&lt;base64 HMAC-SHA256&gt;`) so receivers can verify
/// origin and freshness. The connection refuses private addresses after DNS resolution (unless allowed), so a
/// public name that resolves to 10.0.0.1 cannot be used to reach the internal network.
/// </summary>
public sealed class WebhookSender : IDisposable
{
    private readonly HttpClient _client;
    private readonly TimeProvider _time;

    public WebhookSender(ApiOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        var handler = PrivateNetworks.CreateHandler(options.WebhookAllowPrivateNetworks);
        _client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(options.WebhookTimeoutSeconds) };
        _client.DefaultRequestHeaders.UserAgent.ParseAdd("Parley-Webhooks/1.0");
    }

    public async Task<DeliveryAttemptResult> SendAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        using var request = new HttpRequestMessage(delivery.Method == "PUT" ? HttpMethod.Put : HttpMethod.Post, delivery.TargetUrl)
        {
            Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json"),
        };
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        request.Headers.Add("webhook-id", delivery.Id);
        request.Headers.Add("webhook-timestamp", timestamp);
        if (!string.IsNullOrEmpty(delivery.Secret))
        {
            request.Headers.Add("x-mb-secret", delivery.Secret);
            request.Headers.Add("webhook-signature", Sign(delivery.Secret, delivery.Id, timestamp, delivery.Payload));
        }

        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var code = (int)response.StatusCode;
            return code is >= 200 and < 300
                ? new DeliveryAttemptResult(true, code, null)
                : new DeliveryAttemptResult(false, code, $"HTTP {code} {response.ReasonPhrase}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new DeliveryAttemptResult(false, null, $"no answer within {_client.Timeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException ex)
        {
            return new DeliveryAttemptResult(false, null, ex.InnerException?.Message ?? ex.Message);
        }
    }

    /// <summary>
    /// Standard Webhooks: HMAC-SHA256 over "id.timestamp.body". A `whsec_` secret carries its key in base64
    /// (the Standard Webhooks and Svix convention); any other secret is used as its UTF-8 bytes.
    /// </summary>
    public static string Sign(string secret, string id, string timestamp, string body)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var key = KeyOf(secret);
        var mac = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}"));
        return "v1," + Convert.ToBase64String(mac);
    }

    public static byte[] KeyOf(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        if (secret.StartsWith("whsec_", StringComparison.Ordinal))
        {
            try
            {
                return Convert.FromBase64String(secret["whsec_".Length..]);
            }
            catch (FormatException)
            {
                // Not base64 after all: fall through to the raw bytes.
            }
        }

        return Encoding.UTF8.GetBytes(secret);
    }

    public void Dispose() => _client.Dispose();
}
