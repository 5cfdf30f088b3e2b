using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Amazon.SQS;
using Amazon.SQS.Model;
using Microsoft.Extensions.Logging;
using Parley.Core.Queues;
using Parley.Infrastructure.Aws;

namespace Parley.Infrastructure.Queues;

/// <summary>
/// Bot jobs in SQS, one queue per meeting platform family as Meeting BaaS does. Receives poll every queue
/// in turn (starting from a different one each time so that a busy queue does not starve the others).
/// A job delivered more than <see cref="QueueOptions.MaxReceives"/> times is dead-lettered: by SQS itself
/// when the queue has a redrive policy, otherwise here, by moving it to <c>SQS_QUEUE_URL_DEAD_LETTER</c>
/// (or deleting and logging it when none is set).
/// </summary>
public sealed partial class SqsBotJobQueue : IBotJobQueue, IDisposable
{
    /// <summary>SQS limits: 10 messages per receive, 20 s of long polling, 12 h of visibility.</summary>
    public const int MaxMessagesPerReceive = 10;

    private const int MaxWaitSeconds = 20;
    private const int MaxVisibilitySeconds = 43200;
    private const string ReceiveCountAttribute = "ApproximateReceiveCount";
    private static readonly TimeSpan AttributeCacheLifetime = TimeSpan.FromMinutes(5);

    private readonly IAmazonSQS _client;
    private readonly QueueOptions _options;
    private readonly ILogger<SqsBotJobQueue> _logger;
    private readonly bool _ownsClient;
    private readonly string[] _sourceUrls;
    private readonly Dictionary<string, string> _urlsByName;
    private readonly Dictionary<string, string> _namesByUrl;
    private readonly ConcurrentDictionary<string, (string? DeadLetterUrl, DateTime FetchedAt)> _redrive = new(StringComparer.Ordinal);
    private int _nextQueue;

    public SqsBotJobQueue(IAmazonSQS client, QueueOptions options, ILogger<SqsBotJobQueue> logger, bool ownsClient = false)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _ownsClient = ownsClient;
        if (!options.IsSqsConfigured)
        {
            throw new ArgumentException("No SQS queue URL is configured.", nameof(options));
        }

