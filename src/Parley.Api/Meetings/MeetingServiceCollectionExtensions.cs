using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Parley.Core.Configuration;
using Parley.Core.Meetings;
using Parley.Data;
using Parley.Sfu.Meetings;

namespace Parley.Api.Meetings;

public static partial class MeetingServiceCollectionExtensions
{
    /// <summary>
    /// The meetings API and what the SFU asks of it: <see cref="MeetingTokenService"/>, <see cref="MeetingService"/>,
    /// <see cref="IMeetingAuthority"/> (<see cref="DatabaseMeetingAuthority"/>) and a default
    /// <see cref="IMeetingPresence"/> that knows no rooms (the SFU registers the real one; a later registration wins).
    /// </summary>
    public static IServiceCollection AddParleyMeetings(this IServiceCollection services)
    {
        services.TryAddSingleton<IMeetingPresence, NoMeetingPresence>();
        services.TryAddSingleton(sp => ResolveSigningKey(sp));
        services.TryAddSingleton<MeetingTokenService>();
        services.TryAddSingleton<MeetingService>();
        services.TryAddSingleton<DatabaseMeetingAuthority>();
        services.TryAddSingleton<IMeetingAuthority>(sp => sp.GetRequiredService<DatabaseMeetingAuthority>());
        services.TryAddSingleton<GuestRateLimitFilter>();
        return services;
    }

    /// <summary>
    /// JWT_SECRET, or the secret generated once into the data directory, resolved on first use (a process
    /// that never issues or checks a join token never writes the file).
    /// </summary>
    private static MeetingSigningKey ResolveSigningKey(IServiceProvider services)
    {
        var options = services.GetRequiredService<MeetingOptions>();
        var server = services.GetRequiredService<ServerOptions>();
        var key = MeetingSecretStore.Resolve(options.JwtSecret, server.DataDirectory);
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(MeetingSecretStore).FullName!);
        if (key.FilePath is { } path)
        {
            // Replicas on a shared database each have their own data directory, so each would sign with its own
            // secret and refuse the others' tokens.
            if (services.GetService<DatabaseTarget>() is { IsEmbedded: false })
            {
                LogSharedDatabaseWithoutSecret(logger, path);
            }
            else if (key.Generated)
            {
                LogGenerated(logger, path);
            }
        }

        return key;
    }

    [LoggerMessage(EventId = 1501, Level = LogLevel.Information, Message = "JWT_SECRET is not set: generated the join token secret and saved it to {Path}")]
    private static partial void LogGenerated(ILogger logger, string path);

    [LoggerMessage(EventId = 1502, Level = LogLevel.Warning, Message = "JWT_SECRET is not set: join tokens are signed with the secret in {Path}. Set the same JWT_SECRET on every replica that shares DATABASE_URL, or each refuses the others' tokens.")]
    private static partial void LogSharedDatabaseWithoutSecret(ILogger logger, string path);
}
