using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.Core.Configuration;
using Parley.Orchestration.Platforms;
using Parley.Orchestration.Platforms.Ecs;
using Parley.Testing;

namespace Parley.Orchestration.Tests.Platforms;

/// <summary>
/// The `aws` platform against moto_server over real HTTP: every test makes its own cluster and task
/// definition through the same signed JSON API the platform uses. Moto advances a task one lifecycle step
/// (RUNNING, DEACTIVATING, STOPPING, DEPROVISIONING, STOPPED) per DescribeTasks, which the tests allow for.
/// </summary>
public sealed class EcsPlatformTests
{
    [Fact]
    public void The_signer_reproduces_the_documented_sigv4_example()
    {
        // AWS's S3 SigV4 example "GET Object" (first 10 bytes of test.txt, empty body, 2013-05-24).
        var headers = new Dictionary<string, string>
        {
            ["Host"] = "examplebucket.s3.amazonaws.com",
            ["Range"] = "bytes=0-9",
            ["x-amz-content-sha256"] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ["x-amz-date"] = "20130524T000000Z",
        };
        var authorization = AwsRequestSigner.Authorization("GET", "/test.txt", "", headers,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            new AwsSigningCredentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", null),
            "us-east-1", "s3", new DateTimeOffset(2013, 5, 24, 0, 0, 0, TimeSpan.Zero));

        Assert.Equal(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
            authorization);
    }

    [Fact]
    public async Task A_bot_runs_as_a_fargate_task_with_its_environment_and_cancel_stops_it()
    {
        using var ecs = await EcsSetup.CreateAsync();
        var botId = Guid.CreateVersion7().ToString();
        var environment = new Dictionary<string, string> { ["BOT_ID"] = botId, ["BOT_TOKEN"] = "pbt_secret", ["PARLEY_API_URL"] = "http://10.0.0.5:3001" };

        var arn = await ecs.Platform.DeployAsync(new BotDeploymentRequest(botId, "zoom", environment), default);

        Assert.StartsWith("arn:aws:ecs:us-east-1:", arn, StringComparison.Ordinal);
        var task = await ecs.DescribeAsync(arn);
        Assert.Equal(botId, task["startedBy"]?.GetValue<string>());
        Assert.Equal("FARGATE", task["launchType"]?.GetValue<string>());
        Assert.EndsWith("task-definition/" + ecs.Family + ":1", task["taskDefinitionArn"]!.GetValue<string>(), StringComparison.Ordinal);
        var overrides = Assert.Single(task["overrides"]!["containerOverrides"]!.AsArray())!;
        Assert.Equal("bot", overrides["name"]!.GetValue<string>());
        var env = overrides["environment"]!.AsArray().ToDictionary(e => e!["name"]!.GetValue<string>(), e => e!["value"]!.GetValue<string>());
        Assert.Equal(environment, env);
        var tags = task["tags"]!.AsArray().ToDictionary(t => t!["key"]!.GetValue<string>(), t => t!["value"]!.GetValue<string>());
        Assert.Equal(botId, tags[EcsPlatform.BotIdTag]);
        Assert.Equal("zoom", tags["parley:meeting-platform"]);

        var listed = await ecs.Platform.ListAsync(default);
        Assert.Equal(new PlatformResource(botId, arn), Assert.Single(listed));
        Assert.Empty(ecs.Ended);

        await ecs.Platform.CancelAsync(botId, arn, default);

        Assert.Equal("STOPPED", (await ecs.DescribeAsync(arn))["lastStatus"]?.GetValue<string>());
        Assert.Empty(await ecs.Platform.ListAsync(default));
        var ended = Assert.Single(ecs.Ended);
        Assert.Equal(("aws", botId, arn), (ended.Platform, ended.BotId, ended.Identifier));
        Assert.False(ended.Succeeded); // Cancelled: not a bot that finished its meeting.
        Assert.Contains("task stopped", ended.Detail, StringComparison.Ordinal);
        Assert.Contains("Stopped by Parley", ended.Detail, StringComparison.Ordinal);

        // Reported once, although ECS keeps listing the stopped task for a while; a second cancel is no error.
        Assert.Empty(await ecs.Platform.ListAsync(default));
        Assert.Single(ecs.Ended);
        await ecs.Platform.CancelAsync(botId, arn, default);
    }

