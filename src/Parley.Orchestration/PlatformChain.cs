using Parley.Orchestration.Platforms;

namespace Parley.Orchestration;

/// <summary>A platform of the chain that can take bots: its implementation, limit and deployment timeout.</summary>
public sealed record ChainLink(IBotPlatform Platform, int Limit, TimeSpan DeploymentTimeout)
{
    public string Name => Platform.Name;
}

/// <summary>A platform listed in PLATFORM_PRIORITY that is skipped, and why (reported at start and by /v2/platforms).</summary>
public sealed record SkippedPlatform(string Name, string Reason);

/// <summary>PLATFORM_PRIORITY resolved against the platforms in this build and the configured limits.</summary>
public sealed class PlatformChain
{
    /// <summary>The platforms this build implements.</summary>
    public static readonly IReadOnlySet<string> Built = new HashSet<string>(StringComparer.Ordinal) { Platforms.Local.LocalPlatform.PlatformName, Platforms.Ecs.EcsPlatform.PlatformName, Platforms.Kubernetes.KubernetesPlatform.PlatformName, Platforms.Coolify.CoolifyPlatform.PlatformName };

    public PlatformChain(OrchestratorOptions options, IEnumerable<IBotPlatform> platforms)
    {
        ArgumentNullException.ThrowIfNull(options);
        // The last registration of a name wins, as in dependency injection: a host (or a test) can replace a platform.
        var built = platforms.GroupBy(p => p.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
        var links = new List<ChainLink>();
        var skipped = new List<SkippedPlatform>();
        foreach (var name in options.Chain)
        {
            if (!built.TryGetValue(name, out var platform))
            {
                skipped.Add(new SkippedPlatform(name, "not available in this build yet"));
            }
            else if (options.LimitOf(name) is not { } limit)
            {
                skipped.Add(new SkippedPlatform(name, $"no limit: set {LimitVariable(name)}"));
            }
            else
            {
                links.Add(new ChainLink(platform, limit, options.DeploymentTimeoutOf(name)));
            }
        }

        Links = links;
        Skipped = skipped;
        All = built.Values.ToList();
    }

    /// <summary>The platforms that take bots, in priority order.</summary>
    public IReadOnlyList<ChainLink> Links { get; }

    public IReadOnlyList<SkippedPlatform> Skipped { get; }

    /// <summary>Every platform implementation, in the chain or not (reconciliation looks at all of them).</summary>
    public IReadOnlyList<IBotPlatform> All { get; }

    public IBotPlatform? Find(string? name) => All.FirstOrDefault(p => p.Name == name);

    public static string LimitVariable(string platform) => platform switch
    {
        "k8s" => "K8S_BOT_LIMIT",
        "aws" => "AWS_BOT_LIMIT",
        "coolify" => "COOLIFY_BOT_LIMIT",
        _ => "LOCAL_BOT_LIMIT",
    };
}
