using Parley.Core.Configuration;

namespace Parley.Orchestration;

/// <summary>
/// Where bots run and how many: Meeboter's platform chain (PLATFORM_PRIORITY, per-platform limits and
/// deployment timeouts, the global queue) plus the health rules of running bots.
/// </summary>
public sealed class OrchestratorOptions : ISettingsValidation
{
    public const string SectionName = "Orchestrator";

    public static readonly string[] KnownPlatforms = ["local", "k8s", "aws", "coolify"];

    [Setting("PLATFORM_PRIORITY", Description = "Deployment platforms in the order they are tried; a full, failed or timed-out platform falls through to the next.", AllowedValues = ["local", "k8s", "aws", "coolify"])]
    public string[] PlatformPriority { get; set; } = ["local"];

    // 4 bots as child processes fit a small machine (each native bot decodes and writes media); raise it
    // on bigger hosts. The other platforms have no default: without a limit they are skipped.
    [Setting("LOCAL_BOT_LIMIT", Description = "Bots running at once as local processes.", Min = 1, Max = 10000)]
    public int? LocalBotLimit { get; set; } = 4;

    [Setting("K8S_BOT_LIMIT", Description = "Bots running at once as Kubernetes Jobs. Unset: k8s is skipped.", Min = 1, Max = 100000)]
    public int? KubernetesBotLimit { get; set; }

    [Setting("AWS_BOT_LIMIT", Description = "Bots running at once as ECS tasks. Unset: aws is skipped.", Min = 1, Max = 100000)]
    public int? AwsBotLimit { get; set; }

    [Setting("COOLIFY_BOT_LIMIT", Description = "Bots running at once in the Coolify pool. Unset: coolify is skipped.", Min = 1, Max = 100000)]
    public int? CoolifyBotLimit { get; set; }

    [Setting("LOCAL_QUEUE_TIMEOUT_MS", Description = "How long starting a local bot process may take before the next platform is tried.", Min = 100, Max = 3600000)]
    public int LocalQueueTimeoutMs { get; set; } = 30000;

    [Setting("K8S_QUEUE_TIMEOUT_MS", Description = "How long creating a Kubernetes Job may take before the next platform is tried.", Min = 100, Max = 3600000)]
    public int KubernetesQueueTimeoutMs { get; set; } = 60000;

    [Setting("AWS_QUEUE_TIMEOUT_MS", Description = "How long starting an ECS task may take before the next platform is tried.", Min = 100, Max = 3600000)]
    public int AwsQueueTimeoutMs { get; set; } = 30000;

    [Setting("COOLIFY_QUEUE_TIMEOUT_MS", Description = "How long taking a Coolify slot may take before the next platform is tried.", Min = 100, Max = 3600000)]
    public int CoolifyQueueTimeoutMs { get; set; } = 300000;

    // 30 s: what Kubernetes gives a pod between SIGTERM and SIGKILL by default, long enough for a bot to
    // leave, finalise its recording files and report; uploads go on in the background of a completed bot.
    [Setting("LOCAL_BOT_STOP_GRACE_MS", Description = "How long a local bot process has to exit after SIGTERM (leave the meeting, flush, report) before it is killed with SIGKILL; 0 kills at once.", Min = 0, Max = 3600000)]
    public int LocalBotStopGraceMs { get; set; } = 30000;

    [Setting("GLOBAL_QUEUE_TIMEOUT_MS", Description = "How long a bot waits for capacity on any platform before it fails with PICKUP_TIMEOUT.", Min = 100, Max = 86400000)]
    public int GlobalQueueTimeoutMs { get; set; } = 600000;

    [Setting("DEPLOYMENT_QUEUE_MAX_CONCURRENT", Description = "Deployments in flight at once per orchestrator replica.", Min = 1, Max = 1000)]
    public int DeploymentQueueMaxConcurrent { get; set; } = 4;

    [Setting("BOT_HEARTBEAT_TIMEOUT_MS", Description = "A live bot without a heartbeat for this long fails with HEARTBEAT_TIMEOUT and its platform resource is released.", Min = 100, Max = 86400000)]
    public int HeartbeatTimeoutMs { get; set; } = 300000;

    [Setting("BOT_DEPLOY_TIMEOUT_MS", Description = "A bot handed to a platform that has not reported joining after this long fails with DEPLOYMENT_FAILED.", Min = 100, Max = 86400000)]
    public int DeployTimeoutMs { get; set; } = 900000;

    [Setting("PARLEY_ORCHESTRATOR_CHECK_INTERVAL_MS", Description = "How often the orchestrator checks heartbeats, expires and drains the global queue and reconciles platform resources.", Min = 20, Max = 600000)]
    public int CheckIntervalMs { get; set; } = 5000;

    /// <summary>The configured limit of a platform, null when none is set.</summary>
    public int? LimitOf(string platform) => platform switch
    {
        "local" => LocalBotLimit,
        "k8s" => KubernetesBotLimit,
        "aws" => AwsBotLimit,
        "coolify" => CoolifyBotLimit,
        _ => null,
    };

    public TimeSpan DeploymentTimeoutOf(string platform) => TimeSpan.FromMilliseconds(platform switch
    {
        "k8s" => KubernetesQueueTimeoutMs,
        "aws" => AwsQueueTimeoutMs,
        "coolify" => CoolifyQueueTimeoutMs,
        _ => LocalQueueTimeoutMs,
    });

    /// <summary>The priority list without repeats, lower case, in order.</summary>
    public IReadOnlyList<string> Chain => PlatformPriority.Select(p => p.Trim().ToLowerInvariant()).Where(p => p.Length > 0).Distinct().ToList();

    public void Validate(SettingsValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Chain.Count == 0)
        {
            context.Add("PLATFORM_PRIORITY", context.Raw("PLATFORM_PRIORITY"), "expected at least one of local, k8s, aws, coolify");
        }
    }
}