    [Fact]
    public async Task A_task_that_stops_on_its_own_is_reported_ended_with_its_exit_code()
    {
        using var ecs = await EcsSetup.CreateAsync();
        var botId = Guid.CreateVersion7().ToString();
        var arn = await ecs.Platform.DeployAsync(new BotDeploymentRequest(botId, "meet", new Dictionary<string, string> { ["BOT_ID"] = botId }), default);

        // Outside Parley (the container exited, an operator stopped it): StopTask straight through the API.
        await ecs.Client.SendAsync("StopTask", new JsonObject { ["cluster"] = ecs.Cluster, ["task"] = arn, ["reason"] = "Essential container exited" }, default);

        Assert.Empty(await ecs.Platform.ListAsync(default));
        var ended = Assert.Single(ecs.Ended);
        Assert.Equal((botId, arn), (ended.BotId, ended.Identifier));
        Assert.True(ended.Succeeded); // moto reports exit code 0 for the bot container.
        Assert.Equal("task stopped, exit code 0: Essential container exited", ended.Detail);
    }

    [Fact]
    public async Task Cancel_without_an_identifier_stops_the_task_a_timed_out_deployment_started()
    {
        using var ecs = await EcsSetup.CreateAsync();
        var botId = Guid.CreateVersion7().ToString();
        var other = Guid.CreateVersion7().ToString();
        var arn = await ecs.Platform.DeployAsync(new BotDeploymentRequest(botId, "teams", new Dictionary<string, string>()), default);
        var otherArn = await ecs.Platform.DeployAsync(new BotDeploymentRequest(other, "parley", new Dictionary<string, string>()), default);

        await ecs.Platform.CancelAsync(botId, "", default);

        var stopped = await ecs.Client.SendAsync("ListTasks", new JsonObject { ["cluster"] = ecs.Cluster, ["desiredStatus"] = "STOPPED" }, default);
        Assert.Equal([arn], stopped["taskArns"]!.AsArray().Select(a => a!.GetValue<string>()));
        var running = await ecs.Client.SendAsync("ListTasks", new JsonObject { ["cluster"] = ecs.Cluster, ["desiredStatus"] = "RUNNING" }, default);
        Assert.Equal([otherArn], running["taskArns"]!.AsArray().Select(a => a!.GetValue<string>()));
    }

    [Fact]
    public async Task An_error_answer_names_the_ecs_error()
    {
        using var ecs = await EcsSetup.CreateAsync(cluster: "missing-" + Guid.NewGuid().ToString("N")[..8], createCluster: false);

        var error = await Assert.ThrowsAsync<EcsException>(() => ecs.Platform.DeployAsync(
            new BotDeploymentRequest(Guid.CreateVersion7().ToString(), "zoom", new Dictionary<string, string>()), default));

        Assert.Equal("ClusterNotFoundException", error.ErrorType);
    }

    [Fact]
    public void The_ecs_settings_are_required_only_when_aws_is_in_the_chain_with_a_limit()
    {
        var problems = Bind(new() { ["PLATFORM_PRIORITY"] = "local,aws", ["AWS_BOT_LIMIT"] = "5", ["AWS_ECS_TASK_DEF_ZOOM"] = "zoom-bot" });
        Assert.Equal(
            ["AWS_ECS_CLUSTER", "AWS_ECS_SUBNETS", "AWS_ECS_TASK_DEF_GOOGLE_MEET", "AWS_ECS_TASK_DEF_MICROSOFT_TEAMS", "AWS_ECS_TASK_DEF_PARLEY"],
            problems.Select(p => p.Variable).Order(StringComparer.Ordinal));
        Assert.All(problems, p => Assert.Contains("PLATFORM_PRIORITY includes aws", p.Expected, StringComparison.Ordinal));

        Assert.Empty(Bind(new() { ["PLATFORM_PRIORITY"] = "local,aws" }));
        Assert.Empty(Bind(new() { ["AWS_BOT_LIMIT"] = "5" }));
        Assert.Equal("FAMILY", EcsPlatform.FamilyOf("arn:aws:ecs:us-east-1:1:task-definition/FAMILY:7"));
        Assert.Equal("family", EcsPlatform.FamilyOf("family:3"));
    }

    [Fact]
    public void The_platform_is_registered_only_when_aws_is_in_the_chain_with_a_limit()
    {
        static bool Registered(OrchestratorOptions orchestrator)
        {
            var services = new ServiceCollection().AddSingleton(orchestrator);
            services.AddParleyEcsPlatform();
            return services.Any(d => d.ServiceType == typeof(EcsPlatform));
        }

        Assert.True(Registered(new OrchestratorOptions { PlatformPriority = ["local", "aws"], AwsBotLimit = 3 }));
        Assert.False(Registered(new OrchestratorOptions { PlatformPriority = ["local", "aws"] }));
        Assert.False(Registered(new OrchestratorOptions { PlatformPriority = ["local"], AwsBotLimit = 3 }));
    }

