using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;

namespace Parley.Orchestration.Platforms.Ecs;

/// <summary>An error answer of the ECS API: its type (`ClusterNotFoundException`...) and message.</summary>
public sealed class EcsException(string errorType, string message, HttpStatusCode status) : Exception($"ECS {errorType}: {message}")
{
    public string ErrorType { get; } = errorType;

    public HttpStatusCode Status { get; } = status;
}

/// <summary>
/// The ECS JSON 1.1 protocol: every action is `POST /` with `X-Amz-Target:
/// AmazonEC2ContainerServiceV20141113.{Action}` and a JSON body, signed with SigV4 for service `ecs`.
/// Only the handful of actions the platform (and its tests) need; the JSON stays JsonNode because we read
/// a few fields of large documents.
/// </summary>
public sealed class EcsClient : IDisposable
{
    private const string TargetPrefix = "AmazonEC2ContainerServiceV20141113.";
    private static readonly MediaTypeHeaderValue JsonType = new("application/x-amz-json-1.1");

    private readonly HttpClient _http;
    private readonly Uri _endpoint;
    private readonly string _region;
    private readonly AWSCredentials? _configured;
    private readonly TimeProvider _time;

    /// <param name="endpoint">A custom endpoint (moto); null: ecs.{region}.amazonaws.com.</param>
    /// <param name="credentials">Explicit keys; null: the SDK's default chain (task role, profile, web identity).</param>
    public EcsClient(string region, Uri? endpoint, AWSCredentials? credentials, TimeProvider? time = null, HttpMessageHandler? handler = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(region);
        _region = region;
        _endpoint = endpoint ?? new Uri($"https://ecs.{region}.amazonaws.com/");
        _configured = credentials;
        _time = time ?? TimeProvider.System;
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = TimeSpan.FromSeconds(30);
    }

    /// <summary>Calls one action and returns its JSON answer; throws <see cref="EcsException"/> on an error answer.</summary>
    public async Task<JsonObject> SendAsync(string action, JsonObject body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        var payload = Encoding.UTF8.GetBytes(body.ToJsonString());
        var credentials = await CredentialsAsync(cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        var headers = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["host"] = _endpoint.Authority,
            ["x-amz-date"] = AwsRequestSigner.AmzDate(now),
            ["x-amz-target"] = TargetPrefix + action,
            ["content-type"] = JsonType.MediaType!,
        };
        if (credentials.SessionToken is not null)
        {
            headers["x-amz-security-token"] = credentials.SessionToken;
        }

        var path = _endpoint.AbsolutePath;
        var authorization = AwsRequestSigner.Authorization("POST", path, "", headers, AwsRequestSigner.Sha256Hex(payload), credentials, _region, "ecs", now);

        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint);
        request.Headers.TryAddWithoutValidation("X-Amz-Date", headers["x-amz-date"]);
        request.Headers.TryAddWithoutValidation("X-Amz-Target", headers["x-amz-target"]);
        if (credentials.SessionToken is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Amz-Security-Token", credentials.SessionToken);
        }

        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        request.Content = new ByteArrayContent(payload);
        request.Content.Headers.ContentType = JsonType;

        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        JsonNode? json = null;
        try
        {
            json = text.Length == 0 ? new JsonObject() : JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            // An HTML error page from a proxy: reported below with the status.
        }

        if (!response.IsSuccessStatusCode || json is not JsonObject result)
        {
            // `__type` is "ClusterNotFoundException" or "com.amazonaws...#ClusterNotFoundException".
            var type = json?["__type"]?.GetValue<string>() ?? response.StatusCode.ToString();
            var message = json?["message"]?.GetValue<string>() ?? json?["Message"]?.GetValue<string>() ?? Truncate(text);
            throw new EcsException(type[(type.LastIndexOf('#') + 1)..], message, response.StatusCode);
        }

        return result;
    }

    private async Task<AwsSigningCredentials> CredentialsAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        // The default chain caches and refreshes role credentials itself; asking it per call is cheap.
        var source = _configured ?? await DefaultAWSCredentialsIdentityResolver.GetCredentialsAsync().ConfigureAwait(false);
        var keys = await source.GetCredentialsAsync().ConfigureAwait(false);
        return new AwsSigningCredentials(keys.AccessKey, keys.SecretKey, string.IsNullOrEmpty(keys.Token) ? null : keys.Token);
    }

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "...";

    public void Dispose() => _http.Dispose();
}
