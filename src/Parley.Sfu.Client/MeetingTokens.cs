using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Parley.Sfu.Client;

/// <summary>Join tokens from a Parley server's HTTP API.</summary>
public static class MeetingTokens
{
    /// <summary>
    /// `POST /meet/{id}/guest-token` (public): a guest token; an unknown id starts an ad-hoc meeting when the
    /// server allows it. A 429 (guest rate limit) is retried after its retry-after, up to <paramref name="maxAttempts"/> times.
    /// </summary>
    public static async Task<string> GuestAsync(HttpClient http, string meetingId, string name, int maxAttempts = 5, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        for (var attempt = 1; ; attempt++)
        {
            using var response = await http.PostAsJsonAsync($"meet/{Uri.EscapeDataString(meetingId)}/guest-token", new { name }, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.TooManyRequests && attempt < maxAttempts)
            {
                var wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
                await Task.Delay(wait + TimeSpan.FromMilliseconds(Random.Shared.Next(0, 200)), cancellationToken).ConfigureAwait(false);
                continue;
            }

            return await ReadTokenAsync(response, "POST /meet/{id}/guest-token", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>`POST /v2/meetings/{id}/tokens` with the API key (x-meeting-baas-api-key).</summary>
    public static async Task<string> CreateAsync(HttpClient http, string apiKey, string meetingId, string identity, string name,
        bool host = false, bool canPublish = true, bool canSubscribe = true, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v2/meetings/{Uri.EscapeDataString(meetingId)}/tokens")
        {
            Content = JsonContent.Create(new Dictionary<string, object> { ["identity"] = identity, ["name"] = name, ["host"] = host, ["can_publish"] = canPublish, ["can_subscribe"] = canSubscribe }),
        };
        request.Headers.Add("x-meeting-baas-api-key", apiKey);
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return await ReadTokenAsync(response, "POST /v2/meetings/{id}/tokens", cancellationToken).ConfigureAwait(false);
    }

    private static async Task<string> ReadTokenAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new MeetingClientException("TOKEN_REFUSED", $"{what} answered {(int)response.StatusCode}: {Truncate(body)}");
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            var data = root.TryGetProperty("data", out var d) ? d : root;
            if (data.TryGetProperty("token", out var token) && token.GetString() is { Length: > 0 } value)
            {
                return value;
            }
        }
        catch (JsonException)
        {
        }

        throw new MeetingClientException("TOKEN_REFUSED", $"{what} answered without a token: {Truncate(body)}");
    }

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
