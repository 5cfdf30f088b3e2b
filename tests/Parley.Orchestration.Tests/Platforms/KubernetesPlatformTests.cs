using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.Core.Configuration;
using Parley.Orchestration.Platforms;
using Parley.Orchestration.Platforms.Kubernetes;

namespace Parley.Orchestration.Tests.Platforms;

/// <summary>The k8s platform through the real KubernetesClient against an in-test API server.</summary>
public sealed class KubernetesPlatformTests
{
    private static readonly Dictionary<string, string> Environment = new(StringComparer.Ordinal)
    {
        ["BOT_ID"] = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        ["BOT_TOKEN"] = "pbt_secret",
        ["PARLEY_API_URL"] = "http://parley-api.parley:3001",
        ["S3_BUCKET_NAME"] = "recordings",
        ["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE",
        ["AWS_SECRET_ACCESS_KEY"] = "aws-secret-value",
    };

    /// <summary>What BotEnvironment marks as credentials besides BOT_TOKEN (settings declared secret).</summary>
    private static readonly HashSet<string> SecretNames = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];

    private static BotDeploymentRequest Request(string botId, string platform = "zoom") =>
        new(botId, platform, new Dictionary<string, string>(Environment) { ["BOT_ID"] = botId }, SecretNames);

    private static KubernetesPlatform Platform(FakeKubernetesApi api, Action<Dictionary<string, string>>? settings = null)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["K8S_KUBECONFIG"] = api.KubeConfigPath,
            ["K8S_IMAGE_PULL_LOCK_ENABLED"] = "false",
        };
        settings?.Invoke(values);
        var bound = SettingsBinder.Bind([typeof(KubernetesOptions)], name => values.GetValueOrDefault(name));
        Assert.True(bound.IsValid, string.Join("; ", bound.Problems));
        return new KubernetesPlatform(bound.Get<KubernetesOptions>(), NullLogger<KubernetesPlatform>.Instance, TimeSpan.FromMilliseconds(20));
    }

    [Fact]
    public async Task Deploy_creates_one_job_with_the_image_resources_environment_labels_and_limits()
    {
        await using var api = await FakeKubernetesApi.StartAsync();
        using var platform = Platform(api, s =>
        {
            s["K8S_NAMESPACE"] = "bots";
            s["K8S_IMAGE_REGISTRY"] = "registry.example.test/acme/";
            s["K8S_IMAGE_TAG"] = "1.4.2";
            s["K8S_IMAGE_ZOOM"] = "parley-zoom";
            s["K8S_BOT_CPU_REQUEST"] = "250m";
            s["K8S_BOT_CPU_LIMIT"] = "2";
            s["K8S_BOT_MEMORY_REQUEST"] = "512Mi";
            s["K8S_BOT_MEMORY_LIMIT"] = "3Gi";
            s["K8S_JOB_TTL_SECONDS"] = "120";
            s["K8S_IMAGE_PULL_SECRET"] = "registry-login";
        });
        var botId = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

        var identifier = await platform.DeployAsync(Request(botId), CancellationToken.None);

        Assert.Equal("parley-bot-" + botId, identifier);
        var post = Assert.Single(api.Where("POST", "/jobs"));
        Assert.Equal("/apis/batch/v1/namespaces/bots/jobs", post.Path);
        Assert.Equal("Bearer " + FakeKubernetesApi.Token, post.Authorization);
        var job = JsonNode.Parse(post.Body)!;
        Assert.Equal(identifier, (string?)job["metadata"]!["name"]);
        Assert.Equal("bots", (string?)job["metadata"]!["namespace"]);
        foreach (var labels in new[] { job["metadata"]!["labels"]!, job["spec"]!["template"]!["metadata"]!["labels"]! })
        {
            Assert.Equal("parley-bot", (string?)labels["app.kubernetes.io/name"]);
            Assert.Equal(botId, (string?)labels["parley.dev/bot-id"]);
        }

        Assert.Equal(0, (int?)job["spec"]!["backoffLimit"]);
        Assert.Equal(120, (int?)job["spec"]!["ttlSecondsAfterFinished"]);
        var pod = job["spec"]!["template"]!["spec"]!;
        Assert.Equal("Never", (string?)pod["restartPolicy"]);
        Assert.Equal("registry-login", (string?)pod["imagePullSecrets"]![0]!["name"]);
        var container = Assert.Single(pod["containers"]!.AsArray())!;
        Assert.Equal("registry.example.test/acme/parley-zoom:1.4.2", (string?)container["image"]);
        Assert.Equal(["parley"], container["command"]!.AsArray().Select(c => (string?)c));
        Assert.Equal(["bot", "run", "--bot-id", botId], container["args"]!.AsArray().Select(c => (string?)c));
        var resources = container["resources"]!;
        Assert.Equal(0.25m, KubernetesOptions.ParseQuantity((string)resources["requests"]!["cpu"]!));
        Assert.Equal(2m, KubernetesOptions.ParseQuantity((string)resources["limits"]!["cpu"]!));
        Assert.Equal(512m * 1024 * 1024, KubernetesOptions.ParseQuantity((string)resources["requests"]!["memory"]!));
        Assert.Equal(3m * 1024 * 1024 * 1024, KubernetesOptions.ParseQuantity((string)resources["limits"]!["memory"]!));
        var env = container["env"]!.AsArray().ToDictionary(e => (string)e!["name"]!, e => e!);
        Assert.Equal(botId, (string?)env["BOT_ID"]["value"]);
        Assert.Equal("http://parley-api.parley:3001", (string?)env["PARLEY_API_URL"]["value"]);
        Assert.Equal("recordings", (string?)env["S3_BUCKET_NAME"]["value"]);
        // Credentials are references to the bot's Secret, never values in the Job.
        foreach (var name in new[] { "BOT_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY" })
        {
            Assert.Null(env[name]["value"]);
            var reference = env[name]["valueFrom"]!["secretKeyRef"]!;
            Assert.Equal(identifier, (string?)reference["name"]);
            Assert.Equal(name, (string?)reference["key"]);
        }

        Assert.DoesNotContain("pbt_secret", post.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("aws-secret-value", post.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("AKIDEXAMPLE", post.Body, StringComparison.Ordinal);

        // The Secret: created before the Job, same name and labels, the credentials only.
        var secretPost = Assert.Single(api.Where("POST", "/secrets"));
        Assert.Equal("/api/v1/namespaces/bots/secrets", secretPost.Path);
        Assert.True(Array.IndexOf(api.Requests.ToArray(), secretPost) < Array.IndexOf(api.Requests.ToArray(), post), "the Secret exists before the Job");
        var secret = JsonNode.Parse(secretPost.Body)!;
        Assert.Equal(identifier, (string?)secret["metadata"]!["name"]);
        Assert.Equal("bots", (string?)secret["metadata"]!["namespace"]);
        Assert.Equal("Opaque", (string?)secret["type"]);
        Assert.Equal(botId, (string?)secret["metadata"]!["labels"]!["parley.dev/bot-id"]);
        var data = secret["stringData"]!.AsObject().ToDictionary(e => e.Key, e => (string?)e.Value);
        Assert.Equal(new Dictionary<string, string?> { ["BOT_TOKEN"] = "pbt_secret", ["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE", ["AWS_SECRET_ACCESS_KEY"] = "aws-secret-value" }, data);

        // Then owned by the Job (its uid known once created), so Kubernetes deletes it with the Job.
        var patch = Assert.Single(api.Where("PATCH", "/secrets/" + identifier));
        Assert.Equal("/api/v1/namespaces/bots/secrets/" + identifier, patch.Path);
        var stored = api.Secrets["bots/" + identifier];
        var owner = Assert.Single(stored["metadata"]!["ownerReferences"]!.AsArray())!;
        Assert.Equal("batch/v1", (string?)owner["apiVersion"]);
        Assert.Equal("Job", (string?)owner["kind"]);
        Assert.Equal(identifier, (string?)owner["name"]);
        Assert.Equal((string?)api.Jobs["bots/" + identifier]["metadata"]!["uid"], (string?)owner["uid"]);
        Assert.Equal("pbt_secret", (string?)stored["stringData"]!["BOT_TOKEN"]); // the patch kept the data

        // A meeting platform without its own image uses K8S_IMAGE_REPOSITORY.
        await platform.DeployAsync(Request("0193a1b2-c3d4-7e5f-8a9b-000000000002", "meet"), CancellationToken.None);
        var meet = JsonNode.Parse(api.Where("POST", "/jobs").Last().Body)!;
        Assert.Equal("registry.example.test/acme/parley:1.4.2", (string?)meet["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]);
    }

    [Fact]
    public async Task Cancel_deletes_the_job_in_the_background_and_a_missing_job_is_no_error()
    {
        await using var api = await FakeKubernetesApi.StartAsync();
        using var platform = Platform(api);
        var identifier = await platform.DeployAsync(Request("bot-1"), CancellationToken.None);

        await platform.CancelAsync("bot-1", identifier, CancellationToken.None);
        await platform.CancelAsync("bot-1", identifier, CancellationToken.None);
        // The health monitor passes no identifier when it has none: the Job name comes from the bot id.
        await platform.CancelAsync("bot-1", "", CancellationToken.None);

        var deletes = api.Where("DELETE", "/jobs/").ToList();
        Assert.Equal(3, deletes.Count);
        Assert.All(deletes, d =>
        {
            Assert.Equal("/apis/batch/v1/namespaces/parley-bots/jobs/parley-bot-bot-1", d.Path);
            Assert.Equal("Background", d.Query["propagationPolicy"]);
        });
        Assert.Empty(api.Jobs);
        Assert.Empty(api.Secrets);
        Assert.Contains(api.Where("DELETE", "/secrets/parley-bot-bot-1"), d => d.Path == "/api/v1/namespaces/parley-bots/secrets/parley-bot-bot-1");
    }

    [Fact]
    public async Task Secrets_go_with_their_job_and_reconciliation_removes_old_secrets_without_one()
    {
        await using var api = await FakeKubernetesApi.StartAsync();
        using var platform = Platform(api);
        var identifier = await platform.DeployAsync(Request("bot-1"), CancellationToken.None);
        Assert.True(api.Secrets.ContainsKey("parley-bots/" + identifier));

        // Kubernetes' garbage collector: the owned Secret goes with the Job (TTL after it finished).
        api.Jobs.Clear();
        var job = await platform.DeployAsync(Request("bot-2"), CancellationToken.None);
        Assert.True((await Delete(api, job)).IsSuccessStatusCode);
        Assert.False(api.Secrets.ContainsKey("parley-bots/" + job));

        // Left by a deployment that died between the Secret and the Job: removed once old enough, and only then.
        api.Secrets["parley-bots/parley-bot-old"] = Orphan("parley-bot-old", DateTime.UtcNow.AddHours(-1));
        api.Secrets["parley-bots/parley-bot-new"] = Orphan("parley-bot-new", DateTime.UtcNow);

        await platform.ListAsync(CancellationToken.None);

        Assert.False(api.Secrets.ContainsKey("parley-bots/parley-bot-old"));
        Assert.True(api.Secrets.ContainsKey("parley-bots/parley-bot-new"));
        // The Secret of bot-1 lost its Job above but still has its owner: the garbage collector's, not ours.
        Assert.True(api.Secrets.ContainsKey("parley-bots/" + identifier));
        Assert.Equal("app.kubernetes.io/name=parley-bot", api.Where("GET", "/secrets").Last().Query["labelSelector"]);
    }

    [Fact]
    public async Task A_job_that_cannot_be_created_takes_its_secret_with_it()
    {
        await using var api = await FakeKubernetesApi.StartAsync();
        using var platform = Platform(api, s => s["K8S_NAMESPACE"] = "missing");
        api.RefuseJobs = true;

        await Assert.ThrowsAsync<InvalidOperationException>(() => platform.DeployAsync(Request("bot-1"), CancellationToken.None));

        Assert.Single(api.Where("POST", "/secrets"));
        Assert.Single(api.Where("DELETE", "/secrets/parley-bot-bot-1"));
        Assert.Empty(api.Secrets);
    }

    private static async Task<HttpResponseMessage> Delete(FakeKubernetesApi api, string job)
    {
        using var client = new HttpClient();
        return await client.DeleteAsync(new Uri(api.Address, $"/apis/batch/v1/namespaces/parley-bots/jobs/{job}"));
    }

    private static JsonObject Orphan(string name, DateTime created) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Secret",
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["namespace"] = "parley-bots",
            ["creationTimestamp"] = created.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
            ["labels"] = new JsonObject { ["app.kubernetes.io/name"] = "parley-bot" },
        },
        ["stringData"] = new JsonObject { ["BOT_TOKEN"] = "pbt_old" },
    };

    [Fact]
    public async Task List_returns_running_jobs_and_reports_each_finished_job_once()
    {
        await using var api = await FakeKubernetesApi.StartAsync();
        using var platform = Platform(api);
        var running = await platform.DeployAsync(Request("bot-running"), CancellationToken.None);
        var failed = await platform.DeployAsync(Request("bot-failed"), CancellationToken.None);
        var complete = await platform.DeployAsync(Request("bot-complete"), CancellationToken.None);
        api.Finish(failed, succeeded: false);
        api.Finish(complete, succeeded: true);
        var ended = new List<PlatformResourceEnded>();
        platform.ResourceEnded += ended.Add;

        var resources = await platform.ListAsync(CancellationToken.None);

        Assert.Equal([new PlatformResource("bot-running", running)], resources);
        var list = Assert.Single(api.Where("GET", "/jobs"));
        Assert.Equal("app.kubernetes.io/name=parley-bot", list.Query["labelSelector"]);
        Assert.Equal(2, ended.Count);
        var failure = ended.Single(e => e.BotId == "bot-failed");
        Assert.False(failure.Succeeded);
        Assert.Equal("k8s", failure.Platform);
        Assert.Equal(failed, failure.Identifier);
        Assert.Contains("BackoffLimitExceeded", failure.Detail, StringComparison.Ordinal);
        Assert.True(ended.Single(e => e.BotId == "bot-complete").Succeeded);

        await platform.ListAsync(CancellationToken.None);
        Assert.Equal(2, ended.Count);
    }

    [Fact]
    public async Task The_pull_lock_holds_deployments_of_a_new_image_until_its_first_pod_started()
    {
        await using var api = await FakeKubernetesApi.StartAsync();
        using var platform = Platform(api, s => s["K8S_IMAGE_PULL_LOCK_ENABLED"] = "true");

        var first = platform.DeployAsync(Request("bot-a"), CancellationToken.None);
        await WaitUntil(() => api.Where("GET", "/pods").Count(r => r.Query.GetValueOrDefault("labelSelector") == "job-name=parley-bot-bot-a") >= 2, "the first deployment polls its pod");
        var second = platform.DeployAsync(Request("bot-b"), CancellationToken.None);
        // The second waits on the lock: while the first pod has not started only one Job exists.
        await WaitUntil(() => api.Where("GET", "/pods").Count(r => r.Query.GetValueOrDefault("labelSelector") == "job-name=parley-bot-bot-a") >= 4, "more polls");
        Assert.Single(api.Where("POST", "/jobs"));
        Assert.False(first.IsCompleted);
        Assert.False(second.IsCompleted);

        api.PodsStarted = true;

        Assert.Equal("parley-bot-bot-a", await first);
        Assert.Equal("parley-bot-bot-b", await second);
        Assert.Equal(2, api.Where("POST", "/jobs").Count());
        // Once a pod of the image started, deployments no longer look at pods.
        var polls = api.Where("GET", "/pods").Count();
        await platform.DeployAsync(Request("bot-c"), CancellationToken.None);
        Assert.Equal(polls, api.Where("GET", "/pods").Count());
    }

    [Fact]
    public async Task An_image_that_cannot_be_pulled_fails_the_deployment_and_removes_its_job()
    {
        await using var api = await FakeKubernetesApi.StartAsync();
        using var platform = Platform(api, s => s["K8S_IMAGE_PULL_LOCK_ENABLED"] = "true");
        api.PullError = "ErrImagePull";

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => platform.DeployAsync(Request("bot-a"), CancellationToken.None));

        Assert.Contains("cannot pull ghcr.io/parley/parley:latest", error.Message, StringComparison.Ordinal);
        Assert.Single(api.Where("DELETE", "/jobs/parley-bot-bot-a"));
        Assert.Empty(api.Jobs);
    }

    [Fact]
    public async Task A_refused_job_fails_the_deployment_with_the_api_servers_message()
    {
        await using var api = await FakeKubernetesApi.StartAsync();
        using var platform = Platform(api);
        await platform.DeployAsync(Request("bot-a"), CancellationToken.None);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => platform.DeployAsync(Request("bot-a"), CancellationToken.None));

        Assert.Contains("409", error.Message, StringComparison.Ordinal);
        Assert.Contains("already exists", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_the_orchestrator_a_bot_runs_as_a_job_and_a_failed_job_fails_the_bot()
    {
        await using var api = await FakeKubernetesApi.StartAsync();
        await using var harness = await OrchestratorHarness.CreateAsync(postgres: false);
        await harness.StartReplicaAsync(new Dictionary<string, string>
        {
            ["PLATFORM_PRIORITY"] = "k8s",
            ["K8S_BOT_LIMIT"] = "2",
            ["K8S_KUBECONFIG"] = api.KubeConfigPath,
            ["K8S_IMAGE_PULL_LOCK_ENABLED"] = "false",
        });
        var id = await harness.CreateBotAsync();

        var deployed = await harness.WaitForAsync(id, b => b.DeploymentIdentifier is not null, "deployed as a Job");

        Assert.Equal("k8s", deployed.DeploymentPlatform);
        Assert.Equal(KubernetesPlatform.JobName(id), deployed.DeploymentIdentifier);
        var env = JsonNode.Parse(Assert.Single(api.Where("POST", "/jobs")).Body)!["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]!.AsArray()
            .ToDictionary(e => (string)e!["name"]!, e => e!);
        Assert.Equal(id, (string?)env["BOT_ID"]["value"]);
        Assert.False(string.IsNullOrEmpty((string?)env["PARLEY_API_URL"]["value"]));
        Assert.Equal(deployed.DeploymentIdentifier, (string?)env["BOT_TOKEN"]["valueFrom"]!["secretKeyRef"]!["name"]);
        var secret = api.Secrets["parley-bots/" + deployed.DeploymentIdentifier];
        Assert.StartsWith("pbt", (string?)secret["stringData"]!["BOT_TOKEN"], StringComparison.Ordinal);

        api.Finish(deployed.DeploymentIdentifier!, succeeded: false);

        var failed = await harness.WaitForAsync(id, b => b.IsEnded, "failed with its Job");
        Assert.Equal(Parley.Core.Bots.BotStatus.Failed, failed.Status);
        Assert.Contains("BackoffLimitExceeded", failed.ErrorMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("K8S_BOT_CPU_REQUEST", "half")]
    [InlineData("K8S_BOT_MEMORY_LIMIT", "2GB")]
    [InlineData("K8S_BOT_CPU_LIMIT", "-1")]
    [InlineData("K8S_NAMESPACE", "Parley_Bots")]
    [InlineData("K8S_IMAGE_TAG", "1.0:latest")]
    [InlineData("K8S_IMAGE_ZOOM", "parley-zoom:1.0")]
    [InlineData("K8S_KUBECONFIG", "/nonexistent/kubeconfig")]
    public void Invalid_settings_are_reported_by_name(string name, string value)
    {
        var bound = SettingsBinder.Bind([typeof(KubernetesOptions)], n => n == name ? value : null);

        Assert.Contains(bound.Problems, p => p.Variable == name);
    }

    [Fact]
    public void A_request_above_its_limit_is_reported()
    {
        var values = new Dictionary<string, string> { ["K8S_BOT_MEMORY_REQUEST"] = "3Gi", ["K8S_BOT_MEMORY_LIMIT"] = "2048Mi" };

        var bound = SettingsBinder.Bind([typeof(KubernetesOptions)], n => values.GetValueOrDefault(n));

        var problem = Assert.Single(bound.Problems);
        Assert.Equal("K8S_BOT_MEMORY_REQUEST", problem.Variable);
    }

    [Fact]
    public void Job_names_are_dns_labels_of_at_most_63_characters_and_differ_per_bot()
    {
        Assert.Equal("parley-bot-0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", KubernetesPlatform.JobName("0193A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B"));
        var longA = KubernetesPlatform.JobName(new string('a', 80) + "_1");
        var longB = KubernetesPlatform.JobName(new string('a', 80) + "_2");
        Assert.NotEqual(longA, longB);
        Assert.All(new[] { longA, longB, KubernetesPlatform.JobName("Bot_With.Dots") }, n =>
        {
            Assert.True(n.Length <= 63, n);
            Assert.Matches("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", n);
        });
    }

    [Theory]
    [InlineData("local", "1", false)]
    [InlineData("local,k8s", null, false)]
    [InlineData("local,k8s", "5", true)]
    public void The_platform_is_registered_only_when_prioritised_with_a_limit(string priority, string? limit, bool registered)
    {
        var values = new Dictionary<string, string?> { ["PLATFORM_PRIORITY"] = priority, ["K8S_BOT_LIMIT"] = limit };
        var bound = SettingsBinder.Bind([typeof(OrchestratorOptions), typeof(KubernetesOptions)], n => values.GetValueOrDefault(n));
        var services = new ServiceCollection();
        services.AddLogging();
        foreach (var options in bound.All)
        {
            services.AddSingleton(options.GetType(), options);
        }

        services.AddParleyKubernetesPlatform();

        using var provider = services.BuildServiceProvider();
        Assert.Equal(registered, provider.GetServices<IBotPlatform>().Any(p => p.Name == "k8s"));
    }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            Assert.False(timeout.IsCancellationRequested, "timed out waiting: " + what);
            await Task.Delay(10);
        }
    }
}
