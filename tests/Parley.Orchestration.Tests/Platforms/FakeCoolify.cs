using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Parley.Orchestration.Platforms.Coolify;

namespace Parley.Orchestration.Tests.Platforms;

/// <summary>
/// The Coolify v4 endpoints the pool uses, in memory: it keeps the applications (name, description, status,
/// environment, start/stop counts) and records every request that does not look like what Coolify expects
/// (bearer token, project/server/environment/destination of a creation, a slot environment without BOT_ID
/// or with a POOL_SLOT_UUID that is not the slot's) in <see cref="Problems"/>, which tests assert is empty.
/// </summary>
internal sealed class FakeCoolify : IAsyncDisposable
{
    public const string Token = "coolify-test-token";
    public const string Project = "project-1";
    public const string Server = "server-1";
    public const string Environment = "staging";
    public const string Destination = "destination-1";

    private readonly WebApplication _app;
    private int _next;

    private FakeCoolify(WebApplication app) => _app = app;

    public ConcurrentDictionary<string, FakeApplication> Applications { get; } = new();

    public ConcurrentQueue<string> Problems { get; } = new();

    /// <summary>Slots whose next start (or every stop) answers 500.</summary>
    public ConcurrentDictionary<string, bool> FailNextStart { get; } = new();

    public ConcurrentDictionary<string, bool> FailStop { get; } = new();

    public Uri ApiUrl => new(_app.Urls.First() + "/api/v1");

    public CoolifyOptions Options(int recoveryMs = 300000) => new()
    {
        ApiUrl = ApiUrl,
        ApiToken = Token,
        ProjectUuid = Project,
        ServerUuid = Server,
        EnvironmentName = Environment,
        DestinationUuid = Destination,
        BotImage = "registry.test/parley",
        BotImageTag = "1.2.3",
        RecoveryIntervalMs = recoveryMs,
    };

    public FakeApplication Seed(SlotRecord record)
    {
        var uuid = "seed" + Interlocked.Increment(ref _next);
        var app = new FakeApplication(uuid, CoolifyApiClient.SlotNamePrefix + uuid) { Description = record.ToDescription() };
        Applications[uuid] = app;
        return app;
    }

    public SlotRecord RecordOf(string uuid) => SlotRecord.Parse(Applications[uuid].Description)!;

    public static async Task<FakeCoolify> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var fake = new FakeCoolify(app);
        var api = app.MapGroup("/api/v1").AddEndpointFilter(async (context, next) =>
        {
            if (context.HttpContext.Request.Headers.Authorization.ToString() != "Bearer " + Token)
            {
                fake.Problems.Enqueue("missing or wrong bearer token on " + context.HttpContext.Request.Path);
                return Results.Unauthorized();
            }

            return await next(context);
        });
        api.MapGet("/applications", () => Results.Json(new JsonArray([.. fake.Applications.Values.Select(a => (JsonNode)a.ToJson())])));
        api.MapPost("/applications/dockerimage", (JsonObject body) => fake.Create(body));
        api.MapPatch("/applications/{uuid}", (string uuid, JsonObject body) => fake.Update(uuid, a => a.Description = (string?)body["description"]));
        api.MapPatch("/applications/{uuid}/envs/bulk", (string uuid, JsonObject body) => fake.SetEnvironment(uuid, body));
        api.MapGet("/applications/{uuid}/start", (string uuid) => fake.FailNextStart.TryRemove(uuid, out _)
            ? Results.Problem("start failed", statusCode: 500)
            : fake.Update(uuid, a => { a.Status = "running:healthy"; a.Starts++; }));
        api.MapGet("/applications/{uuid}/stop", (string uuid) => fake.FailStop.ContainsKey(uuid)
            ? Results.Problem("stop failed", statusCode: 500)
            : fake.Update(uuid, a => { a.Status = "exited"; a.Stops++; }));
        api.MapDelete("/applications/{uuid}", (string uuid) => fake.Applications.TryRemove(uuid, out _) ? Results.Ok(new { message = "deleted" }) : Results.NotFound());
        await app.StartAsync();
        return fake;
    }

    private IResult Create(JsonObject body)
    {
        foreach (var (field, expected) in new[] { ("project_uuid", Project), ("server_uuid", Server), ("environment_name", Environment), ("destination_uuid", Destination), ("docker_registry_image_name", "registry.test/parley"), ("docker_registry_image_tag", "1.2.3") })
        {
            if ((string?)body[field] != expected)
            {
                Problems.Enqueue($"create: {field} was {body[field]?.ToJsonString() ?? "missing"}, expected {expected}");
            }
        }

        if (string.IsNullOrEmpty((string?)body["ports_exposes"]))
        {
            Problems.Enqueue("create: ports_exposes is required");
        }

        var uuid = "app" + Interlocked.Increment(ref _next);
        Applications[uuid] = new FakeApplication(uuid, (string?)body["name"] ?? uuid) { Description = (string?)body["description"] };
        return Results.Created("/api/v1/applications/" + uuid, new { uuid });
    }

    private IResult SetEnvironment(string uuid, JsonObject body)
    {
        var data = body["data"]?.AsArray() ?? [];
        var values = data.ToDictionary(e => (string)e!["key"]!, e => (string?)e!["value"] ?? "");
        if (!values.ContainsKey("BOT_ID"))
        {
            Problems.Enqueue("envs: BOT_ID missing for " + uuid);
        }

        if (values.GetValueOrDefault("POOL_SLOT_UUID") != uuid)
        {
            Problems.Enqueue($"envs: POOL_SLOT_UUID was {values.GetValueOrDefault("POOL_SLOT_UUID")}, expected {uuid}");
        }

        return Update(uuid, a => a.Environment = values);
    }

    private IResult Update(string uuid, Action<FakeApplication> change)
    {
        if (!Applications.TryGetValue(uuid, out var app))
        {
            return Results.NotFound(new { message = "Application not found." });
        }

        lock (app)
        {
            change(app);
        }

        return Results.Ok(new { uuid });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

internal sealed class FakeApplication(string uuid, string name)
{
    public string Uuid => uuid;

    public string Name => name;

    public string? Description { get; set; }

    public string Status { get; set; } = "exited";

    public Dictionary<string, string> Environment { get; set; } = [];

    public int Starts { get; set; }

    public int Stops { get; set; }

    public JsonObject ToJson() => new() { ["uuid"] = Uuid, ["name"] = Name, ["description"] = Description, ["status"] = Status };
}
