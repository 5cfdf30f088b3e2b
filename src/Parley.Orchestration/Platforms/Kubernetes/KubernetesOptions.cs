using System.Text.RegularExpressions;
using Parley.Core.Bots;
using Parley.Core.Configuration;

namespace Parley.Orchestration.Platforms.Kubernetes;

/// <summary>
/// The `k8s` platform: one batch/v1 Job per bot. Meeboter's K8S_* names, so an existing environment keeps
/// working. Only read when `k8s` is in PLATFORM_PRIORITY with a K8S_BOT_LIMIT.
/// </summary>
public sealed partial class KubernetesOptions : ISettingsValidation
{
    [Setting("K8S_NAMESPACE", Description = "Namespace the bot Jobs are created in.")]
    public string Namespace { get; set; } = "parley-bots";

    [Setting("K8S_KUBECONFIG", Description = "Path of a kubeconfig file. Unset: the in-cluster service account.")]
    public string? KubeConfig { get; set; }

    [Setting("K8S_IMAGE_REGISTRY", Description = "Registry and organisation prefixed to the bot images.")]
    public string? ImageRegistry { get; set; } = "ghcr.io/parley";

    [Setting("K8S_IMAGE_REPOSITORY", Description = "Image of the bot (the parley executable) for every meeting platform without its own K8S_IMAGE_<PLATFORM>.")]
    public string ImageRepository { get; set; } = "parley";

    [Setting("K8S_IMAGE_PARLEY", Description = "Image for bots in Parley meetings. Unset: K8S_IMAGE_REPOSITORY.")]
    public string? ImageParley { get; set; }

    [Setting("K8S_IMAGE_MEET", Description = "Image for Google Meet bots. Unset: K8S_IMAGE_REPOSITORY.")]
    public string? ImageMeet { get; set; }

    [Setting("K8S_IMAGE_TEAMS", Description = "Image for Microsoft Teams bots. Unset: K8S_IMAGE_REPOSITORY.")]
    public string? ImageTeams { get; set; }

    [Setting("K8S_IMAGE_ZOOM", Description = "Image for Zoom bots. Unset: K8S_IMAGE_REPOSITORY.")]
    public string? ImageZoom { get; set; }

    [Setting("K8S_IMAGE_TAG", Description = "Tag of the bot images.")]
    public string ImageTag { get; set; } = "latest";

    [Setting("K8S_IMAGE_PULL_SECRET", Description = "Name of a docker-registry Secret in K8S_NAMESPACE used to pull the images.")]
    public string? ImagePullSecret { get; set; }

    [Setting("K8S_IMAGE_PULL_LOCK_ENABLED", Description = "Deploy one bot at a time with an image no pod has started yet, so the nodes pull it once instead of once per bot.")]
    public bool ImagePullLockEnabled { get; set; } = true;

    [Setting("K8S_BOT_CPU_REQUEST", Description = "CPU request of a bot container (Kubernetes quantity).")]
    public string CpuRequest { get; set; } = "500m";

    [Setting("K8S_BOT_CPU_LIMIT", Description = "CPU limit of a bot container (Kubernetes quantity).")]
    public string CpuLimit { get; set; } = "1000m";

    [Setting("K8S_BOT_MEMORY_REQUEST", Description = "Memory request of a bot container (Kubernetes quantity).")]
    public string MemoryRequest { get; set; } = "1Gi";

    [Setting("K8S_BOT_MEMORY_LIMIT", Description = "Memory limit of a bot container (Kubernetes quantity).")]
    public string MemoryLimit { get; set; } = "2Gi";

    [Setting("K8S_JOB_TTL_SECONDS", Description = "How long a finished Job (and its pod and logs) is kept before Kubernetes deletes it.", Min = 0, Max = 31536000)]
    public int JobTtlSeconds { get; set; } = 600;

    /// <summary>`{registry}/{repository}:{tag}`, the repository per meeting platform.</summary>
    public string ImageFor(string meetingPlatform)
    {
        var repository = meetingPlatform switch
        {
            MeetingPlatform.Parley => ImageParley,
            MeetingPlatform.Meet => ImageMeet,
            MeetingPlatform.Teams => ImageTeams,
            MeetingPlatform.Zoom => ImageZoom,
            _ => null,
        } ?? ImageRepository;
        var registry = ImageRegistry?.TrimEnd('/');
        return string.IsNullOrEmpty(registry) ? $"{repository}:{ImageTag}" : $"{registry}/{repository}:{ImageTag}";
    }

