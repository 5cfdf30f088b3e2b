using Amazon.SQS;
using Amazon.SQS.Model;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.Core.Queues;
using Parley.Infrastructure.Queues;
using Parley.Testing;

namespace Parley.Infrastructure.Tests.Queues;

/// <summary>Against the real SQS API of moto_server; every test creates its own queues.</summary>
public sealed class SqsBotJobQueueTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private readonly AmazonSQSClient _client = SqsBotJobQueue.CreateClient(Moto.Aws, new QueueOptions());

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task An_enqueued_job_is_received_with_its_fields_count_and_queue_then_deleted()
    {
        var (queue, options) = await CreateQueueAsync();
        var job = Job("b1", "zoom");

        await queue.EnqueueAsync(job, default);
        var received = Assert.Single(await queue.ReceiveAsync(10, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5), default));

        Assert.Equal(job, received.Job);
        Assert.Equal(1, received.ReceiveCount);
        Assert.Equal(NameOf(options.ZoomQueueUrl!), received.QueueName);
        Assert.Equal(new QueueDepth(0, 1, 0), await queue.GetDepthAsync(default));

        await queue.DeleteAsync(received, default);
        Assert.Equal(new QueueDepth(0, 0, 0), await queue.GetDepthAsync(default));
    }

    [Fact]
    public async Task The_message_body_is_snake_case_json_of_the_job()
    {
        var (queue, options) = await CreateQueueAsync();

        await queue.EnqueueAsync(Job("b1", "meet"), default);

        var raw = await _client.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = options.MeetTeamsQueueUrl!.AbsoluteUri, WaitTimeSeconds = 5 });
        var body = Assert.Single(raw.Messages).Body;
        Assert.Contains("\"bot_id\":\"b1\"", body, StringComparison.Ordinal);
        Assert.Contains("\"team_id\":\"team-1\"", body, StringComparison.Ordinal);
        Assert.Contains("\"meeting_platform\":\"meet\"", body, StringComparison.Ordinal);
        Assert.Contains("\"enqueued_at\":\"2030-01-02T03:04:05Z\"", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Jobs_go_to_the_queue_of_their_platform_and_parley_falls_back_to_meet_teams()
    {
        var (queue, options) = await CreateQueueAsync();

        foreach (var (bot, platform) in new[] { ("z", "zoom"), ("m", "meet"), ("t", "teams"), ("p", "parley") })
        {
            await queue.EnqueueAsync(Job(bot, platform), default);
        }

        Assert.Equal(1, await CountAsync(options.ZoomQueueUrl!));
        Assert.Equal(3, await CountAsync(options.MeetTeamsQueueUrl!));
        await Assert.ThrowsAsync<ArgumentException>(() => queue.EnqueueAsync(Job("x", "webex"), default));

        var (withParley, parleyOptions) = await CreateQueueAsync(parleyQueue: true);
        await withParley.EnqueueAsync(Job("p", "parley"), default);
        Assert.Equal(1, await CountAsync(parleyOptions.ParleyQueueUrl!));
        Assert.Equal(0, await CountAsync(parleyOptions.MeetTeamsQueueUrl!));
    }

    [Fact]
    public async Task Receiving_takes_jobs_from_every_platform_queue()
    {
        var (queue, _) = await CreateQueueAsync(parleyQueue: true);
        await queue.EnqueueAsync(Job("z", "zoom"), default);
        await queue.EnqueueAsync(Job("m", "meet"), default);
        await queue.EnqueueAsync(Job("p", "parley"), default);

        var bots = new HashSet<string>();
        await Eventually.ReturnsAsync(async () =>
        {
            foreach (var message in await queue.ReceiveAsync(10, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(1), default))
            {
                bots.Add(message.Job.BotId);
            }

            return bots.Count == 3 ? "all" : null;
        }, Deadline, "jobs from the three queues");
        Assert.Equal(["m", "p", "z"], bots.Order());
    }

    [Fact]
    public async Task A_job_not_deleted_reappears_after_its_visibility_timeout_with_a_higher_receive_count()
    {
        var (queue, _) = await CreateQueueAsync();
        await queue.EnqueueAsync(Job("b1", "zoom"), default);

        var first = Assert.Single(await queue.ReceiveAsync(1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), default));
        var again = await Eventually.ReturnsAsync(
            async () => (await queue.ReceiveAsync(1, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(2), default)).SingleOrDefault(),
            Deadline, "the job to become visible again");

        Assert.Equal(first.Job, again.Job);
        Assert.Equal(2, again.ReceiveCount);
    }

    [Fact]
    public async Task A_released_job_is_visible_again_after_the_delay()
    {
        var (queue, _) = await CreateQueueAsync();
        await queue.EnqueueAsync(Job("b1", "zoom"), default);
        var received = Assert.Single(await queue.ReceiveAsync(1, TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(5), default));

        await queue.ReleaseAsync(received, TimeSpan.FromSeconds(2), default);
        Assert.Equal(new QueueDepth(0, 1, 0), await queue.GetDepthAsync(default));
        var back = await Eventually.ReturnsAsync(
            async () => (await queue.ReceiveAsync(1, TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(1), default)).SingleOrDefault(),
            Deadline, "the released job");
        Assert.Equal("b1", back.Job.BotId);

        await queue.ReleaseAsync(back, TimeSpan.Zero, default);
        Assert.Single(await queue.ReceiveAsync(1, TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(5), default));
    }

    [Fact]
    public async Task A_job_received_more_than_max_receives_times_moves_to_the_dead_letter_queue()
    {
        var deadLetter = await CreateRawQueueAsync("parley-dlq");
        var (queue, _) = await CreateQueueAsync(maxReceives: 2, deadLetter: deadLetter);
        await queue.EnqueueAsync(Job("b1", "zoom"), default);

        var counts = await ReceiveUntilGoneAsync(queue);

        Assert.Equal([1, 2], counts);
        Assert.Equal(new QueueDepth(0, 0, 1), await queue.GetDepthAsync(default));
        var moved = await _client.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = deadLetter.AbsoluteUri, WaitTimeSeconds = 5, MessageAttributeNames = ["All"] });
        var message = Assert.Single(moved.Messages);
        Assert.True(BotJobSerializer.TryDeserialize(message.Body, out var job));
        Assert.Equal("b1", job.BotId);
        Assert.Equal("3", message.MessageAttributes["receive_count"].StringValue);
    }

    [Fact]
    public async Task Without_a_dead_letter_queue_an_exhausted_job_is_deleted()
    {
        var (queue, _) = await CreateQueueAsync(maxReceives: 1);
        await queue.EnqueueAsync(Job("b1", "zoom"), default);

        Assert.Equal([1], await ReceiveUntilGoneAsync(queue));
        Assert.Equal(new QueueDepth(0, 0, 0), await queue.GetDepthAsync(default));
    }

    [Fact]
    public async Task A_queue_with_a_redrive_policy_leaves_dead_lettering_to_sqs()
    {
        var deadLetter = await CreateRawQueueAsync("parley-redrive-dlq");
        var arn = (await _client.GetQueueAttributesAsync(deadLetter.AbsoluteUri, ["QueueArn"])).QueueARN;
        var (queue, options) = await CreateQueueAsync(maxReceives: 1);
        await _client.SetQueueAttributesAsync(options.ZoomQueueUrl!.AbsoluteUri, new Dictionary<string, string>
        {
            ["RedrivePolicy"] = $"{{\"deadLetterTargetArn\":\"{arn}\",\"maxReceiveCount\":\"3\"}}",
        });
        await queue.EnqueueAsync(Job("b1", "zoom"), default);

        // QUEUE_MAX_RECEIVES=1 would drop it after one receive; the queue's own policy (3) decides instead.
        Assert.Equal([1, 2, 3], await ReceiveUntilGoneAsync(queue));
        Assert.Equal(new QueueDepth(0, 0, 1), await queue.GetDepthAsync(default));
    }

    [Fact]
    public async Task A_message_that_is_not_a_bot_job_is_dead_lettered_not_returned()
    {
        var deadLetter = await CreateRawQueueAsync("parley-dlq");
        var (queue, options) = await CreateQueueAsync(deadLetter: deadLetter);
        await _client.SendMessageAsync(options.ZoomQueueUrl!.AbsoluteUri, "not json {");
        await _client.SendMessageAsync(options.ZoomQueueUrl!.AbsoluteUri, "{\"bot_id\":\"\"}");

        // SQS may hand out a subset per receive: keep receiving until both have been dealt with.
        await Eventually.ReturnsAsync(async () =>
        {
            Assert.Empty(await queue.ReceiveAsync(10, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1), default));
            return await queue.GetDepthAsync(default) == new QueueDepth(0, 0, 2) ? "moved" : null;
        }, Deadline, "both messages to reach the dead-letter queue");
    }

    [Fact]
    public async Task Depth_counts_waiting_delayed_and_in_flight_jobs()
    {
        var (queue, _) = await CreateQueueAsync();
        for (var i = 0; i < 3; i++)
        {
            await queue.EnqueueAsync(Job($"b{i}", "zoom"), default);
        }

        await queue.EnqueueAsync(Job("m", "teams"), default);
        var received = await queue.ReceiveAsync(1, TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(5), default);

        Assert.Single(received);
        Assert.Equal(new QueueDepth(3, 1, 0), await queue.GetDepthAsync(default));
        Assert.Equal("sqs", queue.Kind);
    }

    [Fact]
    public async Task An_empty_queue_returns_nothing_after_the_wait()
    {
        var (queue, _) = await CreateQueueAsync();

        Assert.Empty(await queue.ReceiveAsync(10, TimeSpan.FromSeconds(30), TimeSpan.Zero, default));
        Assert.Empty(await queue.ReceiveAsync(10, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1), default));
    }

    /// <summary>Receives with a zero visibility timeout until the job stops coming; returns each receive count seen.</summary>
    private static async Task<List<int>> ReceiveUntilGoneAsync(SqsBotJobQueue queue)
    {
        var counts = new List<int>();
        var emptyInARow = 0;
        var deadline = DateTime.UtcNow + Deadline;
        while (emptyInARow < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the job was still delivered after {Deadline.TotalSeconds}s (counts so far: {string.Join(",", counts)})");
            var batch = await queue.ReceiveAsync(1, TimeSpan.Zero, TimeSpan.FromSeconds(1), default);
            counts.AddRange(batch.Select(m => m.ReceiveCount));
            emptyInARow = batch.Count == 0 ? emptyInARow + 1 : 0;
        }

        return counts;
    }

    private async Task<(SqsBotJobQueue Queue, QueueOptions Options)> CreateQueueAsync(int maxReceives = 5, Uri? deadLetter = null, bool parleyQueue = false)
    {
        var options = new QueueOptions
        {
            MaxReceives = maxReceives,
            ZoomQueueUrl = await CreateRawQueueAsync("parley-zoom"),
            MeetTeamsQueueUrl = await CreateRawQueueAsync("parley-meet-teams"),
            ParleyQueueUrl = parleyQueue ? await CreateRawQueueAsync("parley-parley") : null,
            DeadLetterQueueUrl = deadLetter,
        };
        return (new SqsBotJobQueue(_client, options, NullLogger<SqsBotJobQueue>.Instance), options);
    }

    private async Task<Uri> CreateRawQueueAsync(string prefix) =>
        new((await _client.CreateQueueAsync(Moto.UniqueName(prefix))).QueueUrl);

    private async Task<long> CountAsync(Uri queueUrl)
    {
        var attributes = await _client.GetQueueAttributesAsync(queueUrl.AbsoluteUri, ["ApproximateNumberOfMessages"]);
        return attributes.ApproximateNumberOfMessages;
    }

    private static string NameOf(Uri url) => url.AbsolutePath.TrimEnd('/').Split('/')[^1];

    private static BotJob Job(string botId, string platform) =>
        new(botId, "team-1", platform, new DateTime(2030, 1, 2, 3, 4, 5, DateTimeKind.Utc));
}
