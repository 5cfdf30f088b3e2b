using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Parley.Core.Configuration;
using Parley.Data;

namespace Parley.Hosting;

/// <summary>The non-web host of a one-shot command (`job run`, `bot run --from-queue`): Parley's services, no roles.</summary>
public static class CommandHost
{
    /// <summary>Null, after printing the problem, when the embedded data directory is unusable.</summary>
    public static IHost? Build(SettingsBindResult settings, out DatabaseTarget database)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var server = settings.Get<ServerOptions>();
        var databaseOptions = settings.Get<DatabaseOptions>();
        database = DatabaseUrl.Resolve(databaseOptions.Url, server.DataDirectory, databaseOptions.TimeoutSeconds);
        if (database.IsEmbedded && !DataDirectory.TryPrepare(server.DataDirectory, out var problem))
        {
            SettingsLoader.Report([problem], Console.Error);
            return null;
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        LoggingSetup.Configure(builder.Logging, server);
        builder.Services.AddParleyServices(settings, new ServerRoles([]), database);
        return builder.Build();
    }
}
