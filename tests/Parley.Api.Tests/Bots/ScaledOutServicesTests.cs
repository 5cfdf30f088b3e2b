using System.Net;
using System.Net.Http.Json;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.SQS;
using Amazon.SQS.Model;
using Parley.Testing;

namespace Parley.Api.Tests.Bots;

/// <summary>
/// The scaled-out configuration: PostgreSQL, Redis for the duplicate lock, SQS for bot jobs and S3 for
/// artifacts (moto_server), all from test.sh.
/// </summary>
public sealed class ScaledOutServer : ApiServer
{
    public string ParleyQueueUrl { get; private set; } = "";

    public string Bucket { get; } = "artifacts-" + Guid.NewGuid().ToString("N")[..12];

    protected override async Task<Dictionary<string, string?>> EnvironmentAsync()
    {
        var endpoint = TestEnvironment.AwsEndpointUrl;
        var credentials = new BasicAWSCredentials("test", "test");
        using var sqs = new AmazonSQSClient(credentials, new AmazonSQSConfig { ServiceURL = endpoint, AuthenticationRegion = "us-east-1" });
        var suffix = Guid.NewGuid().ToString("N")[..8];
        string Create(string name) => sqs.CreateQueueAsync(new CreateQueueRequest { QueueName = $"{name}-{suffix}" }).GetAwaiter().GetResult().QueueUrl;
        var zoom = Create("zoom");
        var meetTeams = Create("meet-teams");
        ParleyQueueUrl = Create("parley");
        using var s3 = new AmazonS3Client(credentials, new AmazonS3Config { ServiceURL = endpoint, ForcePathStyle = true, AuthenticationRegion = "us-east-1" });
        await s3.PutBucketAsync(Bucket);
        return new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = await PostgresDatabase.CreateAsync(),
            ["REDIS_URL"] = TestEnvironment.RedisUrl,
            ["AWS_ENDPOINT_URL"] = endpoint,
            ["AWS_REGION"] = "us-east-1",
            ["AWS_ACCESS_KEY_ID"] = "test",
            ["AWS_SECRET_ACCESS_KEY"] = "test",
            ["SQS_QUEUE_URL_ZOOM"] = zoom,
            ["SQS_QUEUE_URL_MEET_TEAMS"] = meetTeams,
            ["SQS_QUEUE_URL_PARLEY"] = ParleyQueueUrl,
            ["AWS_S3_ARTIFACTS_BUCKET"] = Bucket,
            ["PARLEY_S3_FORCE_PATH_STYLE"] = "true",
        };
    }
}

public sealed class ScaledOutServicesTests(ScaledOutServer server) : IClassFixture<ScaledOutServer>
{
    [Fact]
    public async Task Bots_go_to_the_sqs_queue_of_their_platform_and_artifacts_to_s3()
    {
        var health = await server.Http.GetStringAsync("/health");
        Assert.Contains("\"redis\":{\"status\":\"up\"", health, StringComparison.Ordinal);
        Assert.Contains("\"storage\":{\"status\":\"up\"", health, StringComparison.Ordinal);

        var id = await server.CreateBotAsync(new { bot_name = "s", meeting_url = "http://127.0.0.1:3001/meet/scaled-out" });
        using var sqs = new AmazonSQSClient(new BasicAWSCredentials("test", "test"), new AmazonSQSConfig { ServiceURL = TestEnvironment.AwsEndpointUrl, AuthenticationRegion = "us-east-1" });
        var message = await Eventually.ReturnsAsync(async () =>
        {
            var received = await sqs.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = server.ParleyQueueUrl, WaitTimeSeconds = 1 });
            return received.Messages?.FirstOrDefault(m => m.Body.Contains(id, StringComparison.Ordinal));
        }, TimeSpan.FromSeconds(30), "the bot job in the parley SQS queue");
        Assert.Contains("\"meeting_platform\":\"parley\"", message.Body, StringComparison.Ordinal);

        using var bot = server.BotClient(await server.MintTokenAsync(id));
        using (var upload = await bot.PostAsync($"/internal/bots/{id}/artifacts?kind=video&name=video.mp4", new ByteArrayContent("mp4 in s3"u8.ToArray())))
        {
            Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        }

        (await bot.PostAsJsonAsync($"/internal/bots/{id}/status", new { code = "failed", error_code = "INTERNAL_ERROR" })).EnsureSuccessStatusCode();
        var video = (await server.Http.GetDataAsync($"/v2/bots/{id}")).GetProperty("video").GetString()!;
        Assert.Contains(server.Bucket, video, StringComparison.Ordinal);
        using var anonymous = new HttpClient();
        Assert.Equal("mp4 in s3", await anonymous.GetStringAsync(video));
    }

    [Fact]
    public async Task The_duplicate_rule_holds_with_the_lock_in_redis()
    {
        var meeting = $"https://meet.google.com/{Api.MeetCode()}";
        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
        {
            using var response = await server.Http.PostAsJsonAsync("/v2/bots", new { bot_name = "dup", meeting_url = meeting, allow_multiple_bots = false });
            return response.StatusCode;
        }));

        Assert.Single(results, s => s == HttpStatusCode.Created);
        Assert.Equal(49, results.Count(s => s == HttpStatusCode.Conflict));
    }
}
