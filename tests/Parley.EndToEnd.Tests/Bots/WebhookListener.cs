using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Parley.EndToEnd.Tests.Bots;

/// <summary>One request the listener received: what a webhook receiver sees.</summary>
internal sealed record ReceivedWebhook(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public string? Event => JsonNode.Parse(Body)?["event"]?.GetValue<string>();
}

/// <summary>
/// A webhook receiver on 127.0.0.1 (HttpListener): records every request and answers 200. It checks signatures the
/// way a client of API.md would (Standard Webhooks), with no Parley code: HMAC-SHA256 of "id.timestamp.body" under
/// the secret (a whsec_ secret carries its key in base64), compared in constant time with each v1 signature.
/// </summary>
internal sealed class WebhookListener : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly List<ReceivedWebhook> _received = [];
    private readonly Lock _gate = new();
    private readonly Task _loop;

    public WebhookListener()
    {
        // A free port: bind a TcpListener to port 0, release it, and listen there (retry on the rare race).
        for (var attempt = 0; ; attempt++)
        {
            var port = Parley.Testing.ParleyProcess.FreePort();
            _listener.Prefixes.Clear();
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                _listener.Start();
                Url = $"http://127.0.0.1:{port}/callback";
                break;
            }
            catch (HttpListenerException) when (attempt < 20)
            {
            }
        }

        _loop = Task.Run(LoopAsync);
    }

    public string Url { get; }

    public IReadOnlyList<ReceivedWebhook> Received
    {
        get
        {
            lock (_gate)
            {
                return [.. _received];
            }
        }
    }

    public static bool VerifySignature(ReceivedWebhook webhook, string secret, out string problem)
    {
        var id = webhook.Header("webhook-id");
        var timestamp = webhook.Header("webhook-timestamp");
        var signatures = webhook.Header("webhook-signature");
        if (id is null || timestamp is null || signatures is null)
        {
            problem = $"missing Standard Webhooks headers: webhook-id={id}, webhook-timestamp={timestamp}, webhook-signature={signatures}";
            return false;
        }

        if (!long.TryParse(timestamp, out var seconds) || Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - seconds) > 15 * 60)
        {
            problem = $"webhook-timestamp {timestamp} is not a Unix time within 15 minutes of now";
            return false;
        }

        var key = secret.StartsWith("whsec_", StringComparison.Ordinal) ? Convert.FromBase64String(secret["whsec_".Length..]) : Encoding.UTF8.GetBytes(secret);
        var expected = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{webhook.Body}"));
        foreach (var part in signatures.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var comma = part.IndexOf(',', StringComparison.Ordinal);
            if (comma > 0 && part[..comma] == "v1")
            {
                try
                {
                    if (CryptographicOperations.FixedTimeEquals(expected, Convert.FromBase64String(part[(comma + 1)..])))
                    {
                        problem = string.Empty;
                        return true;
                    }
                }
                catch (FormatException)
                {
                    // not base64: not a match
                }
            }
        }

        problem = $"no v1 signature in '{signatures}' matches HMAC-SHA256 over id.timestamp.body ({Convert.ToBase64String(expected)})";
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
        {
        }

        _listener.Close();
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            try
            {
                using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
                var body = await reader.ReadToEndAsync();
                var headers = context.Request.Headers.AllKeys.Where(k => k is not null)
                    .ToDictionary(k => k!, k => context.Request.Headers[k] ?? string.Empty, StringComparer.OrdinalIgnoreCase);
                lock (_gate)
                {
                    _received.Add(new ReceivedWebhook(context.Request.HttpMethod, context.Request.Url?.AbsolutePath ?? "", headers, body));
                }

                context.Response.StatusCode = 200;
            }
            finally
            {
                context.Response.Close();
            }
        }
    }
}
