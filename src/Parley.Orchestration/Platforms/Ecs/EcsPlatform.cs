using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace Parley.Orchestration.Platforms.Ecs;

/// <summary>
/// Bots as ECS Fargate tasks (Meeboter's task model): RunTask with the meeting platform's task definition,
/// the bot's environment as container overrides, `startedBy` and a tag carrying the bot id; StopTask on
/// cancel. ECS cannot push task exits to us, so <see cref="ListAsync"/> (reconciliation, every check
/// interval) is where stopped tasks are noticed and reported.
/// </summary>
public sealed partial class EcsPlatform(EcsClient client, EcsOptions options, ILogger<EcsPlatform> logger) : IBotPlatform, IDisposable
{
    public const string PlatformName = "aws";

    /// <summary>Tag key with the bot id: what ListAsync reads back (startedBy holds it too when it fits).</summary>
    public const string BotIdTag = "parley:bot-id";

    // RunTask caps startedBy at 36 characters of letters, digits, '-' and '_'; a UUID bot id fits exactly.
    private const int StartedByMax = 36;

    // DescribeTasks takes at most 100 tasks per call.
    private const int DescribeBatch = 100;

    // Stopped tasks stay listed for about an hour; each is reported once. Bounded so a long-lived
    // orchestrator does not grow without limit; the oldest entries are long gone from ECS by then.
    private const int ReportedMax = 10000;

    private readonly ConcurrentDictionary<string, byte> _reported = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _reportedOrder = new();
    private readonly ConcurrentDictionary<string, byte> _cancelled = new(StringComparer.Ordinal);

    public string Name => PlatformName;

    public event Action<PlatformResourceEnded>? ResourceEnded;

    public async Task<string> DeployAsync(BotDeploymentRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var taskDefinition = options.TaskDefinitionFor(request.MeetingPlatform)
            ?? throw new InvalidOperationException($"No ECS task definition for meeting platform '{request.MeetingPlatform}' (see AWS_ECS_TASK_DEF_*).");
        var environment = new JsonArray();
        foreach (var (name, value) in request.Environment.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            environment.Add(new JsonObject { ["name"] = name, ["value"] = value });
        }

        var network = new JsonObject
        {
            ["subnets"] = Strings(options.Subnets ?? []),
            ["assignPublicIp"] = options.AssignPublicIp ? "ENABLED" : "DISABLED",
        };
        if (options.SecurityGroups is { Length: > 0 } groups)
        {
            network["securityGroups"] = Strings(groups);
        }

        var body = new JsonObject
        {
            ["cluster"] = options.Cluster,
            ["taskDefinition"] = taskDefinition,
            ["launchType"] = "FARGATE",
            ["count"] = 1,
            ["startedBy"] = StartedBy(request.BotId),
            ["networkConfiguration"] = new JsonObject { ["awsvpcConfiguration"] = network },
            ["overrides"] = new JsonObject
            {
                ["containerOverrides"] = new JsonArray(new JsonObject { ["name"] = options.ContainerName, ["environment"] = environment }),
            },
            ["tags"] = new JsonArray(
                new JsonObject { ["key"] = BotIdTag, ["value"] = request.BotId },
                new JsonObject { ["key"] = "parley:meeting-platform", ["value"] = request.MeetingPlatform }),
            // Tags on the task itself (not the task definition's) are what DescribeTasks include=TAGS returns.
            ["propagateTags"] = "NONE",
        };

        var answer = await client.SendAsync("RunTask", body, cancellationToken).ConfigureAwait(false);
        if (answer["tasks"] is JsonArray { Count: > 0 } tasks && tasks[0]?["taskArn"]?.GetValue<string>() is { Length: > 0 } arn)
        {
            LogStarted(logger, request.BotId, arn);
            return arn;
        }

        // RunTask answers 200 with `failures` when Fargate has no capacity or the network settings are wrong.
        var failures = answer["failures"] is JsonArray list
            ? string.Join("; ", list.Select(f => $"{f?["reason"]?.GetValue<string>()} {f?["detail"]?.GetValue<string>()}".Trim()))
            : "";
        throw new InvalidOperationException($"ECS RunTask started no task: {(failures.Length > 0 ? failures : "no reason given")}");
    }

