using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Parley.Bots.Api;

/// <summary>An API answer the bot cannot retry its way out of (4xx other than 429): bad token, refused transition.</summary>
public sealed class BotApiException(HttpStatusCode status, string? code, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;

    /// <summary>The envelope's error <c>code</c> (UNAUTHORIZED, INVALID_TRANSITION...), when there was one.</summary>
    public string? Code { get; } = code;
}

/// <summary>The API stayed unreachable (or 5xx/429) for the whole retry budget.</summary>
public sealed class BotApiUnavailableException(string message, Exception? inner) : Exception(message, inner);

/// <summary>The heartbeat reply: what the API wants the bot to do.</summary>
public sealed record HeartbeatReply(bool ShouldLeave, IReadOnlyList<string> PendingChatMessages, bool RecordingPaused);

/// <summary>
/// The bot-facing internal API (API.md), authenticated with the bot's own token. Every call retries with
/// exponential backoff while the API is briefly unavailable (connection refused, timeouts, 5xx, 429) for at
/// most PARLEY_BOT_API_RETRY_BUDGET_MS: a rolling deploy of the API must not cost a meeting recording. A 4xx
/// is an answer, not an outage, and is never retried (retrying a 401 or a 409 cannot change it).
/// A small loop rather than Polly: four lines of policy do not justify a dependency in every bot image.
/// </summary>
public sealed partial class BotApiClient : IDisposable
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);

    private readonly HttpClient _http;
    private readonly string _botId;
    private readonly TimeSpan _budget;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public BotApiClient(Uri apiUrl, string botId, string token, TimeSpan retryBudget, TimeProvider time, ILogger logger, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(apiUrl);
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.BaseAddress = new Uri(apiUrl.AbsoluteUri.TrimEnd('/') + "/");
        _http.Timeout = TimeSpan.FromSeconds(30);
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        _botId = Uri.EscapeDataString(botId);
        _budget = retryBudget;
        _time = time;
        _logger = logger;
    }

    public async Task<BotConfig> GetConfigAsync(CancellationToken cancellationToken)
    {
        using var data = await SendAsync("config", () => new HttpRequestMessage(HttpMethod.Get, Path("config")), cancellationToken);
        return BotConfig.Parse(data.RootElement);
    }

    /// <summary>Reports a status; returns the status the API now holds.</summary>
    public async Task<string> ReportStatusAsync(string code, string? errorCode, string? errorMessage, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.Serialize(new Dictionary<string, string?> { ["code"] = code, ["error_code"] = errorCode, ["error_message"] = errorMessage });
        using var data = await SendAsync("status " + code, () => Json(HttpMethod.Post, Path("status"), body), cancellationToken);
        return data.RootElement.TryGetProperty("status", out var s) ? s.GetString() ?? code : code;
    }

    public async Task<HeartbeatReply> HeartbeatAsync(CancellationToken cancellationToken)
    {
        using var data = await SendAsync("heartbeat", () => Json(HttpMethod.Post, Path("heartbeat"), "{}"), cancellationToken);
        var root = data.RootElement;
        var chat = new List<string>();
        if (root.TryGetProperty("pending_chat_messages", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            chat.AddRange(list.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!));
        }

        return new HeartbeatReply(
            root.TryGetProperty("should_leave", out var leave) && leave.ValueKind == JsonValueKind.True,
            chat,
            root.TryGetProperty("recording_paused", out var paused) && paused.ValueKind == JsonValueKind.True);
    }

    /// <summary>Posts a batch of events (participant_join, participant_leave, speaker_change, chat_message).</summary>
    public async Task PostEventsAsync(IReadOnlyList<object> events, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.Serialize(new { events });
        using var _ = await SendAsync("events", () => Json(HttpMethod.Post, Path("events"), body), cancellationToken);
    }

    /// <summary>Uploads a file as an artifact (the API stores logs in the logs bucket/directory).</summary>
    public async Task UploadArtifactAsync(string kind, string name, byte[] content, string contentType, CancellationToken cancellationToken)
    {
        var path = Path($"artifacts?kind={Uri.EscapeDataString(kind)}&name={Uri.EscapeDataString(name)}");
        using var _ = await SendAsync("artifact " + name, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(content) };
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            return request;
        }, cancellationToken);
    }

    public void Dispose() => _http.Dispose();

    private string Path(string rest) => $"internal/bots/{_botId}/{rest}";

    private static HttpRequestMessage Json(HttpMethod method, string path, string body) =>
        new(method, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };

    /// <summary>Sends with retries; returns the envelope's <c>data</c> as a document the caller disposes.</summary>
    private async Task<JsonDocument> SendAsync(string what, Func<HttpRequestMessage> build, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var delay = FirstDelay;
        for (var attempt = 1; ; attempt++)
        {
            string failure;
            Exception? error = null;
            try
            {
                using var request = build();
                using var response = await _http.SendAsync(request, cancellationToken);
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    using var envelope = JsonDocument.Parse(text.Length == 0 ? "{}" : text);
                    var data = envelope.RootElement.TryGetProperty("data", out var d) ? d.GetRawText() : "{}";
                    return JsonDocument.Parse(data);
                }

                var status = (int)response.StatusCode;
                if (status is >= 400 and < 500 and not 429 and not 408)
                {
                    throw new BotApiException(response.StatusCode, ErrorCode(text), $"{what}: the API answered {status}: {Truncate(text)}");
                }

                failure = $"HTTP {status}";
            }
            catch (HttpRequestException ex)
            {
                failure = ex.Message;
                error = ex;
            }
            catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                failure = "request timed out";
                error = ex;
            }
            catch (JsonException ex)
            {
                // A proxy's HTML error page in front of the API: an outage, not an answer.
                failure = "response was not JSON";
                error = ex;
            }

            var elapsed = _time.GetElapsedTime(started);
            if (elapsed + delay > _budget)
            {
                LogGaveUp(_logger, what, attempt, failure);
                throw new BotApiUnavailableException($"{what}: the API was unavailable for {elapsed.TotalSeconds:0.#}s ({attempt} attempts; last: {failure}).", error);
            }

            LogRetry(_logger, what, attempt, failure, (int)delay.TotalMilliseconds);
            await Task.Delay(delay, _time, cancellationToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));
        }
    }

    private static string? ErrorCode(string text)
    {
        try
        {
            using var json = JsonDocument.Parse(text);
            return json.RootElement.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Truncate(string text) => text.Length <= 500 ? text : text[..500] + "...";

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "API call {What} failed (attempt {Attempt}: {Failure}); retrying in {DelayMs} ms")]
    private static partial void LogRetry(ILogger logger, string what, int attempt, string failure, int delayMs);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Error, Message = "API call {What} gave up after {Attempt} attempt(s): {Failure}")]
    private static partial void LogGaveUp(ILogger logger, string what, int attempt, string failure);
}
