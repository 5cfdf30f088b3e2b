using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Parley.Orchestration.Platforms.Kubernetes;

/// <summary>
/// Bots as Kubernetes Jobs: one batch/v1 Job per bot in K8S_NAMESPACE running `parley bot run`. The Job is
/// the whole state (found again by its labels after a restart or from another replica), never retried
/// (`backoffLimit: 0`: a bot that crashed must not join the meeting twice) and removed by Kubernetes
/// K8S_JOB_TTL_SECONDS after it finished, which keeps its pod's log readable for a while. The bot's
/// credentials (BOT_TOKEN, secret storage settings) are not written into the Job, which anyone who may read
/// Jobs or pods sees: they go into a Secret of the same name that the container reads through secretKeyRef,
/// owned by the Job (ownerReferences) so Kubernetes deletes it with the Job.
/// </summary>
public sealed partial class KubernetesPlatform : IBotPlatform, IDisposable
{
    public const string PlatformName = "k8s";

    public const string NameLabel = "app.kubernetes.io/name";

    public const string NameLabelValue = "parley-bot";

    public const string BotIdLabel = "parley.dev/bot-id";

    private const string JobPrefix = "parley-bot-";

    /// <summary>
    /// A bot Secret without an owner and without its Job this long after its creation was left by a
    /// deployment that died between the two creations (or whose owner patch failed): removed. Far above the
    /// milliseconds between creating the Secret and the Job, so a deployment in flight is never touched.
    /// </summary>
    private static readonly TimeSpan OrphanSecretAge = TimeSpan.FromMinutes(10);

    private readonly KubernetesOptions _options;
    private readonly ILogger<KubernetesPlatform> _logger;
    private readonly TimeSpan _pullPollInterval;
    private readonly Lazy<IKubernetes> _client;
    private readonly ConcurrentDictionary<string, ImagePullState> _images = new(StringComparer.Ordinal);

    /// <summary>Finished Jobs already reported, so a Job kept until its TTL is reported once.</summary>
    private readonly ConcurrentDictionary<string, byte> _reported = new(StringComparer.Ordinal);

    /// <param name="pullPollInterval">How often the pod of a first pull is checked (tests shorten it).</param>
    public KubernetesPlatform(KubernetesOptions options, ILogger<KubernetesPlatform> logger, TimeSpan? pullPollInterval = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _logger = logger;
        _pullPollInterval = pullPollInterval ?? TimeSpan.FromSeconds(1);
        // Built on first use: a missing kubeconfig fails deployments (they fall through to the next
        // platform, with the reason in the log) instead of stopping the server at start.
        _client = new Lazy<IKubernetes>(() => new k8s.Kubernetes(LoadConfiguration(options)));
    }

    public string Name => PlatformName;

    public event Action<PlatformResourceEnded>? ResourceEnded;

    public async Task<string> DeployAsync(BotDeploymentRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var image = _options.ImageFor(request.MeetingPlatform);
        var job = BuildJob(request, image);
        var secret = BuildSecret(request);
        var name = job.Metadata.Name;
        if (!_options.ImagePullLockEnabled)
        {
            await CreateAsync(job, secret, cancellationToken).ConfigureAwait(false);
            return name;
        }

        var pull = _images.GetOrAdd(image, _ => new ImagePullState());
        if (pull.Started)
        {
            await CreateAsync(job, secret, cancellationToken).ConfigureAwait(false);
            return name;
        }

        await pull.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Another deployment may have seen the image start while this one waited, or a pod of an
            // earlier run of the server may have pulled it already.
            if (!pull.Started && await AnyPodStartedAsync($"{NameLabel}={NameLabelValue}", image, cancellationToken).ConfigureAwait(false))
            {
                pull.Started = true;
            }

            await CreateAsync(job, secret, cancellationToken).ConfigureAwait(false);
            if (!pull.Started)
            {
                LogWaitingForPull(_logger, request.BotId, image);
                await WaitForPullAsync(job, image, cancellationToken).ConfigureAwait(false);
                pull.Started = true;
            }
        }
        finally
        {
            pull.Lock.Release();
        }