        _sourceUrls = [.. new[] { options.ZoomQueueUrl, options.MeetTeamsQueueUrl, options.ParleyQueueUrl }
            .OfType<Uri>().Select(u => u.AbsoluteUri).Distinct(StringComparer.Ordinal)];
        // Consumers and metrics see the queue's name; two queues of the same name (other accounts or
        // regions) fall back to the full URL so that a receipt always finds its queue again.
        var names = _sourceUrls.Select(NameOf).ToList();
        _namesByUrl = _sourceUrls.ToDictionary(u => u, u => names.Count(n => n == NameOf(u)) > 1 ? u : NameOf(u), StringComparer.Ordinal);
        _urlsByName = _namesByUrl.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);
    }

    public string Kind => "sqs";

    /// <summary>A client for the SQS endpoint and credentials, falling back to the account-wide AWS settings.</summary>
    public static AmazonSQSClient CreateClient(AwsOptions aws, QueueOptions queue)
    {
        ArgumentNullException.ThrowIfNull(aws);
        ArgumentNullException.ThrowIfNull(queue);
        var config = new AmazonSQSConfig();
        AwsClientSettings.Apply(config, aws.Region, queue.EndpointUrl ?? aws.EndpointUrl);
        var credentials = AwsClientSettings.Credentials(queue.AccessKeyId, queue.SecretAccessKey)
            ?? AwsClientSettings.Credentials(aws.AccessKeyId, aws.SecretAccessKey);
        return credentials is not null ? new AmazonSQSClient(credentials, config) : new AmazonSQSClient(config);
    }

    public async Task EnqueueAsync(BotJob job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        var url = _options.QueueUrlFor(job.MeetingPlatform).AbsoluteUri;
        var request = new SendMessageRequest { QueueUrl = url, MessageBody = BotJobSerializer.Serialize(job) };
        if (url.EndsWith(".fifo", StringComparison.Ordinal))
        {
            // FIFO queues need a group and a deduplication id; the bot id makes a re-published outbox row
            // a no-op within SQS's five-minute deduplication window.
            request.MessageGroupId = job.BotId;
            request.MessageDeduplicationId = job.BotId;
        }

        await _client.SendMessageAsync(request, cancellationToken);
    }

    public async Task<IReadOnlyList<ReceivedBotJob>> ReceiveAsync(int maxMessages, TimeSpan visibilityTimeout, TimeSpan waitTime, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessages, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(visibilityTimeout, TimeSpan.Zero);
        var want = Math.Min(maxMessages, MaxMessagesPerReceive);
        var visibility = (int)Math.Clamp(Math.Ceiling(visibilityTimeout.TotalSeconds), 0, MaxVisibilitySeconds);
        var deadline = DateTime.UtcNow + (waitTime > TimeSpan.Zero ? waitTime : TimeSpan.Zero);
        var received = new List<ReceivedBotJob>();
        var first = Interlocked.Increment(ref _nextQueue);
        for (var pass = 0; ; pass++)
        {
            for (var i = 0; i < _sourceUrls.Length && received.Count < want; i++)
            {
                var url = _sourceUrls[(int)((uint)(first + i) % (uint)_sourceUrls.Length)];
                var remaining = (int)Math.Ceiling((deadline - DateTime.UtcNow).TotalSeconds);
                // One queue: one long poll. Several: a quick look at each first, then short long polls in
                // turn, so that a job arriving on any queue waits about a second, not a whole poll of another.
                var wait = _sourceUrls.Length == 1 ? Math.Clamp(remaining, 0, MaxWaitSeconds)
                    : pass == 0 ? 0 : Math.Clamp(remaining, 0, 1);
                await ReceiveFromAsync(url, want - received.Count, visibility, wait, received, cancellationToken);
            }

            if (received.Count > 0 || DateTime.UtcNow >= deadline)
            {
                return received;
            }
        }
    }

    public async Task DeleteAsync(ReceivedBotJob message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            await _client.DeleteMessageAsync(UrlOf(message), message.ReceiptHandle, cancellationToken);
        }
        catch (ReceiptHandleIsInvalidException ex)
        {
            // The job will come back and its consumer, idempotent on bot id, will see it is done.
            LogStaleReceipt(_logger, message.Job.BotId, message.QueueName, "delete", ex.Message);
        }
    }

    public async Task ReleaseAsync(ReceivedBotJob message, TimeSpan delay, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var seconds = (int)Math.Clamp(Math.Ceiling(delay.TotalSeconds), 0, MaxVisibilitySeconds);
        try
        {
            await _client.ChangeMessageVisibilityAsync(new ChangeMessageVisibilityRequest
            {
                QueueUrl = UrlOf(message),
                ReceiptHandle = message.ReceiptHandle,
                VisibilityTimeout = seconds,
            }, cancellationToken);
        }
        catch (Exception ex) when (ex is MessageNotInflightException or ReceiptHandleIsInvalidException)
        {
            // Its visibility timeout already ran out: it is visible again, which is what release asked for.
            LogStaleReceipt(_logger, message.Job.BotId, message.QueueName, "release", ex.Message);
        }
    }

    public async Task<QueueDepth> GetDepthAsync(CancellationToken cancellationToken)
    {
        long visible = 0, inFlight = 0, deadLettered = 0;
        var deadLetterUrls = new HashSet<string>(StringComparer.Ordinal);
        if (_options.DeadLetterQueueUrl is { } configured)
        {
            deadLetterUrls.Add(configured.AbsoluteUri);
        }

        foreach (var url in _sourceUrls)
        {
            var attributes = await GetAttributesAsync(url, cancellationToken);
            visible += Count(attributes, "ApproximateNumberOfMessages") + Count(attributes, "ApproximateNumberOfMessagesDelayed");
            inFlight += Count(attributes, "ApproximateNumberOfMessagesNotVisible");
            if (await RedriveTargetAsync(url, attributes, cancellationToken) is { } target)
            {
                deadLetterUrls.Add(target);
            }
        }

        foreach (var url in deadLetterUrls)
        {
            var attributes = await GetAttributesAsync(url, cancellationToken);
            deadLettered += Count(attributes, "ApproximateNumberOfMessages") + Count(attributes, "ApproximateNumberOfMessagesNotVisible")
                + Count(attributes, "ApproximateNumberOfMessagesDelayed");
        }

        return new QueueDepth(visible, inFlight, deadLettered);
    }

    public void Dispose()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }

    private async Task ReceiveFromAsync(string url, int count, int visibility, int wait, List<ReceivedBotJob> into, CancellationToken cancellationToken)
    {
        var response = await _client.ReceiveMessageAsync(new ReceiveMessageRequest
        {
            QueueUrl = url,
            MaxNumberOfMessages = count,
            VisibilityTimeout = visibility,
            WaitTimeSeconds = wait,
            MessageSystemAttributeNames = [ReceiveCountAttribute],
        }, cancellationToken);

        var redriven = response.Messages is { Count: > 0 } && await RedriveTargetAsync(url, null, cancellationToken) is not null;
        foreach (var message in response.Messages ?? [])
        {
            var receiveCount = message.Attributes is not null && message.Attributes.TryGetValue(ReceiveCountAttribute, out var raw)
                && int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : 1;
            if (!BotJobSerializer.TryDeserialize(message.Body, out var job))
            {
                await DeadLetterAsync(url, message, receiveCount, "the body is not a bot job", cancellationToken);
            }
            else if (receiveCount > _options.MaxReceives && !redriven)
            {
                await DeadLetterAsync(url, message, receiveCount, $"received {receiveCount} times (QUEUE_MAX_RECEIVES={_options.MaxReceives})", cancellationToken);
            }
            else
            {
                into.Add(new ReceivedBotJob(job, message.ReceiptHandle, receiveCount, _namesByUrl[url]));
            }
        }
    }

    private async Task DeadLetterAsync(string url, Message message, int receiveCount, string reason, CancellationToken cancellationToken)
    {
        var name = _namesByUrl[url];
        if (_options.DeadLetterQueueUrl is { } deadLetter)
        {
            // Sent before the delete: a crash in between leaves a copy in both queues, never in neither.
            await _client.SendMessageAsync(new SendMessageRequest
            {
                QueueUrl = deadLetter.AbsoluteUri,
                MessageBody = string.IsNullOrEmpty(message.Body) ? "{}" : message.Body,
                MessageAttributes = new Dictionary<string, MessageAttributeValue>
                {
                    ["source_queue"] = new() { DataType = "String", StringValue = name },
                    ["receive_count"] = new() { DataType = "Number", StringValue = receiveCount.ToString(CultureInfo.InvariantCulture) },
                    ["reason"] = new() { DataType = "String", StringValue = reason },
                },
            }, cancellationToken);
            LogDeadLettered(_logger, message.MessageId, name, reason, NameOf(deadLetter.AbsoluteUri));
        }
        else
        {
            LogDropped(_logger, message.MessageId, name, reason, message.Body ?? "");
        }

        await _client.DeleteMessageAsync(url, message.ReceiptHandle, cancellationToken);
    }

    /// <summary>The dead-letter queue of a queue's redrive policy, if it has one (cached for a few minutes).</summary>
    private async Task<string?> RedriveTargetAsync(string url, Dictionary<string, string>? attributes, CancellationToken cancellationToken)
    {
        if (attributes is null && _redrive.TryGetValue(url, out var cached) && DateTime.UtcNow - cached.FetchedAt < AttributeCacheLifetime)
        {
            return cached.DeadLetterUrl;
        }

        attributes ??= await GetAttributesAsync(url, cancellationToken);
        string? target = null;
        if (attributes.TryGetValue("RedrivePolicy", out var policy) && TryReadTargetArn(policy) is { } arn)
        {
            // arn:aws:sqs:REGION:ACCOUNT:NAME
            var parts = arn.Split(':');
            if (parts.Length == 6)
            {
                target = (await _client.GetQueueUrlAsync(new GetQueueUrlRequest { QueueName = parts[5], QueueOwnerAWSAccountId = parts[4] }, cancellationToken)).QueueUrl;
            }
        }

        _redrive[url] = (target, DateTime.UtcNow);
        return target;
    }

    private static string? TryReadTargetArn(string policy)
    {
        try
        {
            using var document = JsonDocument.Parse(policy);
            return document.RootElement.TryGetProperty("deadLetterTargetArn", out var arn) && arn.ValueKind == JsonValueKind.String ? arn.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async Task<Dictionary<string, string>> GetAttributesAsync(string url, CancellationToken cancellationToken)
    {
        var response = await _client.GetQueueAttributesAsync(new GetQueueAttributesRequest { QueueUrl = url, AttributeNames = ["All"] }, cancellationToken);
        return response.Attributes ?? [];
    }

    private static long Count(Dictionary<string, string> attributes, string name) =>
        attributes.TryGetValue(name, out var raw) && long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 0;

    private string UrlOf(ReceivedBotJob message) =>
        _urlsByName.TryGetValue(message.QueueName, out var url)
            ? url
            : throw new ArgumentException($"'{message.QueueName}' is not one of this queue's SQS queues.", nameof(message));

    private static string NameOf(string url) => url.TrimEnd('/')[(url.TrimEnd('/').LastIndexOf('/') + 1)..];

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Bot job message {MessageId} from {Queue} moved to dead-letter queue {DeadLetterQueue}: {Reason}")]
    private static partial void LogDeadLettered(ILogger logger, string messageId, string queue, string reason, string deadLetterQueue);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Error, Message = "Bot job message {MessageId} from {Queue} deleted without a dead-letter queue (set SQS_QUEUE_URL_DEAD_LETTER or a redrive policy to keep such jobs): {Reason}. Body: {Body}")]
    private static partial void LogDropped(ILogger logger, string messageId, string queue, string reason, string body);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Information, Message = "Could not {Operation} bot job {BotId} on {Queue}; its receipt is no longer valid: {Reason}")]
    private static partial void LogStaleReceipt(ILogger logger, string botId, string queue, string operation, string reason);
}