    public async Task CancelAsync(string botId, string identifier, CancellationToken cancellationToken)
    {
        // An empty identifier follows a timed-out deployment: stop whatever task the late RunTask started.
        var arns = identifier.Length > 0 ? [identifier] : await RunningTasksOfAsync(botId, cancellationToken).ConfigureAwait(false);
        foreach (var arn in arns)
        {
            _cancelled.TryAdd(arn, 0);
            try
            {
                await client.SendAsync("StopTask", new JsonObject
                {
                    ["cluster"] = options.Cluster,
                    ["task"] = arn,
                    ["reason"] = "Stopped by Parley: the bot was cancelled or ended",
                }, cancellationToken).ConfigureAwait(false);
                LogStopped(logger, botId, arn);
            }
            catch (EcsException ex) when (IsGone(ex))
            {
                // Already stopped and expired from ECS: nothing left to release.
            }
        }
    }

    public async Task<IReadOnlyList<PlatformResource>> ListAsync(CancellationToken cancellationToken)
    {
        var arns = new HashSet<string>(StringComparer.Ordinal);
        foreach (var family in options.TaskDefinitions.Select(FamilyOf).Distinct(StringComparer.Ordinal))
        {
            foreach (var status in (string[])["RUNNING", "STOPPED"])
            {
                arns.UnionWith(await ListTaskArnsAsync(new JsonObject { ["family"] = family, ["desiredStatus"] = status }, cancellationToken).ConfigureAwait(false));
            }
        }

        var resources = new List<PlatformResource>();
        foreach (var task in await DescribeAsync(arns.Where(a => !_reported.ContainsKey(a)).ToList(), cancellationToken).ConfigureAwait(false))
        {
            if (task.BotId is null)
            {
                continue; // Someone else's task of the same family.
            }

            if (task.LastStatus != "STOPPED")
            {
                resources.Add(new PlatformResource(task.BotId, task.Arn));
                continue;
            }

            MarkReported(task.Arn);
            var cancelled = _cancelled.TryRemove(task.Arn, out _);
            var succeeded = task.ExitCode == 0 && !cancelled;
            var detail = task.ExitCode is { } code ? $"task stopped, exit code {code}" : "task stopped";
            if (!string.IsNullOrEmpty(task.StoppedReason))
            {
                detail += ": " + task.StoppedReason;
            }

            LogEnded(logger, task.BotId, task.Arn, detail);
            ResourceEnded?.Invoke(new PlatformResourceEnded(PlatformName, task.BotId, task.Arn, succeeded, detail));
        }

        return resources;
    }

    private async Task<List<string>> RunningTasksOfAsync(string botId, CancellationToken cancellationToken)
    {
        var filter = new JsonObject { ["desiredStatus"] = "RUNNING" };
        if (botId.Length <= StartedByMax)
        {
            filter["startedBy"] = StartedBy(botId);
            return await ListTaskArnsAsync(filter, cancellationToken).ConfigureAwait(false);
        }

        // A long bot id was not usable as startedBy: look for its tag among the running tasks instead.
        var all = await ListTaskArnsAsync(filter, cancellationToken).ConfigureAwait(false);
        return (await DescribeAsync(all, cancellationToken).ConfigureAwait(false)).Where(t => t.BotId == botId).Select(t => t.Arn).ToList();
    }

    private async Task<List<string>> ListTaskArnsAsync(JsonObject filter, CancellationToken cancellationToken)
    {
        var arns = new List<string>();
        string? next = null;
        do
        {
            var body = (JsonObject)filter.DeepClone();
            body["cluster"] = options.Cluster;
            if (next is not null)
            {
                body["nextToken"] = next;
            }

            var answer = await client.SendAsync("ListTasks", body, cancellationToken).ConfigureAwait(false);
            if (answer["taskArns"] is JsonArray list)
            {
                arns.AddRange(list.Select(a => a?.GetValue<string>()).OfType<string>());
            }

            next = answer["nextToken"]?.GetValue<string>();
        }
        while (!string.IsNullOrEmpty(next));
        return arns;
    }

