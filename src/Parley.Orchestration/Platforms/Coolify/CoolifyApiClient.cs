using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Parley.Orchestration.Platforms.Coolify;

/// <summary>
/// The few Coolify v4 API calls the pool needs (paths relative to COOLIFY_API_URL, which ends in /api/v1):
/// GET /applications, POST /applications/dockerimage, PATCH /applications/{uuid} (description),
/// PATCH /applications/{uuid}/envs/bulk, GET /applications/{uuid}/start|stop, DELETE /applications/{uuid}.
/// </summary>
public sealed class CoolifyApiClient : IDisposable
{
    public const string SlotNamePrefix = "parley-slot-";

    private readonly HttpClient _http;
    private readonly CoolifyOptions _options;

    public CoolifyApiClient(CoolifyOptions options, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        var baseUrl = options.ApiUrl ?? throw new InvalidOperationException("COOLIFY_API_URL is not set.");
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        // A trailing slash makes relative paths extend /api/v1 instead of replacing its last segment.
        _http.BaseAddress = new Uri(baseUrl.OriginalString.TrimEnd('/') + "/");
        _http.Timeout = TimeSpan.FromSeconds(30);
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiToken);
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
    }

    /// <summary>The pool's slots: applications whose description carries the slot marker.</summary>
    public async Task<IReadOnlyList<CoolifySlot>> ListSlotsAsync(CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(new Uri("applications", UriKind.Relative), cancellationToken);
        await EnsureAsync(response, "list applications", cancellationToken);
        var list = await response.Content.ReadFromJsonAsync<JsonArray>(cancellationToken) ?? [];
        var slots = new List<CoolifySlot>();
        foreach (var item in list)
        {
            var name = (string?)item?["name"] ?? "";
            if (!name.StartsWith(SlotNamePrefix, StringComparison.Ordinal) || SlotRecord.Parse((string?)item?["description"]) is not { } record)
            {
                continue;
            }

            slots.Add(new CoolifySlot((string)item!["uuid"]!, name, (string?)item["status"], record));
        }

        return slots;
    }

    /// <summary>Creates a slot application from the bot image without deploying it; returns its uuid.</summary>
    public async Task<string> CreateSlotAsync(string name, SlotRecord record, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["project_uuid"] = _options.ProjectUuid,
            ["server_uuid"] = _options.ServerUuid,
            ["environment_name"] = _options.EnvironmentName,
            ["docker_registry_image_name"] = _options.BotImage,
            ["docker_registry_image_tag"] = _options.BotImageTag,
            // Required by the API; a bot serves nothing, so no domain is attached to it.
            ["ports_exposes"] = "3001",
            ["name"] = name,
            ["description"] = record.ToDescription(),
            ["instant_deploy"] = false,
        };
        if (!string.IsNullOrWhiteSpace(_options.DestinationUuid))
        {
            body["destination_uuid"] = _options.DestinationUuid;
        }

        using var response = await _http.PostAsJsonAsync(new Uri("applications/dockerimage", UriKind.Relative), body, cancellationToken);
        await EnsureAsync(response, "create slot " + name, cancellationToken);
        var created = await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken);
        return (string?)created?["uuid"] ?? throw new InvalidOperationException("Coolify created " + name + " without returning its uuid.");
    }

    public async Task SetRecordAsync(string uuid, SlotRecord record, CancellationToken cancellationToken)
    {
        using var response = await _http.PatchAsJsonAsync(Path(uuid), new JsonObject { ["description"] = record.ToDescription() }, cancellationToken);
        await EnsureAsync(response, "update slot " + uuid, cancellationToken);
    }

    public async Task SetEnvironmentAsync(string uuid, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        var data = new JsonArray();
        foreach (var (key, value) in environment)
        {
            data.Add(new JsonObject { ["key"] = key, ["value"] = value, ["is_preview"] = false });
        }

        using var response = await _http.PatchAsJsonAsync(Path(uuid, "/envs/bulk"), new JsonObject { ["data"] = data }, cancellationToken);
        await EnsureAsync(response, "set the environment of slot " + uuid, cancellationToken);
    }

    /// <summary>Start deploys the application with its current environment (a plain restart would keep the old one).</summary>
    public Task StartAsync(string uuid, CancellationToken cancellationToken) => ActionAsync(uuid, "start", cancellationToken);

    public Task StopAsync(string uuid, CancellationToken cancellationToken) => ActionAsync(uuid, "stop", cancellationToken);

    public async Task DeleteAsync(string uuid, CancellationToken cancellationToken)
    {
        using var response = await _http.DeleteAsync(Path(uuid), cancellationToken);
        if (response.StatusCode != HttpStatusCode.NotFound)
        {
            await EnsureAsync(response, "delete slot " + uuid, cancellationToken);
        }
    }

    private async Task ActionAsync(string uuid, string action, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(Path(uuid, "/" + action), cancellationToken);
        await EnsureAsync(response, action + " slot " + uuid, cancellationToken);
    }

    private static Uri Path(string uuid, string suffix = "") =>
        new("applications/" + Uri.EscapeDataString(uuid) + suffix, UriKind.Relative);

    private static async Task EnsureAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (text.Length > 300)
        {
            text = text[..300];
        }

        throw new HttpRequestException($"Coolify: {what} failed with {(int)response.StatusCode}: {text}", null, response.StatusCode);
    }

    public void Dispose() => _http.Dispose();
}
