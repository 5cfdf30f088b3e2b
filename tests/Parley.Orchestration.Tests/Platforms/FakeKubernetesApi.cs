using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Parley.Orchestration.Tests.Platforms;

/// <summary>
/// The part of a Kubernetes API server the k8s platform uses (create, list and delete Jobs; create, replace,
/// merge-patch, list and delete Secrets; list pods), on 127.0.0.1, with a kubeconfig pointing at it. Like the
/// real garbage collector, deleting a Job deletes the Secrets it owns. It keeps the Jobs it receives and records every
/// request, so tests assert on what the real client sent. Pods are made up from the Jobs: their container
/// is waiting until <see cref="PodsStarted"/>, or fails to pull when <see cref="PullError"/> is set.
/// </summary>
internal sealed class FakeKubernetesApi : IAsyncDisposable
{
    public const string Token = "fake-token-for-tests";

    private readonly WebApplication _app;
    private readonly string _directory = Directory.CreateTempSubdirectory("parley-k8s-").FullName;

    private FakeKubernetesApi(WebApplication app)
    {
        _app = app;
    }

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    /// <summary>Jobs by namespace/name, as received (tests add a status to finish them).</summary>
    public ConcurrentDictionary<string, JsonObject> Jobs { get; } = new(StringComparer.Ordinal);

    /// <summary>Secrets by namespace/name, as stored (tests add old ones to check orphan removal).</summary>
    public ConcurrentDictionary<string, JsonObject> Secrets { get; } = new(StringComparer.Ordinal);

    public volatile bool PodsStarted;

    /// <summary>Job creations answer 403, as for a namespace the service account may not use.</summary>
    public volatile bool RefuseJobs;

    public Uri Address { get; private set; } = null!;

    public volatile string? PullError;

    public string KubeConfigPath => Path.Combine(_directory, "kubeconfig");

    public IEnumerable<RecordedRequest> Where(string method, string pathPart) =>
        Requests.Where(r => r.Method == method && r.Path.Contains(pathPart, StringComparison.Ordinal));