    private async Task<List<EcsTask>> DescribeAsync(IReadOnlyList<string> arns, CancellationToken cancellationToken)
    {
        var tasks = new List<EcsTask>();
        foreach (var chunk in arns.Chunk(DescribeBatch))
        {
            var answer = await client.SendAsync("DescribeTasks", new JsonObject
            {
                ["cluster"] = options.Cluster,
                ["tasks"] = Strings(chunk),
                ["include"] = new JsonArray("TAGS"),
            }, cancellationToken).ConfigureAwait(false);
            if (answer["tasks"] is JsonArray list)
            {
                tasks.AddRange(list.OfType<JsonObject>().Select(t => EcsTask.From(t, options.ContainerName)));
            }
        }

        return tasks;
    }

    private void MarkReported(string arn)
    {
        if (_reported.TryAdd(arn, 0))
        {
            _reportedOrder.Enqueue(arn);
            while (_reportedOrder.Count > ReportedMax && _reportedOrder.TryDequeue(out var old))
            {
                _reported.TryRemove(old, out _);
            }
        }
    }

    private static string StartedBy(string botId) => botId.Length <= StartedByMax ? botId : "parley";

    /// <summary>ListTasks filters by family: "family", "family:3" and "arn:...:task-definition/family:3" all name it.</summary>
    internal static string FamilyOf(string taskDefinition)
    {
        var name = taskDefinition[(taskDefinition.LastIndexOf('/') + 1)..];
        var colon = name.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? name : name[..colon];
    }

    private static bool IsGone(EcsException ex) =>
        ex.ErrorType is "InvalidParameterException" or "ResourceNotFoundException" or "ClientException"
        && ex.Message.Contains("not found", StringComparison.OrdinalIgnoreCase);

    private static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);

    public void Dispose() => client.Dispose();

    /// <summary>The fields of a DescribeTasks entry the platform reads.</summary>
    private sealed record EcsTask(string Arn, string? BotId, string? LastStatus, int? ExitCode, string? StoppedReason)
    {
        public static EcsTask From(JsonObject task, string containerName)
        {
            var arn = task["taskArn"]?.GetValue<string>() ?? "";
            var botId = (task["tags"] as JsonArray)?.OfType<JsonObject>()
                .FirstOrDefault(t => t["key"]?.GetValue<string>() == BotIdTag)?["value"]?.GetValue<string>();
            // Without tags (a region that refuses them, an older account setting) BOT_ID in the overrides still says whose task it is.
            botId ??= (task["overrides"]?["containerOverrides"] as JsonArray)?.OfType<JsonObject>()
                .Where(o => o["name"]?.GetValue<string>() == containerName)
                .SelectMany(o => (o["environment"] as JsonArray)?.OfType<JsonObject>() ?? [])
                .FirstOrDefault(e => e["name"]?.GetValue<string>() == "BOT_ID")?["value"]?.GetValue<string>();
            var container = (task["containers"] as JsonArray)?.OfType<JsonObject>()
                .FirstOrDefault(c => c["name"]?.GetValue<string>() == containerName);
            int? exitCode = container?["exitCode"] is JsonValue code && code.TryGetValue<int>(out var value) ? value : null;
            return new EcsTask(arn, botId, task["lastStatus"]?.GetValue<string>(), exitCode, task["stoppedReason"]?.GetValue<string>());
        }
    }

    [LoggerMessage(EventId = 4300, Level = LogLevel.Information, Message = "Bot {BotId}: ECS task {TaskArn} started")]
    private static partial void LogStarted(ILogger logger, string botId, string taskArn);

    [LoggerMessage(EventId = 4301, Level = LogLevel.Information, Message = "Bot {BotId}: stopping ECS task {TaskArn}")]
    private static partial void LogStopped(ILogger logger, string botId, string taskArn);

    [LoggerMessage(EventId = 4302, Level = LogLevel.Information, Message = "Bot {BotId}: ECS task {TaskArn} ended ({Detail})")]
    private static partial void LogEnded(ILogger logger, string botId, string taskArn, string detail);
}
