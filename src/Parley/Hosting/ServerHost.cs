using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Api;
using Parley.Api.Auth;
using Parley.Api.Operations;
using Parley.Api.Sfu;
using Parley.Api.WebClient;
using Parley.Api.Teams;
using Parley.Core.Configuration;
using Parley.Core.Locks;
using Parley.Core.Queues;
using Parley.Data;
using Parley.Data.Locks;
using Parley.Data.Queues;
using Parley.Infrastructure;
using Parley.Infrastructure.Queues;

namespace Parley.Hosting;

/// <summary>Builds and runs the web host of `parley serve` from validated settings.</summary>
public static class ServerHost
{

    public static async Task<int> RunAsync(SettingsBindResult settings, ServerRoles roles, DatabaseTarget database, StaticApiKey? apiKey)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var server = settings.Get<ServerOptions>();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = "Parley",
            ContentRootPath = Directory.GetCurrentDirectory(),
        });

        LoggingSetup.Configure(builder.Logging, server);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(server.ShutdownTimeoutSeconds));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = Parley.Api.Http.RequestBody.HardLimitBytes;
            Listen(kestrel, server.Host, server.Port);
        });

        builder.Services.AddParleyServices(settings, roles, database);
        var redis = settings.Get<RedisOptions>();
        builder.Services.AddParleyHttp(withRedis: redis.Url is not null);
        builder.Services.AddSingleton<DatabaseStartup>();
        builder.Services.AddHostedService<RoleStartup>();
        if (!settings.Get<FeatureOptions>().MultiTenant)
        {
            // Hosted services start after the database gate below, so the team is created on a migrated schema.
            builder.Services.AddHostedService<SelfHostedTeamBootstrap>();
        }

        // Multi-tenant mode has no static key; ApiKeyAuthenticator's parameter is optional.
        if (apiKey is not null)
        {
            builder.Services.AddSingleton(apiKey);
        }

        await using var app = builder.Build();
        var gate = await app.Services.GetRequiredService<DatabaseStartup>().PrepareAsync(Console.Error, CancellationToken.None);
        if (gate is { } exitCode)
        {
            return exitCode;
        }

        if (database.IsEmbedded)
        {
            app.Services.GetRequiredService<ReadinessState>().MarkDatabaseMigrated();
        }

        app.UseParleyHttp();
        app.UseWebSockets();
        if (roles.Has("api"))
        {
            app.MapParleyApi();
            app.MapWebClient();
        }

        if (roles.Has("sfu"))
        {
            // Signaling is served by the node that holds the media (like mediasoup's signaling next to its
            // workers); one process with both roles serves it locally.
            app.MapParleySfu();
        }
        else if (roles.Has("api"))
        {
            // Split deployment: the api relays each client's signaling to the SFU node its meeting is placed on.
            app.MapParleySignalingProxy();
        }
        app.Lifetime.ApplicationStarted.Register(() => PrintBanner(server, roles, apiKey));

        try
        {
            await app.StartAsync();
        }
        catch (IOException ex) when (ex.InnerException is SocketException || ex.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
        {
            await Console.Error.WriteLineAsync($"parley: cannot listen; nothing was started:\n  PORT='{server.Port}': {server.Host}:{server.Port} is not available ({ex.Message})");
            return ExitCodes.ConfigurationError;
        }

        await app.WaitForShutdownAsync();
        return ExitCodes.Success;
    }

    private static void Listen(KestrelServerOptions kestrel, string host, int port)
    {
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(port);
        }
        else if (host is "*" or "0.0.0.0")
        {
            kestrel.Listen(IPAddress.Any, port);
        }
        else
        {
            kestrel.Listen(IPAddress.Parse(host), port);
        }
    }

    /// <summary>
    /// What a start prints, on stdout and not through the logger, so it shows whatever LOG_LEVEL is. The key
    /// is printed only by the start that generated it. With LOG_FORMAT=json the lines are JSON objects too,
    /// so that every stdout line stays parseable by a log shipper.
    /// </summary>
    private static void PrintBanner(ServerOptions server, ServerRoles roles, StaticApiKey? apiKey)
    {
        var url = server.EffectiveBaseUrl.ToString().TrimEnd('/');
        var lines = new List<(string Event, string Text)>
        {
            ("listening", $"Parley {VersionInfo.Version} is listening on {url} (roles: {string.Join(", ", roles.Names)})"),
        };
        if (apiKey is { Generated: true })
        {
            lines.Add(("api_key_generated", $"Generated API key (shown once; saved to {apiKey.FilePath}): {apiKey.Value}"));
            lines.Add(("api_key_usage", "Send it in the x-meeting-baas-api-key header of every /v2 request."));
        }
        else if (apiKey?.FilePath is { } path)
        {
            lines.Add(("api_key_stored", $"API key: stored in {path}"));
        }

        foreach (var (name, text) in lines)
        {
            Console.Out.WriteLine(server.LogFormat == "json"
                ? JsonSerializer.Serialize(new { Timestamp = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture), @event = name, Message = text })
                : text);
        }

        Console.Out.Flush();
    }
}
