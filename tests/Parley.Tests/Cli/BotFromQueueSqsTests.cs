using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.SQS;
using Amazon.SQS.Model;
using Parley.Testing;

namespace Parley.Tests.Cli;

/// <summary>
/// Pull mode on SQS, as a KEDA ScaledJob runs it: `parley serve --roles api` publishes each bot job to the
/// SQS queue of its meeting platform (moto_server), and `parley bot run --from-queue` takes one, runs the bot
/// and deletes the message only once the bot reached a terminal status. No orchestrator runs, so nothing
/// else consumes the queue.
/// </summary>
public sealed class BotFromQueueSqsTests
{
    private const string Key = "0123456789abcdef0123456789abcdef";

    [Fact]
    public async Task From_queue_on_sqs_receives_one_job_runs_the_bot_to_its_end_and_deletes_the_message()
    {
        await using var setup = await SqsSetup.StartAsync();

        // Zoom has no meeting adapter in this build: the bot fails at once with CANNOT_JOIN_MEETING, a terminal
        // status reached through the whole runtime (config fetch with the minted token, status reports).
        var botId = await setup.CreateBotAsync("https://us02web.zoom.us/j/81234567890?pwd=abc");
        var other = await setup.CreateBotAsync("https://us02web.zoom.us/j/81234567891?pwd=abc");
        await setup.WaitForMessagesAsync(visible: 2);

        await using (var bot = setup.StartFromQueue())
        {
            var code = await bot.WaitForExitAsync(TimeSpan.FromSeconds(120));
            Assert.True(code == 0, $"exit {code}\nstdout:\n{bot.Stdout}\nstderr:\n{bot.Stderr}");
        }

        // Exactly one job was taken (the oldest-first order of a standard queue is not guaranteed): that bot
        // ended, the other one still waits, queued, with its message visible.
        var first = await setup.BotAsync(botId);
        var second = await setup.BotAsync(other);
        var firstRan = first.GetProperty("status").GetString() == "failed";
        var ran = firstRan ? first : second;
        var waiting = firstRan ? second : first;
        Assert.Equal("failed", ran.GetProperty("status").GetString());
        Assert.Equal("CANNOT_JOIN_MEETING", ran.GetProperty("error_code").GetString());
        Assert.Contains("zoom", ran.GetProperty("error_message").GetString(), StringComparison.Ordinal);
        Assert.Equal("queued", waiting.GetProperty("status").GetString());
        Assert.Equal((1, 0), await setup.CountsAsync());

        // The second run takes the other job; then the queue is empty and a third run has nothing to do.
        await using (var bot = setup.StartFromQueue())
        {
            Assert.Equal(0, await bot.WaitForExitAsync(TimeSpan.FromSeconds(120)));
        }

        Assert.Equal("failed", (await setup.BotAsync(waiting.GetProperty("bot_id").GetString()!)).GetProperty("status").GetString());
        Assert.Equal((0, 0), await setup.CountsAsync());
        await using (var idle = setup.StartFromQueue(waitMs: 1000))
        {
            Assert.Equal(0, await idle.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains("no job in the sqs queue; nothing to do", idle.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_from_queue_bot_killed_before_its_terminal_status_leaves_the_message_for_redelivery()
    {
        await using var setup = await SqsSetup.StartAsync();
        var botId = await setup.CreateBotAsync("https://us02web.zoom.us/j/81234567892?pwd=abc");
        await setup.WaitForMessagesAsync(visible: 1);

        // The scripted adapter stays in the call; the process is then killed (SIGKILL: no leave, no report),
        // as an evicted pod or a crashed node would end it.
        var extra = new Dictionary<string, string?>
        {
            ["PARLEY_BOT_TEST_ADAPTER"] = "scripted",
            ["PARLEY_BOT_SCRIPT"] = """[{"status":"in_call_recording"},{"wait_ms":600000}]""",
        };
        await using (var bot = setup.StartFromQueue(extra: extra))
        {
            await Eventually.ReturnsAsync(
                async () => (await setup.BotAsync(botId)).GetProperty("status").GetString() == "in_call_recording" ? (object?)true : null,
                TimeSpan.FromSeconds(120), "the bot in the call");
            Assert.Equal((0, 1), await setup.CountsAsync()); // received, invisible while the bot runs
            using (var kill = Process.Start("kill", ["-KILL", bot.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            Assert.Equal(128 + 9, await bot.WaitForExitAsync(TimeSpan.FromSeconds(30))); // killed by signal 9
        }

        Assert.Equal("in_call_recording", (await setup.BotAsync(botId)).GetProperty("status").GetString());

        // Not deleted: once the visibility timeout (PARLEY_BOT_QUEUE_VISIBILITY_SECONDS, 30 s here) runs out
        // the same job is delivered again, and a new consumer runs the bot to its end and deletes it.
        await setup.WaitForMessagesAsync(visible: 1, TimeSpan.FromSeconds(90));
        await using (var again = setup.StartFromQueue())
        {
            var code = await again.WaitForExitAsync(TimeSpan.FromSeconds(120));
            Assert.True(code == 0, $"exit {code}\nstdout:\n{again.Stdout}\nstderr:\n{again.Stderr}");
            Assert.Contains("(delivery 2)", again.Stdout, StringComparison.Ordinal);
        }

        var ended = await setup.BotAsync(botId);
        Assert.Equal("failed", ended.GetProperty("status").GetString());
        Assert.Equal("CANNOT_JOIN_MEETING", ended.GetProperty("error_code").GetString());
        Assert.Equal((0, 0), await setup.CountsAsync());
    }

    /// <summary>Three fresh SQS queues on moto_server, and `parley serve --roles api` publishing to them.</summary>
    private sealed class SqsSetup : IAsyncDisposable
    {
        private readonly AmazonSQSClient _sqs;
        private readonly Dictionary<string, string?> _environment;
        private readonly TempDirectory _directory = new();
        private readonly RunningServer _server;
        private readonly string[] _queues;

        private SqsSetup(AmazonSQSClient sqs, Dictionary<string, string?> environment, string[] queues)
        {
            _sqs = sqs;
            _environment = environment;
            _queues = queues;
            _environment["PARLEY_DATA_DIR"] = Path.Combine(_directory.Path, "data");
            _server = RunningServer.Start(environment, ["--roles", "api"], _directory);
            _server.Http.DefaultRequestHeaders.Add("x-meeting-baas-api-key", Key);
        }

        public static async Task<SqsSetup> StartAsync()
        {
            var endpoint = TestEnvironment.AwsEndpointUrl; // fails with a clear message when moto_server is not there
            var sqs = new AmazonSQSClient(new BasicAWSCredentials("test", "test"), new AmazonSQSConfig { ServiceURL = endpoint, AuthenticationRegion = "us-east-1" });
            var suffix = Guid.NewGuid().ToString("N")[..8];
            var zoom = (await sqs.CreateQueueAsync($"pull-zoom-{suffix}")).QueueUrl;
            var meetTeams = (await sqs.CreateQueueAsync($"pull-meet-teams-{suffix}")).QueueUrl;
            var parley = (await sqs.CreateQueueAsync($"pull-parley-{suffix}")).QueueUrl;
            var environment = new Dictionary<string, string?>
            {
                ["STATIC_API_KEY"] = Key,
                ["AWS_ENDPOINT_URL"] = endpoint,
                ["AWS_REGION"] = "us-east-1",
                ["AWS_ACCESS_KEY_ID"] = "test",
                ["AWS_SECRET_ACCESS_KEY"] = "test",
                ["SQS_QUEUE_URL_ZOOM"] = zoom,
                ["SQS_QUEUE_URL_MEET_TEAMS"] = meetTeams,
                ["SQS_QUEUE_URL_PARLEY"] = parley,
            };
            var setup = new SqsSetup(sqs, environment, [zoom, meetTeams, parley]);
            await setup._server.WaitForStatusAsync("/ready", HttpStatusCode.OK);
            return setup;
        }

        public async Task<string> CreateBotAsync(string meetingUrl)
        {
            using var response = await _server.Http.PostAsJsonAsync("/v2/bots", new { bot_name = "pull", meeting_url = meetingUrl });
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Created, body);
            using var json = JsonDocument.Parse(body);
            return json.RootElement.GetProperty("data").GetProperty("bot_id").GetString()!;
        }

        public async Task<JsonElement> BotAsync(string botId)
        {
            using var json = JsonDocument.Parse(await _server.Http.GetStringAsync($"/v2/bots/{botId}"));
            return json.RootElement.GetProperty("data").Clone();
        }

        /// <summary>(visible, in flight) messages over the three queues.</summary>
        public async Task<(int Visible, int InFlight)> CountsAsync()
        {
            int visible = 0, inFlight = 0;
            foreach (var url in _queues)
            {
                var attributes = await _sqs.GetQueueAttributesAsync(url, ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]);
                visible += attributes.ApproximateNumberOfMessages;
                inFlight += attributes.ApproximateNumberOfMessagesNotVisible;
            }

            return (visible, inFlight);
        }

        public Task WaitForMessagesAsync(int visible, TimeSpan? timeout = null) =>
            Eventually.ReturnsAsync(
                async () => (await CountsAsync()).Visible == visible ? (object?)true : null,
                timeout ?? TimeSpan.FromSeconds(60), $"{visible} visible job(s) in the SQS queues");

        public ParleyProcess StartFromQueue(int waitMs = 5000, IReadOnlyDictionary<string, string?>? extra = null)
        {
            var environment = new Dictionary<string, string?>(_environment)
            {
                ["PARLEY_API_URL"] = _server.Http.BaseAddress!.ToString(),
                ["PARLEY_BOT_QUEUE_WAIT_MS"] = waitMs.ToString(CultureInfo.InvariantCulture),
                ["PARLEY_BOT_QUEUE_VISIBILITY_SECONDS"] = "30",
                ["BOT_HEARTBEAT_INTERVAL_MS"] = "500",
            };
            foreach (var (name, value) in extra ?? new Dictionary<string, string?>())
            {
                environment[name] = value;
            }

            return ParleyProcess.Start(["bot", "run", "--from-queue"], environment, _directory.Path);
        }

        public async ValueTask DisposeAsync()
        {
            await _server.DisposeAsync();
            foreach (var url in _queues)
            {
                await _sqs.DeleteQueueAsync(url);
            }

            _sqs.Dispose();
            _directory.Dispose();
        }
    }
}
