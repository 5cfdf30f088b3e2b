using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.SQS;
using Amazon.SQS.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Parley.Orchestration.Platforms.Ecs;
using Parley.Testing;

namespace Parley.Tests.Cli;

/// <summary>`parley doctor` against this machine, the services of test.sh, and deliberately broken settings.</summary>
public sealed class DoctorTests
{
    private static async Task<(int Code, string Stdout)> DoctorAsync(Dictionary<string, string?> environment)
    {
        using var dir = new TempDirectory();
        environment.TryAdd("PARLEY_DATA_DIR", Path.Combine(dir.Path, "data"));
        environment.TryAdd("PORT", ParleyProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture));
        var (code, stdout, stderr) = await ParleyProcess.RunAsync(["doctor"], environment, dir.Path);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        return (code, stdout);
    }

    [Fact]
    public async Task Embedded_defaults_pass_and_each_check_prints_one_line()
    {
        var (code, stdout) = await DoctorAsync([]);

        Assert.True(code == 0, stdout);
        Assert.Contains("OK   configuration:", stdout, StringComparison.Ordinal);
        Assert.Contains("WARN database: SQLite", stdout, StringComparison.Ordinal); // fresh: serve creates and migrates it
        Assert.Contains("OK   storage: local: writable", stdout, StringComparison.Ordinal);
        Assert.Contains("WARN queue: embedded: not checked", stdout, StringComparison.Ordinal);
        Assert.Contains("OK   listen:", stdout, StringComparison.Ordinal);
        Assert.Matches(@"(OK|WARN) +ffmpeg:", stdout);
        Assert.Contains("No check failed.", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_migrated_embedded_database_and_its_queue_are_ok()
    {
        using var dir = new TempDirectory();
        var data = Path.Combine(dir.Path, "data");
        Assert.Equal(0, (await ParleyProcess.RunAsync(["migrate", "--data-dir", data], new Dictionary<string, string?>(), dir.Path)).ExitCode);

        var (code, stdout) = await DoctorAsync(new() { ["PARLEY_DATA_DIR"] = data });

        Assert.True(code == 0, stdout);
        Assert.Contains("OK   database: SQLite", stdout, StringComparison.Ordinal);
        Assert.Contains("OK   queue: embedded: 0 waiting, 0 in flight, 0 dead-lettered", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreachable_services_fail_with_advice_and_exit_1()
    {
        var (code, stdout) = await DoctorAsync(new()
        {
            ["DATABASE_URL"] = $"postgres://parley:pw@127.0.0.1:{ParleyProcess.FreePort()}/parley",
            ["PARLEY_DATABASE_TIMEOUT_SECONDS"] = "2",
            ["STATIC_API_KEY"] = "0123456789abcdef0123",
            ["REDIS_URL"] = $"redis://127.0.0.1:{ParleyProcess.FreePort()}",
        });

        Assert.Equal(1, code);
        Assert.Contains("FAIL database: PostgreSQL 127.0.0.1:", stdout, StringComparison.Ordinal);
        Assert.Contains("-> check DATABASE_URL", stdout, StringComparison.Ordinal);
        Assert.Contains("FAIL redis:", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(":pw@", stdout, StringComparison.Ordinal);
        Assert.Contains("check(s) failed.", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_configuration_is_a_failed_check_with_exit_2()
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = await ParleyProcess.RunAsync(["doctor"], new Dictionary<string, string?> { ["PORT"] = "none" }, dir.Path);

        Assert.Equal(2, code);
        Assert.Contains("PORT='none'", stderr, StringComparison.Ordinal);
        Assert.Contains("FAIL configuration", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_scaled_out_services_of_test_sh_pass()
    {
        var endpoint = TestEnvironment.AwsEndpointUrl;
        var credentials = new BasicAWSCredentials("test", "test");
        var bucket = "doctor-" + Guid.NewGuid().ToString("N")[..10];
        using (var s3 = new AmazonS3Client(credentials, new AmazonS3Config { ServiceURL = endpoint, ForcePathStyle = true, AuthenticationRegion = "us-east-1" }))
        {
            await s3.PutBucketAsync(bucket);
        }

        using var sqs = new AmazonSQSClient(credentials, new AmazonSQSConfig { ServiceURL = endpoint, AuthenticationRegion = "us-east-1" });
        var queue = (await sqs.CreateQueueAsync(new CreateQueueRequest { QueueName = bucket })).QueueUrl;
        var database = await PostgresDatabase.CreateAsync();
        using (var dir = new TempDirectory())
        {
            Assert.Equal(0, (await ParleyProcess.RunAsync(["migrate"], new Dictionary<string, string?> { ["DATABASE_URL"] = database, ["STATIC_API_KEY"] = "0123456789abcdef0123" }, dir.Path)).ExitCode);
        }

        var (code, stdout) = await DoctorAsync(new()
        {
            ["DATABASE_URL"] = database,
            ["STATIC_API_KEY"] = "0123456789abcdef0123",
            ["REDIS_URL"] = TestEnvironment.RedisUrl,
            ["AWS_ENDPOINT_URL"] = endpoint,
            ["AWS_ACCESS_KEY_ID"] = "test",
            ["AWS_SECRET_ACCESS_KEY"] = "test",
            ["AWS_S3_ARTIFACTS_BUCKET"] = bucket,
            ["PARLEY_S3_FORCE_PATH_STYLE"] = "true",
            ["SQS_QUEUE_URL_ZOOM"] = queue,
            ["SQS_QUEUE_URL_MEET_TEAMS"] = queue,
        });

        Assert.True(code == 0, stdout);
        Assert.Contains("OK   database: PostgreSQL", stdout, StringComparison.Ordinal);
        Assert.Contains("OK   redis:", stdout, StringComparison.Ordinal);
        Assert.Contains("OK   storage: s3: writable", stdout, StringComparison.Ordinal);
        Assert.Contains("OK   queue: sqs:", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rtc_ports_taken_by_another_process_are_a_warning_and_free_ones_ok()
    {
        var (first, taken) = BindTwoConsecutiveUdpPorts();
        try
        {
            var range = new Dictionary<string, string?>
            {
                ["RTC_MIN_PORT"] = first.ToString(CultureInfo.InvariantCulture),
                ["RTC_MAX_PORT"] = (first + 1).ToString(CultureInfo.InvariantCulture),
                ["RTC_WORKERS"] = "1",
            };
            var (code, stdout) = await DoctorAsync(new(range));

            Assert.True(code == 0, stdout);
            Assert.Contains($"WARN rtc-ports: UDP {first}-{first + 1} on 127.0.0.1: 0 free, 1 worker(s) need 1 -> ", stdout, StringComparison.Ordinal);

            taken[1].Dispose();
            (code, stdout) = await DoctorAsync(new(range));

            Assert.Contains($"OK   rtc-ports: UDP {first}-{first + 1} on 127.0.0.1: 1 free, 1 worker(s) need 1", stdout, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var socket in taken)
            {
                socket.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_loopback_announced_ip_on_every_interface_and_a_private_one_behind_a_public_url_are_warnings()
    {
        var (_, stdout) = await DoctorAsync(new() { ["HOST"] = "0.0.0.0", ["ANNOUNCED_IP"] = "127.0.0.1" });

        Assert.Contains("WARN announced-ip: 127.0.0.1 (ANNOUNCED_IP), listening on 0.0.0.0: a loopback address is reachable only from this machine", stdout, StringComparison.Ordinal);
        Assert.Contains("-> set ANNOUNCED_IP to the address browsers reach", stdout, StringComparison.Ordinal);

        (_, stdout) = await DoctorAsync(new() { ["HOST"] = "0.0.0.0", ["ANNOUNCED_IP"] = "10.0.0.5", ["API_SERVER_BASEURL"] = "https://meet.example.com" });

        Assert.Contains("WARN announced-ip: 10.0.0.5 (ANNOUNCED_IP) is a private address, but meet.example.com is public", stdout, StringComparison.Ordinal);

        (_, stdout) = await DoctorAsync(new() { ["HOST"] = "0.0.0.0", ["ANNOUNCED_IP"] = "10.0.0.5", ["API_SERVER_BASEURL"] = "http://10.0.0.5:3001" });

        Assert.Contains("OK   announced-ip: 10.0.0.5 (ANNOUNCED_IP), listening on 0.0.0.0", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Turn_servers_are_probed_with_a_stun_binding_over_udp_and_a_connect_over_tcp()
    {
        using var stun = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        stun.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var udpPort = ((IPEndPoint)stun.LocalEndPoint!).Port;
        using var tcp = new TcpListener(IPAddress.Loopback, 0);
        tcp.Start();
        var tcpPort = ((IPEndPoint)tcp.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource();
        var requests = 0;
        var answering = Task.Run(async () =>
        {
            var buffer = new byte[1500];
            while (!stop.IsCancellationRequested)
            {
                var received = await stun.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), stop.Token);
                // A Binding request (type 0x0001, magic cookie) gets a Binding success response with its transaction id.
                Assert.Equal(20, received.ReceivedBytes);
                Assert.Equal([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42], buffer[..8]);
                Interlocked.Increment(ref requests);
                var response = buffer[..20];
                response[0] = 0x01;
                response[1] = 0x01;
                await stun.SendToAsync(response, received.RemoteEndPoint, stop.Token);
            }
        });

        var (code, stdout) = await DoctorAsync(new()
        {
            ["TURN_SERVER_URL"] = $"turn:127.0.0.1:{udpPort}?transport=udp,turn:127.0.0.1:{tcpPort}?transport=tcp",
            ["TURN_SECRET"] = "0123456789abcdef",
        });
        await stop.CancelAsync();

        Assert.True(code == 0, stdout);
        Assert.Contains("OK   turn: 2 URL(s) answer", stdout, StringComparison.Ordinal);
        Assert.Equal(1, requests);

        tcp.Stop();
        (code, stdout) = await DoctorAsync(new()
        {
            ["TURN_SERVER_URL"] = $"turns:127.0.0.1:{tcpPort}",
            ["TURN_USERNAME"] = "parley",
            ["TURN_CREDENTIAL"] = "secret",
        });

        Assert.Equal(0, code); // a TURN server this host cannot reach may still serve clients: a warning
        Assert.Contains($"WARN turn: turns:127.0.0.1:{tcpPort}: ", stdout, StringComparison.Ordinal);
        Assert.Contains("-> check TURN_SERVER_URL", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kubernetes_rbac_is_asked_of_the_api_server_with_self_subject_access_reviews()
    {
        await using var api = await FakeAccessReviews.StartAsync(deny: []);
        var environment = new Dictionary<string, string?>
        {
            ["PLATFORM_PRIORITY"] = "k8s",
            ["K8S_BOT_LIMIT"] = "2",
            ["K8S_KUBECONFIG"] = api.KubeConfigPath,
            ["K8S_NAMESPACE"] = "bots-here",
        };

        var (code, stdout) = await DoctorAsync(new(environment));

        Assert.True(code == 0, stdout);
        Assert.Contains("OK   kubernetes: http://127.0.0.1:", stdout, StringComparison.Ordinal);
        Assert.Contains("may create, list and delete jobs, list pods and create, update, patch, list and delete secrets in bots-here", stdout, StringComparison.Ordinal);
        // Everything KubernetesPlatform calls: the Job, the pods of the image pull lock, and the per-bot Secret.
        Assert.Equal(
            [
                "create  secrets bots-here", "create batch jobs bots-here", "delete  secrets bots-here", "delete batch jobs bots-here",
                "list  pods bots-here", "list  secrets bots-here", "list batch jobs bots-here", "patch  secrets bots-here", "update  secrets bots-here",
            ],
            api.Reviews.Order(StringComparer.Ordinal));
        Assert.All(api.Authorizations, a => Assert.Equal("Bearer doctor-token", a));

        await using var denying = await FakeAccessReviews.StartAsync(deny: ["delete jobs"]);
        environment["K8S_KUBECONFIG"] = denying.KubeConfigPath;
        (code, stdout) = await DoctorAsync(new(environment));

        Assert.Equal(1, code);
        Assert.Contains("FAIL kubernetes: http://127.0.0.1:", stdout, StringComparison.Ordinal);
        Assert.Contains("not allowed to delete jobs in bots-here -> bind the orchestrator's service account to a Role in bots-here", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kubernetes_rbac_without_the_bot_secrets_fails_naming_each_missing_verb()
    {
        // A Role written before bots had a Secret: jobs and pods only. Every deployment would fail creating
        // the Secret, so doctor must say so before the first bot.
        await using var api = await FakeAccessReviews.StartAsync(deny: ["create secrets", "update secrets", "patch secrets", "list secrets", "delete secrets"]);
        var (code, stdout) = await DoctorAsync(new(new Dictionary<string, string?>
        {
            ["PLATFORM_PRIORITY"] = "k8s",
            ["K8S_BOT_LIMIT"] = "2",
            ["K8S_KUBECONFIG"] = api.KubeConfigPath,
            ["K8S_NAMESPACE"] = "bots-here",
        }));

        Assert.True(code == 1, stdout);
        Assert.Contains(
            "FAIL kubernetes: http://127.0.0.1:",
            stdout, StringComparison.Ordinal);
        Assert.Contains(
            ": not allowed to create secrets, update secrets, patch secrets, list secrets, delete secrets in bots-here -> bind the orchestrator's service account to a Role in bots-here",
            stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("jobs", stdout.Split('\n').Single(l => l.Contains("kubernetes:", StringComparison.Ordinal)), StringComparison.Ordinal);

        // Only the one verb missing (a Role granting create but not patch): named alone.
        await using var noPatch = await FakeAccessReviews.StartAsync(deny: ["patch secrets"]);
        (code, stdout) = await DoctorAsync(new(new Dictionary<string, string?>
        {
            ["PLATFORM_PRIORITY"] = "k8s",
            ["K8S_BOT_LIMIT"] = "2",
            ["K8S_KUBECONFIG"] = noPatch.KubeConfigPath,
            ["K8S_NAMESPACE"] = "bots-here",
        }));

        Assert.Equal(1, code);
        Assert.Contains(": not allowed to patch secrets in bots-here ->", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_ecs_cluster_and_task_definitions_are_described()
    {
        var endpoint = TestEnvironment.AwsEndpointUrl;
        var cluster = "doctor-" + Guid.NewGuid().ToString("N")[..8];
        using (var ecs = new EcsClient("us-east-1", new Uri(endpoint), new BasicAWSCredentials("test", "test")))
        {
            await ecs.SendAsync("CreateCluster", new JsonObject { ["clusterName"] = cluster }, CancellationToken.None);
            await ecs.SendAsync("RegisterTaskDefinition", new JsonObject
            {
                ["family"] = cluster,
                ["requiresCompatibilities"] = new JsonArray("FARGATE"),
                ["networkMode"] = "awsvpc",
                ["cpu"] = "1024",
                ["memory"] = "2048",
                ["containerDefinitions"] = new JsonArray(new JsonObject { ["name"] = "bot", ["image"] = "ghcr.io/parley/parley:0.1.0" }),
            }, CancellationToken.None);
        }

        var environment = new Dictionary<string, string?>
        {
            ["PLATFORM_PRIORITY"] = "aws",
            ["AWS_BOT_LIMIT"] = "1",
            ["AWS_ENDPOINT_URL"] = endpoint,
            ["AWS_ACCESS_KEY_ID"] = "test",
            ["AWS_SECRET_ACCESS_KEY"] = "test",
            ["AWS_ECS_CLUSTER"] = cluster,
            ["AWS_ECS_SUBNETS"] = "subnet-12345678",
            ["AWS_ECS_TASK_DEF_GOOGLE_MEET"] = cluster,
            ["AWS_ECS_TASK_DEF_MICROSOFT_TEAMS"] = cluster,
            ["AWS_ECS_TASK_DEF_ZOOM"] = cluster,
            ["AWS_ECS_TASK_DEF_PARLEY"] = cluster,
        };

        var (code, stdout) = await DoctorAsync(new(environment));

        Assert.True(code == 0, stdout);
        Assert.Contains($"OK   ecs: cluster {cluster} ACTIVE, 1 task definition(s) found", stdout, StringComparison.Ordinal);

        environment["AWS_ECS_TASK_DEF_ZOOM"] = "no-such-family";
        (code, stdout) = await DoctorAsync(new(environment));

        Assert.Equal(1, code);
        Assert.Contains("task definition(s) not found: no-such-family", stdout, StringComparison.Ordinal);

        environment["AWS_ECS_CLUSTER"] = "no-such-cluster";
        (code, stdout) = await DoctorAsync(new(environment));

        Assert.Equal(1, code);
        Assert.Contains("FAIL ecs: cluster no-such-cluster in us-east-1: ", stdout, StringComparison.Ordinal);
        Assert.Contains("-> check AWS_ECS_CLUSTER and AWS_REGION", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_coolify_api_is_reached_with_its_token()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var app = builder.Build();
        var seen = new ConcurrentQueue<string>();
        app.MapGet("/api/v1/applications", (HttpContext context) =>
        {
            var authorization = context.Request.Headers.Authorization.ToString();
            seen.Enqueue(authorization);
            return authorization == "Bearer good-token"
                ? Results.Text("""[{"uuid":"a1","name":"parley-slot-1","status":"exited","description":"parley-pool-slot {edited by hand"},{"uuid":"b2","name":"other-app","status":"running","description":null}]""", "application/json")
                : Results.Json(new { message = "Unauthenticated." }, statusCode: 401);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        var environment = new Dictionary<string, string?>
        {
            ["PLATFORM_PRIORITY"] = "coolify",
            ["COOLIFY_BOT_LIMIT"] = "2",
            ["COOLIFY_API_URL"] = address + "/api/v1",
            ["COOLIFY_API_TOKEN"] = "good-token",
            ["COOLIFY_PROJECT_UUID"] = "p",
            ["COOLIFY_SERVER_UUID"] = "s",
        };

        var (code, stdout) = await DoctorAsync(new(environment));

        Assert.True(code == 0, stdout);
        Assert.Contains($"OK   coolify: {address}/api/v1: reachable, 1 slot(s), 1 in ERROR", stdout, StringComparison.Ordinal);

        environment["COOLIFY_API_TOKEN"] = "stale-token";
        (code, stdout) = await DoctorAsync(new(environment));

        Assert.Equal(1, code);
        Assert.Contains("FAIL coolify:", stdout, StringComparison.Ordinal);
        Assert.Contains("-> COOLIFY_API_TOKEN is refused", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("stale-token", stdout, StringComparison.Ordinal);
        Assert.Equal(["Bearer good-token", "Bearer stale-token"], seen);
    }

    /// <summary>Two consecutive free UDP ports on loopback, both bound (the caller releases them).</summary>
    private static (int First, Socket[] Sockets) BindTwoConsecutiveUdpPorts()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var first = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            first.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var port = ((IPEndPoint)first.LocalEndPoint!).Port;
            if (port < 65535)
            {
                var second = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                try
                {
                    second.Bind(new IPEndPoint(IPAddress.Loopback, port + 1));
                    return (port, [first, second]);
                }
                catch (SocketException)
                {
                    second.Dispose();
                }
            }

            first.Dispose();
        }

        throw new InvalidOperationException("no two consecutive free UDP ports on loopback");
    }

    /// <summary>A Kubernetes API server that answers SelfSubjectAccessReviews only, denying the "verb resource" pairs given.</summary>
    private sealed class FakeAccessReviews : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly TempDirectory _directory = new();

        private FakeAccessReviews(WebApplication app) => _app = app;

        public ConcurrentBag<string> Reviews { get; } = [];

        public ConcurrentBag<string> Authorizations { get; } = [];

        public string KubeConfigPath => Path.Combine(_directory.Path, "kubeconfig");

        public static async Task<FakeAccessReviews> StartAsync(string[] deny)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var fake = new FakeAccessReviews(app);
            app.MapPost("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", async (HttpContext context) =>
            {
                fake.Authorizations.Add(context.Request.Headers.Authorization.ToString());
                var review = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
                var attributes = review["spec"]!["resourceAttributes"]!;
                var verb = (string)attributes["verb"]!;
                var resource = (string)attributes["resource"]!;
                fake.Reviews.Add($"{verb} {(string?)attributes["group"]} {resource} {(string)attributes["namespace"]!}");
                review["status"] = new JsonObject { ["allowed"] = !deny.Contains($"{verb} {resource}") };
                return Results.Text(review.ToJsonString(), "application/json", statusCode: 201);
            });
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
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
                    token: doctor-token
                """);
            return fake;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.DisposeAsync();
            _directory.Dispose();
        }
    }
}
