using Parley.Core.Configuration;

namespace Parley.Infrastructure.Locks;

/// <summary>
/// How Parley uses Redis for locks. REDIS_URL itself is <see cref="RedisOptions"/> (Parley.Core); it is
/// checked here because only this layer knows what StackExchange.Redis can connect to.
/// </summary>
public sealed class LockOptions : ISettingsValidation
{
    public const string SectionName = "Locks";

    [Setting("PARLEY_REDIS_KEY_PREFIX", Description = "Prefix of every key Parley writes to Redis, so that several deployments can share one Redis.")]
    public string RedisKeyPrefix { get; set; } = "parley:";

    public void Validate(SettingsValidationContext context)
    {
        var raw = context.Raw("REDIS_URL");
        if (!string.IsNullOrWhiteSpace(raw) && Uri.TryCreate(raw.Trim(), UriKind.Absolute, out var url) && url.Scheme is "redis" or "rediss")
        {
            try
            {
                RedisUrl.ToConfigurationOptions(url);
            }
            catch (ArgumentException ex)
            {
                context.Add("REDIS_URL", raw, ex.Message.Split(" (Parameter", 2)[0], secret: true);
            }
        }

        if (RedisKeyPrefix.Any(char.IsWhiteSpace) || RedisKeyPrefix.Length > 64)
        {
            context.Add("PARLEY_REDIS_KEY_PREFIX", RedisKeyPrefix, "expected at most 64 characters without spaces");
        }
    }
}