    private static IReadOnlyList<ConfigProblem> Bind(Dictionary<string, string> values) =>
        SettingsBinder.Bind([typeof(OrchestratorOptions), typeof(EcsOptions)], name => values.GetValueOrDefault(name)).Problems;

    /// <summary>A cluster, a Fargate task definition and a subnet in moto, and the platform pointed at them.</summary>
    private sealed class EcsSetup : IDisposable
    {
        private EcsSetup(EcsClient client, string cluster, string family, EcsPlatform platform)
        {
            Client = client;
            Cluster = cluster;
            Family = family;
            Platform = platform;
            Platform.ResourceEnded += Ended.Enqueue;
        }

        public EcsClient Client { get; }

        public string Cluster { get; }

        public string Family { get; }

        public EcsPlatform Platform { get; }

        public ConcurrentQueue<PlatformResourceEnded> Ended { get; } = new();

        public static async Task<EcsSetup> CreateAsync(string? cluster = null, bool createCluster = true)
        {
            var endpoint = new Uri(TestEnvironment.AwsEndpointUrl);
            var client = new EcsClient("us-east-1", endpoint, new BasicAWSCredentials("test", "test"));
            cluster ??= "parley-" + Guid.NewGuid().ToString("N")[..12];
            var family = "parley-bot-" + Guid.NewGuid().ToString("N")[..12];
            if (createCluster)
            {
                await client.SendAsync("CreateCluster", new JsonObject { ["clusterName"] = cluster }, default);
            }

            await client.SendAsync("RegisterTaskDefinition", new JsonObject
            {
                ["family"] = family,
                ["networkMode"] = "awsvpc",
                ["requiresCompatibilities"] = new JsonArray("FARGATE"),
                ["cpu"] = "1024",
                ["memory"] = "2048",
                ["containerDefinitions"] = new JsonArray(new JsonObject
                {
                    ["name"] = "bot",
                    ["image"] = "ghcr.io/parley/parley:test",
                    ["essential"] = true,
                    ["memory"] = 2048,
                    ["command"] = new JsonArray("bot", "run"),
                }),
            }, default);

            // awsvpc tasks get a network interface in the subnet, which moto checks exists: use its default VPC's.
            var subnet = await FirstAsync(endpoint, "DescribeSubnets", "subnetId");
            var group = await FirstAsync(endpoint, "DescribeSecurityGroups", "groupId");
            var options = new EcsOptions
            {
                Cluster = cluster,
                Subnets = [subnet],
                SecurityGroups = [group],
                AssignPublicIp = true,
                TaskDefinitionGoogleMeet = family,
                TaskDefinitionMicrosoftTeams = family + ":1",
                TaskDefinitionZoom = family,
                TaskDefinitionParley = $"arn:aws:ecs:us-east-1:123456789012:task-definition/{family}:1",
            };
            return new EcsSetup(client, cluster, family, new EcsPlatform(client, options, NullLogger<EcsPlatform>.Instance));
        }

        public async Task<JsonObject> DescribeAsync(string arn)
        {
            var answer = await Client.SendAsync("DescribeTasks", new JsonObject
            {
                ["cluster"] = Cluster,
                ["tasks"] = new JsonArray(arn),
                ["include"] = new JsonArray("TAGS"),
            }, default);
            return Assert.Single(answer["tasks"]!.AsArray())!.AsObject();
        }

        /// <summary>An EC2 query-API call (form body, XML answer), signed like the ECS ones, returning the first value of an element.</summary>
        private static async Task<string> FirstAsync(Uri endpoint, string action, string element)
        {
            var body = Encoding.UTF8.GetBytes($"Action={action}&Version=2016-11-15");
            var now = DateTimeOffset.UtcNow;
            var headers = new Dictionary<string, string>
            {
                ["host"] = endpoint.Authority,
                ["x-amz-date"] = AwsRequestSigner.AmzDate(now),
                ["content-type"] = "application/x-www-form-urlencoded",
            };
            var authorization = AwsRequestSigner.Authorization("POST", "/", "", headers, AwsRequestSigner.Sha256Hex(body),
                new AwsSigningCredentials("test", "test", null), "us-east-1", "ec2", now);
            using var http = new HttpClient();
            using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(body) };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/x-www-form-urlencoded");
            request.Headers.TryAddWithoutValidation("X-Amz-Date", headers["x-amz-date"]);
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
            using var response = await http.SendAsync(request);
            var xml = await response.Content.ReadAsStringAsync();
            var match = Regex.Match(xml, $"<{element}>([^<]+)</{element}>");
            Assert.True(match.Success, $"{action} answered {(int)response.StatusCode}: {xml[..Math.Min(xml.Length, 300)]}");
            return match.Groups[1].Value;
        }

        public void Dispose() => Platform.Dispose();
    }
}
