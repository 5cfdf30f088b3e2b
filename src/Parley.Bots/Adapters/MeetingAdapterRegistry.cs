using Microsoft.Extensions.Logging;

namespace Parley.Bots.Adapters;

/// <summary>Everything an adapter factory may need to build an adapter for one bot.</summary>
public sealed record MeetingAdapterContext(BotConfig Config, BotOptions Options, ILoggerFactory Loggers, TimeProvider Time);

/// <summary>
/// Meeting platform → adapter factory. Every platform of API.md has an entry (unsupported ones fail the bot
/// with CANNOT_JOIN_MEETING); the executable, and in-process tests, replace entries with
/// <see cref="Register"/> as adapters get implemented or faked.
/// </summary>
public sealed class MeetingAdapterRegistry
{
    /// <summary>The meeting_platform values of API.md.</summary>
    public static readonly IReadOnlyList<string> Platforms = ["parley", "meet", "teams", "zoom"];

    private readonly Dictionary<string, Func<MeetingAdapterContext, IMeetingAdapter>> _factories = new(StringComparer.Ordinal);

    public MeetingAdapterRegistry()
    {
        foreach (var platform in Platforms)
        {
            _factories[platform] = _ => new UnsupportedPlatformAdapter(platform);
        }
    }

    public IReadOnlyCollection<string> RegisteredPlatforms => _factories.Keys;

    public void Register(string platform, Func<MeetingAdapterContext, IMeetingAdapter> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(platform);
        ArgumentNullException.ThrowIfNull(factory);
        _factories[platform] = factory;
    }

    /// <summary>The registry of the `parley` executable: real adapters, or the scripted one when the
    /// operator explicitly turned it on (PARLEY_BOT_TEST_ADAPTER=scripted), for every platform.</summary>
    public static MeetingAdapterRegistry CreateDefault(BotOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var registry = new MeetingAdapterRegistry();
        registry.Register(Core.Bots.MeetingPlatform.Parley, Native.NativeMeetingAdapter.Create);
        if (options.TestAdapter == BotOptions.ScriptedAdapter)
        {
            foreach (var platform in Platforms)
            {
                registry.Register(platform, Scripted.ScriptedMeetingAdapter.Create);
            }
        }

        return registry;
    }

    /// <summary>The adapter for the config's platform; an unknown platform gets the unsupported adapter.</summary>
    public IMeetingAdapter Create(MeetingAdapterContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var platform = context.Config.MeetingPlatform;
        return _factories.TryGetValue(platform, out var factory) ? factory(context) : new UnsupportedPlatformAdapter(platform);
    }
}