        return name;
    }

    public async Task CancelAsync(string botId, string identifier, CancellationToken cancellationToken)
    {
        var name = string.IsNullOrEmpty(identifier) ? JobName(botId) : identifier;
        try
        {
            // Background: the Job goes at once and the garbage collector removes its pod, which gets its
            // SIGTERM (the bot leaves the meeting and reports) without this call waiting for it.
            await _client.Value.BatchV1.DeleteNamespacedJobAsync(name, _options.Namespace, propagationPolicy: "Background", cancellationToken: cancellationToken).ConfigureAwait(false);
            LogDeleted(_logger, botId, name);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // Already gone (TTL, a previous cancel, another replica).
        }

        // The garbage collector removes an owned Secret with its Job; this covers one whose owner was never
        // set (the patch failed) and does not wait for the collector.
        await DeleteSecretAsync(name, cancellationToken).ConfigureAwait(false);
    }

    private async Task DeleteSecretAsync(string? name, CancellationToken cancellationToken)
    {
        if (name is null)
        {
            return;
        }

        try
        {
            await _client.Value.CoreV1.DeleteNamespacedSecretAsync(name, _options.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // Gone with its Job, or never created (a bot without credentials).
        }
    }

    /// <summary>
    /// The running Jobs of bots. Jobs that finished are not held resources (Kubernetes removes them after the
    /// TTL); each is reported once through <see cref="ResourceEnded"/>, a failed one as not succeeded.
    /// </summary>
    public async Task<IReadOnlyList<PlatformResource>> ListAsync(CancellationToken cancellationToken)
    {
        var jobs = await _client.Value.BatchV1.ListNamespacedJobAsync(_options.Namespace, labelSelector: $"{NameLabel}={NameLabelValue}", cancellationToken: cancellationToken).ConfigureAwait(false);
        var running = new List<PlatformResource>();
        var ended = new List<PlatformResourceEnded>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var job in jobs.Items)
        {
            var name = job.Metadata.Name;
            names.Add(name);
            var botId = BotIdOf(job);
            if (botId is null || job.Metadata.DeletionTimestamp is not null)
            {
                continue;
            }

            var finished = Finished(job);
            if (finished is null)
            {
                running.Add(new PlatformResource(botId, name));
            }
            else if (_reported.TryAdd(name, 0))
            {
                ended.Add(new PlatformResourceEnded(PlatformName, botId, name, finished.Value.Succeeded, finished.Value.Detail));
            }
        }

        // Forget Jobs Kubernetes has removed, so the set does not grow forever.
        foreach (var name in _reported.Keys.Where(n => !names.Contains(n)))
        {
            _reported.TryRemove(name, out _);
        }

        foreach (var end in ended)
        {
            LogFinished(_logger, end.BotId, end.Identifier, end.Detail);
            ResourceEnded?.Invoke(end);
        }

        await RemoveOrphanSecretsAsync(names, cancellationToken).ConfigureAwait(false);
        return running;
    }

    /// <summary>Bot Secrets with neither an owner nor a Job of their name, older than <see cref="OrphanSecretAge"/>.</summary>
    private async Task RemoveOrphanSecretsAsync(HashSet<string> jobs, CancellationToken cancellationToken)
    {
        var secrets = await _client.Value.CoreV1.ListNamespacedSecretAsync(_options.Namespace, labelSelector: $"{NameLabel}={NameLabelValue}", cancellationToken: cancellationToken).ConfigureAwait(false);
        var cutoff = DateTime.UtcNow - OrphanSecretAge;
        foreach (var secret in secrets.Items)
        {
            var name = secret.Metadata.Name;
            if (jobs.Contains(name) || secret.Metadata.OwnerReferences is { Count: > 0 } || secret.Metadata.DeletionTimestamp is not null
                || secret.Metadata.CreationTimestamp is not { } created || created.ToUniversalTime() > cutoff)
            {
                continue;
            }

            LogOrphanSecret(_logger, name);
            await DeleteSecretAsync(name, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>`parley-bot-{bot id}`: the whole id, since the first characters of a v7 id are its timestamp.</summary>
    public static string JobName(string botId)
    {
        ArgumentNullException.ThrowIfNull(botId);
        var safe = Sanitise(botId);
        // Job names become the pods' `job-name` label: 63 characters at most.
        if (safe == botId.ToLowerInvariant() && JobPrefix.Length + safe.Length <= 63 && safe.Length > 0)
        {
            return JobPrefix + safe;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(botId)))[..10];
        var head = safe.Length > 63 - JobPrefix.Length - 11 ? safe[..(63 - JobPrefix.Length - 11)].TrimEnd('-') : safe;
        return head.Length == 0 ? JobPrefix + hash : $"{JobPrefix}{head}-{hash}";
    }

    /// <summary>The bot's credentials as a Secret named like its Job; null when it has none.</summary>
    internal V1Secret? BuildSecret(BotDeploymentRequest request)
    {
        var data = request.Environment.Where(e => request.IsSecret(e.Key)).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        if (data.Count == 0)
        {
            return null;
        }

        return new V1Secret
        {
            ApiVersion = "v1",
            Kind = "Secret",
            Type = "Opaque",
            Metadata = new V1ObjectMeta
            {
                Name = JobName(request.BotId),
                NamespaceProperty = _options.Namespace,
                Labels = Labels(request.BotId),
                Annotations = new Dictionary<string, string>(StringComparer.Ordinal) { [BotIdLabel] = request.BotId },
            },
            StringData = data,
        };
    }

    internal V1Job BuildJob(BotDeploymentRequest request, string image)
    {
        var labels = Labels(request.BotId);
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [BotIdLabel] = request.BotId,
            ["parley.dev/meeting-platform"] = request.MeetingPlatform,
        };
        var secretName = JobName(request.BotId);
        var container = new V1Container
        {
            Name = "bot",
            Image = image,
            Command = ["parley"],
            Args = ["bot", "run", "--bot-id", request.BotId],
            // Credentials by reference to the bot's Secret (BuildSecret), the rest as plain values.
            Env = request.Environment.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => request.IsSecret(e.Key)
                ? new V1EnvVar { Name = e.Key, ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = secretName, Key = e.Key, Optional = false } } }
                : new V1EnvVar { Name = e.Key, Value = e.Value }).ToList(),
            Resources = new V1ResourceRequirements
            {
                Requests = new Dictionary<string, ResourceQuantity>
                {
                    ["cpu"] = new(_options.CpuRequest),
                    ["memory"] = new(_options.MemoryRequest),
                },
                Limits = new Dictionary<string, ResourceQuantity>
                {
                    ["cpu"] = new(_options.CpuLimit),
                    ["memory"] = new(_options.MemoryLimit),
                },
            },
        };
        return new V1Job
        {
            ApiVersion = "batch/v1",
            Kind = "Job",
            Metadata = new V1ObjectMeta
            {
                Name = JobName(request.BotId),
                NamespaceProperty = _options.Namespace,
                Labels = labels,
                Annotations = annotations,
            },
            Spec = new V1JobSpec
            {
                BackoffLimit = 0,
                TtlSecondsAfterFinished = _options.JobTtlSeconds,
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string>(labels), Annotations = new Dictionary<string, string>(annotations) },
                    Spec = new V1PodSpec
                    {
                        RestartPolicy = "Never",
                        Containers = [container],
                        ImagePullSecrets = _options.ImagePullSecret is { } secret ? [new V1LocalObjectReference { Name = secret }] : null,
                    },
                },
            },
        };
    }

    private static Dictionary<string, string> Labels(string botId) => new(StringComparer.Ordinal)
    {
        [NameLabel] = NameLabelValue,
        ["app.kubernetes.io/managed-by"] = "parley",
        // Label values are limited (63 characters, few symbols); the annotation keeps the exact id.
        [BotIdLabel] = LabelValue(botId),
    };

    /// <summary>
    /// The Secret first (so the pod never starts without it), then the Job, then the Job becomes the Secret's
    /// owner (its uid exists only now). A Job that cannot be created takes its Secret with it; a failed owner
    /// patch only leaves the Secret to CancelAsync and reconciliation.
    /// </summary>
    private async Task CreateAsync(V1Job job, V1Secret? secret, CancellationToken cancellationToken)
    {
        var botId = BotIdOf(job) ?? "";
        if (secret is not null)
        {
            await CreateSecretAsync(secret, cancellationToken).ConfigureAwait(false);
        }

        V1Job created;
        try
        {
            created = await _client.Value.BatchV1.CreateNamespacedJobAsync(job, _options.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException ex)
        {
            // A Job of that name already exists (another attempt for this bot): the Secret is its.
            if (ex.Response.StatusCode != HttpStatusCode.Conflict)
            {
                await DeleteSecretAsync(secret?.Metadata.Name, CancellationToken.None).ConfigureAwait(false);
            }

            // The API server's own message (quota exceeded, forbidden, namespace missing) is what an
            // operator needs; the exception's is only the status code.
            throw new InvalidOperationException($"Kubernetes refused Job {job.Metadata.Name} in {_options.Namespace}: {(int)ex.Response.StatusCode} {ex.Response.Content}", ex);
        }
        catch
        {
            await DeleteSecretAsync(secret?.Metadata.Name, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        LogCreated(_logger, botId, job.Metadata.Name, job.Spec.Template.Spec.Containers[0].Image);
        if (secret is not null)
        {
            await SetOwnerAsync(secret.Metadata.Name, created, botId, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Creates the bot's Secret, replacing one a previous attempt for the same bot left (its token is void).</summary>
    private async Task CreateSecretAsync(V1Secret secret, CancellationToken cancellationToken)
    {
        try
        {
            await _client.Value.CoreV1.CreateNamespacedSecretAsync(secret, _options.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.Conflict)
        {
            await _client.Value.CoreV1.ReplaceNamespacedSecretAsync(secret, secret.Metadata.Name, _options.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException ex)
        {
            throw new InvalidOperationException($"Kubernetes refused Secret {secret.Metadata.Name} in {_options.Namespace}: {(int)ex.Response.StatusCode} {ex.Response.Content}", ex);
        }
    }

    private async Task SetOwnerAsync(string secretName, V1Job job, string botId, CancellationToken cancellationToken)
    {
        var uid = job.Metadata?.Uid;
        try
        {
            if (string.IsNullOrEmpty(uid))
            {
                throw new InvalidOperationException("the created Job has no uid");
            }

            // A JSON merge patch (RFC 7386) of ownerReferences alone, every field set: a null would delete.
            var patch = new
            {
                metadata = new
                {
                    ownerReferences = new[]
                    {
                        new { apiVersion = "batch/v1", kind = "Job", name = job.Metadata!.Name, uid, controller = false, blockOwnerDeletion = false },
                    },
                },
            };
            await _client.Value.CoreV1.PatchNamespacedSecretAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), secretName, _options.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpOperationException or InvalidOperationException)
        {
            LogOwnerFailed(_logger, botId, secretName, ex.Message);
        }
    }

    /// <summary>
    /// Waits until the new Job's pod started its container (the image is on the node). An image that cannot
    /// be pulled fails the deployment; the Job is deleted so the bot does not start later elsewhere too.
    /// The orchestrator's token bounds the wait (K8S_QUEUE_TIMEOUT_MS).
    /// </summary>
    private async Task WaitForPullAsync(V1Job job, string image, CancellationToken cancellationToken)
    {
        var botId = BotIdOf(job) ?? "";
        try
        {
            while (true)
            {
                var pods = await _client.Value.CoreV1.ListNamespacedPodAsync(_options.Namespace, labelSelector: $"job-name={job.Metadata.Name}", cancellationToken: cancellationToken).ConfigureAwait(false);
                foreach (var pod in pods.Items)
                {
                    var status = pod.Status?.ContainerStatuses?.FirstOrDefault();
                    if (Started(status))
                    {
                        return;
                    }

                    if (status?.State?.Waiting?.Reason is "ErrImagePull" or "ImagePullBackOff" or "InvalidImageName")
                    {
                        throw new InvalidOperationException($"Kubernetes cannot pull {image}: {status.State.Waiting.Reason} {status.State.Waiting.Message}".TrimEnd());
                    }
                }

                await Task.Delay(_pullPollInterval, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            await CancelAsync(botId, job.Metadata.Name, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    private async Task<bool> AnyPodStartedAsync(string selector, string image, CancellationToken cancellationToken)
    {
        var pods = await _client.Value.CoreV1.ListNamespacedPodAsync(_options.Namespace, labelSelector: selector, cancellationToken: cancellationToken).ConfigureAwait(false);
        return pods.Items.Any(p => p.Status?.ContainerStatuses?.Any(s => s.Image == image && Started(s)) == true
            || p.Spec?.Containers?.FirstOrDefault()?.Image == image && Started(p.Status?.ContainerStatuses?.FirstOrDefault()));
    }

    /// <summary>A container that runs or ran had its image on the node.</summary>
    private static bool Started(V1ContainerStatus? status) =>
        status?.State?.Running is not null || status?.State?.Terminated is not null || status?.LastState?.Terminated is not null;

    /// <summary>(succeeded, detail) for a Job with a true Complete or Failed condition, null while it runs.</summary>
    private static (bool Succeeded, string Detail)? Finished(V1Job job)
    {
        foreach (var condition in job.Status?.Conditions ?? [])
        {
            if (!string.Equals(condition.Status, "True", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (condition.Type == "Complete")
            {
                return (true, "Job complete");
            }

            if (condition.Type == "Failed")
            {
                var detail = $"Job failed: {condition.Reason}";
                return (false, string.IsNullOrEmpty(condition.Message) ? detail : $"{detail}: {condition.Message}");
            }
        }

        return null;
    }

    private static string? BotIdOf(V1Job job) =>
        job.Metadata.Annotations?.TryGetValue(BotIdLabel, out var id) == true ? id
        : job.Metadata.Labels?.TryGetValue(BotIdLabel, out var label) == true ? label : null;

    private static string LabelValue(string botId)
    {
        var value = new string([.. botId.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-')]);
        value = value.Length > 63 ? value[..63] : value;
        return value.Trim('-', '_', '.');
    }

    private static string Sanitise(string botId) =>
        new string([.. botId.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')]).Trim('-');

    private static KubernetesClientConfiguration LoadConfiguration(KubernetesOptions options)
    {
        if (!string.IsNullOrEmpty(options.KubeConfig))
        {
            return KubernetesClientConfiguration.BuildConfigFromConfigFile(options.KubeConfig);
        }

        if (!KubernetesClientConfiguration.IsInCluster())
        {
            throw new InvalidOperationException("K8S_KUBECONFIG is unset and this process does not run inside a Kubernetes cluster.");
        }

        return KubernetesClientConfiguration.InClusterConfig();
    }

    public void Dispose()
    {
        if (_client.IsValueCreated)
        {
            _client.Value.Dispose();
        }

        foreach (var pull in _images.Values)
        {
            pull.Lock.Dispose();
        }
    }

    private sealed class ImagePullState
    {
        public SemaphoreSlim Lock { get; } = new(1, 1);

        public volatile bool Started;
    }

    [LoggerMessage(EventId = 4110, Level = LogLevel.Information, Message = "Bot {BotId}: Kubernetes Job {Job} created with image {Image}")]
    private static partial void LogCreated(ILogger logger, string botId, string job, string image);

    [LoggerMessage(EventId = 4111, Level = LogLevel.Information, Message = "Bot {BotId}: waiting for the first pod of image {Image} to start before deploying more bots with it")]
    private static partial void LogWaitingForPull(ILogger logger, string botId, string image);

    [LoggerMessage(EventId = 4112, Level = LogLevel.Information, Message = "Bot {BotId}: Kubernetes Job {Job} deleted")]
    private static partial void LogDeleted(ILogger logger, string botId, string job);

    [LoggerMessage(EventId = 4113, Level = LogLevel.Information, Message = "Bot {BotId}: Kubernetes Job {Job} finished ({Detail})")]
    private static partial void LogFinished(ILogger logger, string botId, string job, string detail);

    [LoggerMessage(EventId = 4114, Level = LogLevel.Warning, Message = "Bot {BotId}: could not make Job {Secret} the owner of its Secret ({Error}); the Secret is deleted on cancel or by reconciliation instead")]
    private static partial void LogOwnerFailed(ILogger logger, string botId, string secret, string error);

    [LoggerMessage(EventId = 4115, Level = LogLevel.Information, Message = "Kubernetes Secret {Secret} has no Job: deleting it")]
    private static partial void LogOrphanSecret(ILogger logger, string secret);
}
