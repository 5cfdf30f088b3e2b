using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Parley.Core.Configuration;

namespace Parley.Hosting;

/// <summary>LOG_LEVEL and LOG_FORMAT applied to a logging builder (the host's and the startup logger's).</summary>
public static class LoggingSetup
{
    public static void Configure(ILoggingBuilder logging, ServerOptions server)
    {
        ArgumentNullException.ThrowIfNull(logging);
        ArgumentNullException.ThrowIfNull(server);
        var level = ToLevel(server.LogLevel);
        logging.ClearProviders();
        logging.SetMinimumLevel(level);
        // Framework chatter (every EF command, every Kestrel connection) only when debugging.
        var frameworkLevel = level <= LogLevel.Debug ? level : LogLevel.Warning;
        logging.AddFilter("Microsoft", frameworkLevel);
        logging.AddFilter("System", frameworkLevel);
        logging.AddFilter("Microsoft.Hosting.Lifetime", level <= LogLevel.Information ? LogLevel.Information : level);

        if (server.LogFormat == "json")
        {
            logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                // Scopes render as type names in text; the request id is part of the request line instead.
                o.IncludeScopes = false;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                o.ColorBehavior = LoggerColorBehavior.Disabled;
            });
        }
    }

    public static LogLevel ToLevel(string level) => level switch
    {
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "warn" => LogLevel.Warning,
        "error" => LogLevel.Error,
        _ => LogLevel.Information,
    };
}
