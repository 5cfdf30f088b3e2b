namespace Parley.Core.Configuration;

/// <summary>Redis, used for distributed locks and rate limits when set; in-memory equivalents otherwise.</summary>
public sealed class RedisOptions
{
    public const string SectionName = "Redis";

    [Setting("REDIS_URL", Description = "redis://[user:password@]host:port[/db] or rediss:// for TLS. Unset: in-process locks (one replica only).", Secret = true, Schemes = ["redis", "rediss"])]
    public Uri? Url { get; set; }
}