    public void Validate(SettingsValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!DnsLabel().IsMatch(Namespace))
        {
            context.Add("K8S_NAMESPACE", Namespace, "expected a namespace name: lowercase letters, digits and '-', at most 63");
        }

        if (ImagePullSecret is not null && !DnsSubdomain().IsMatch(ImagePullSecret))
        {
            context.Add("K8S_IMAGE_PULL_SECRET", ImagePullSecret, "expected a Secret name: lowercase letters, digits, '-' and '.'");
        }

        if (KubeConfig is not null && !File.Exists(KubeConfig))
        {
            context.Add("K8S_KUBECONFIG", KubeConfig, "expected the path of an existing kubeconfig file");
        }

        if (!ImageTagPattern().IsMatch(ImageTag))
        {
            context.Add("K8S_IMAGE_TAG", ImageTag, "expected an image tag: letters, digits, '_', '.' and '-', at most 128");
        }

        foreach (var (name, value) in new[]
        {
            ("K8S_IMAGE_REPOSITORY", (string?)ImageRepository), ("K8S_IMAGE_PARLEY", ImageParley), ("K8S_IMAGE_MEET", ImageMeet),
            ("K8S_IMAGE_TEAMS", ImageTeams), ("K8S_IMAGE_ZOOM", ImageZoom),
        })
        {
            if (value is not null && !RepositoryPattern().IsMatch(value))
            {
                context.Add(name, value, "expected an image repository: lowercase letters, digits, '.', '_', '-' and '/' (no tag)");
            }
        }

        CheckQuantities(context, "K8S_BOT_CPU_REQUEST", CpuRequest, "K8S_BOT_CPU_LIMIT", CpuLimit);
        CheckQuantities(context, "K8S_BOT_MEMORY_REQUEST", MemoryRequest, "K8S_BOT_MEMORY_LIMIT", MemoryLimit);
    }

    /// <summary>
    /// Both must parse as Kubernetes quantities, and the request may not exceed the limit: the API server
    /// refuses such a Job, and an operator should read that at start, not in every failed deployment.
    /// </summary>
    private static void CheckQuantities(SettingsValidationContext context, string requestName, string request, string limitName, string limit)
    {
        var requestValue = ParseQuantity(request);
        var limitValue = ParseQuantity(limit);
        if (requestValue is null)
        {
            context.Add(requestName, request, "expected a positive Kubernetes quantity such as 500m, 1, 512Mi or 2Gi");
        }

        if (limitValue is null)
        {
            context.Add(limitName, limit, "expected a positive Kubernetes quantity such as 1000m, 2, 1Gi or 4Gi");
        }

        if (requestValue > limitValue)
        {
            context.Add(requestName, request, $"expected at most {limitName} ({limit})");
        }
    }

    /// <summary>The value of a quantity (`500m`, `1.5`, `2Gi`, `1e3`), null when it is not one or not positive.</summary>
    internal static decimal? ParseQuantity(string value)
    {
        var match = QuantityPattern().Match(value);
        if (!match.Success || !decimal.TryParse(match.Groups["number"].Value, System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var number))
        {
            return null;
        }

        var suffix = match.Groups["suffix"].Value;
        decimal scale;
        if (suffix.StartsWith('e') || suffix.StartsWith('E'))
        {
            var exponent = int.Parse(suffix.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture);
            if (exponent is < -9 or > 18)
            {
                return null;
            }

            scale = (decimal)Math.Pow(10, exponent);
        }
        else
        {
            scale = suffix switch
            {
                "" => 1m,
                "m" => 0.001m,
                "k" => 1e3m,
                "M" => 1e6m,
                "G" => 1e9m,
                "T" => 1e12m,
                "P" => 1e15m,
                "E" => 1e18m,
                "Ki" => 1024m,
                "Mi" => 1024m * 1024,
                "Gi" => 1024m * 1024 * 1024,
                "Ti" => 1024m * 1024 * 1024 * 1024,
                "Pi" => 1024m * 1024 * 1024 * 1024 * 1024,
                _ => 1024m * 1024 * 1024 * 1024 * 1024 * 1024,
            };
        }

        var result = number * scale;
        return result > 0 ? result : null;
    }

    [GeneratedRegex(@"^\+?(?<number>[0-9]+(\.[0-9]*)?|\.[0-9]+)(?<suffix>Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]{1,2})?$")]
    private static partial Regex QuantityPattern();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")]
    private static partial Regex DnsSubdomain();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex ImageTagPattern();

    [GeneratedRegex(@"^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$")]
    private static partial Regex RepositoryPattern();
}