    public static async Task<FakeKubernetesApi> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var fake = new FakeKubernetesApi(app);
        app.Run(fake.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        fake.Address = new Uri(address);
        await File.WriteAllTextAsync(fake.KubeConfigPath, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: fake
              cluster:
                server: {address}
            contexts:
            - name: fake
              context:
                cluster: fake
                user: fake
            current-context: fake
            users:
            - name: fake
              user:
                token: {Token}
            """);
        return fake;
    }

    /// <summary>Sets a Job's status condition, as the Job controller does when its pod ends.</summary>
    public void Finish(string jobName, bool succeeded, string reason = "BackoffLimitExceeded", string message = "Job has reached the specified backoff limit")
    {
        var job = Jobs.Single(j => j.Key.EndsWith("/" + jobName, StringComparison.Ordinal)).Value;
        job["status"] = new JsonObject
        {
            ["conditions"] = new JsonArray(new JsonObject
            {
                ["type"] = succeeded ? "Complete" : "Failed",
                ["status"] = "True",
                ["reason"] = succeeded ? null : reason,
                ["message"] = succeeded ? null : message,
            }),
        };
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        string body;
        using (var reader = new StreamReader(request.Body))
        {
            body = await reader.ReadToEndAsync();
        }

        var recorded = new RecordedRequest(request.Method, request.Path.Value ?? "", request.Query.ToDictionary(q => q.Key, q => q.Value.ToString()), body, request.Headers.Authorization.ToString());
        Requests.Enqueue(recorded);
        var segments = recorded.Path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        // /apis/batch/v1/namespaces/{ns}/jobs[/{name}] and /api/v1/namespaces/{ns}/pods
        if (segments is ["apis", "batch", "v1", "namespaces", _, "jobs"] && request.Method == "POST" && RefuseJobs)
        {
            await WriteAsync(context, HttpStatusCode.Forbidden, Status(403, "Forbidden", "jobs.batch is forbidden"));
        }
        else if (segments is ["apis", "batch", "v1", "namespaces", var ns, "jobs"] && request.Method == "POST")
        {
            var job = JsonNode.Parse(body)!.AsObject();
            var name = job["metadata"]!["name"]!.GetValue<string>();
            job["metadata"]!["uid"] = Guid.NewGuid().ToString();
            job["metadata"]!["creationTimestamp"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
            if (!Jobs.TryAdd($"{ns}/{name}", job))
            {
                await WriteAsync(context, HttpStatusCode.Conflict, Status(409, "AlreadyExists", $"jobs.batch \"{name}\" already exists"));
                return;
            }

            await WriteAsync(context, HttpStatusCode.Created, job);
        }
        else if (segments is ["apis", "batch", "v1", "namespaces", var listNs, "jobs"] && request.Method == "GET")
        {
            var items = Jobs.Where(j => j.Key.StartsWith(listNs + "/", StringComparison.Ordinal) && Matches(j.Value["metadata"]?["labels"], recorded.Query.GetValueOrDefault("labelSelector")))
                .Select(j => j.Value.DeepClone()).ToArray();
            await WriteAsync(context, HttpStatusCode.OK, new JsonObject { ["apiVersion"] = "batch/v1", ["kind"] = "JobList", ["metadata"] = new JsonObject(), ["items"] = new JsonArray(items) });
        }
        else if (segments is ["apis", "batch", "v1", "namespaces", var deleteNs, "jobs", var deleteName] && request.Method == "DELETE")
        {
            var removed = Jobs.TryRemove($"{deleteNs}/{deleteName}", out var deleted);
            if (removed)
            {
                var uid = deleted!["metadata"]!["uid"]!.GetValue<string>();
                foreach (var owned in Secrets.Where(e => e.Value["metadata"]?["ownerReferences"]?.AsArray().Any(o => (string?)o!["uid"] == uid) == true).ToList())
                {
                    Secrets.TryRemove(owned.Key, out _);
                }
            }

            await WriteAsync(context, removed ? HttpStatusCode.OK : HttpStatusCode.NotFound,
                removed ? Status(200, null, null) : Status(404, "NotFound", $"jobs.batch \"{deleteName}\" not found"));
        }
        else if (segments is ["api", "v1", "namespaces", var secretNs, "secrets"] && request.Method == "POST")
        {
            var secret = JsonNode.Parse(body)!.AsObject();
            var name = secret["metadata"]!["name"]!.GetValue<string>();
            secret["metadata"]!["creationTimestamp"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
            if (!Secrets.TryAdd($"{secretNs}/{name}", secret))
            {
                await WriteAsync(context, HttpStatusCode.Conflict, Status(409, "AlreadyExists", $"secrets \"{name}\" already exists"));
                return;
            }

            await WriteAsync(context, HttpStatusCode.Created, secret);
        }
        else if (segments is ["api", "v1", "namespaces", var putNs, "secrets", var putName] && request.Method == "PUT")
        {
            var secret = JsonNode.Parse(body)!.AsObject();
            secret["metadata"]!["creationTimestamp"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
            Secrets[$"{putNs}/{putName}"] = secret;
            await WriteAsync(context, HttpStatusCode.OK, secret);
        }
        else if (segments is ["api", "v1", "namespaces", var patchNs, "secrets", var patchName] && request.Method == "PATCH")
        {
            if (request.ContentType?.StartsWith("application/merge-patch+json", StringComparison.Ordinal) != true)
            {
                await WriteAsync(context, HttpStatusCode.UnsupportedMediaType, Status(415, "UnsupportedMediaType", "the fake takes merge patches only, not " + request.ContentType));
                return;
            }

            if (!Secrets.TryGetValue($"{patchNs}/{patchName}", out var secret))
            {
                await WriteAsync(context, HttpStatusCode.NotFound, Status(404, "NotFound", $"secrets \"{patchName}\" not found"));
                return;
            }

            lock (secret)
            {
                MergePatch(secret, JsonNode.Parse(body)!.AsObject());
            }

            await WriteAsync(context, HttpStatusCode.OK, secret.DeepClone());
        }
        else if (segments is ["api", "v1", "namespaces", var deleteSecretNs, "secrets", var deleteSecretName] && request.Method == "DELETE")
        {
            var removed = Secrets.TryRemove($"{deleteSecretNs}/{deleteSecretName}", out _);
            await WriteAsync(context, removed ? HttpStatusCode.OK : HttpStatusCode.NotFound,
                removed ? Status(200, null, null) : Status(404, "NotFound", $"secrets \"{deleteSecretName}\" not found"));
        }
        else if (segments is ["api", "v1", "namespaces", var listSecretNs, "secrets"] && request.Method == "GET")
        {
            var items = Secrets.Where(j => j.Key.StartsWith(listSecretNs + "/", StringComparison.Ordinal) && Matches(j.Value["metadata"]?["labels"], recorded.Query.GetValueOrDefault("labelSelector")))
                .Select(j => j.Value.DeepClone()).ToArray();
            await WriteAsync(context, HttpStatusCode.OK, new JsonObject { ["apiVersion"] = "v1", ["kind"] = "SecretList", ["metadata"] = new JsonObject(), ["items"] = new JsonArray(items) });
        }
        else if (segments is ["api", "v1", "namespaces", var podNs, "pods"] && request.Method == "GET")
        {
            var pods = Jobs.Where(j => j.Key.StartsWith(podNs + "/", StringComparison.Ordinal)).Select(j => Pod(j.Value))
                .Where(p => Matches(p["metadata"]!["labels"], recorded.Query.GetValueOrDefault("labelSelector"))).ToArray();
            await WriteAsync(context, HttpStatusCode.OK, new JsonObject { ["apiVersion"] = "v1", ["kind"] = "PodList", ["metadata"] = new JsonObject(), ["items"] = new JsonArray(pods) });
        }
        else
        {
            await WriteAsync(context, HttpStatusCode.NotFound, Status(404, "NotFound", "the fake does not serve " + recorded.Path));
        }
    }

    private JsonObject Pod(JsonObject job)
    {
        var name = job["metadata"]!["name"]!.GetValue<string>();
        var labels = job["spec"]!["template"]!["metadata"]!["labels"]!.DeepClone().AsObject();
        labels["job-name"] = name;
        var image = job["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.GetValue<string>();
        JsonObject state = PodsStarted
            ? new JsonObject { ["running"] = new JsonObject { ["startedAt"] = "2026-01-01T00:00:00Z" } }
            : new JsonObject { ["waiting"] = new JsonObject { ["reason"] = PullError ?? "ContainerCreating", ["message"] = PullError is null ? null : "pull access denied" } };
        return new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = name + "-abcde", ["labels"] = labels },
            ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "bot", ["image"] = image }) },
            ["status"] = new JsonObject
            {
                ["phase"] = PodsStarted ? "Running" : "Pending",
                ["containerStatuses"] = new JsonArray(new JsonObject { ["name"] = "bot", ["image"] = image, ["ready"] = PodsStarted, ["restartCount"] = 0, ["imageID"] = "", ["state"] = state }),
            },
        };
    }

    /// <summary>RFC 7386: objects merge recursively, null removes a member, anything else replaces it.</summary>
    private static void MergePatch(JsonObject target, JsonObject patch)
    {
        foreach (var (key, value) in patch.ToList())
        {
            if (value is null)
            {
                target.Remove(key);
            }
            else if (value is JsonObject patchObject && target[key] is JsonObject targetObject)
            {
                MergePatch(targetObject, patchObject);
            }
            else
            {
                target[key] = value.DeepClone();
            }
        }
    }

    /// <summary>Equality selectors only (`a=b,c=d`): all the platform uses.</summary>
    private static bool Matches(JsonNode? labels, string? selector)
    {
        if (string.IsNullOrEmpty(selector))
        {
            return true;
        }

        return selector.Split(',').All(term =>
        {
            var parts = term.Split('=', 2);
            return labels?[parts[0]]?.GetValue<string>() == parts[1];
        });
    }

    private static JsonObject Status(int code, string? reason, string? message) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = code < 400 ? "Success" : "Failure",
        ["reason"] = reason,
        ["message"] = message,
        ["code"] = code,
    };

    private static async Task WriteAsync(HttpContext context, HttpStatusCode status, JsonNode body)
    {
        context.Response.StatusCode = (int)status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}

internal sealed record RecordedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Query, string Body, string Authorization);
