using System.Net;

namespace Parley.Core.Configuration;

/// <summary>Where the process listens, where it keeps its files, how it logs and which roles it runs.</summary>
public sealed class ServerOptions : ISettingsValidation
{
    public const string SectionName = "Server";

    public static readonly string[] KnownRoles = ["api", "jobs", "orchestrator", "sfu"];

    [Setting("HOST", Description = "Address the HTTP server listens on (an IP address or localhost).")]
    public string Host { get; set; } = "127.0.0.1";

    [Setting("PORT", Description = "TCP port of the HTTP server.", Min = 1, Max = 65535)]
    public int Port { get; set; } = 3001;

    [Setting("PARLEY_DATA_DIR", Description = "Directory for the SQLite database, generated secrets, artifacts and logs.")]
    public string DataDirectory { get; set; } = "./data";

    [Setting("LOG_LEVEL", Description = "Minimum log level.", AllowedValues = ["trace", "debug", "info", "warn", "error"])]
    public string LogLevel { get; set; } = "info";

    [Setting("LOG_FORMAT", Description = "Log output format: human-readable text or one JSON object per line.", AllowedValues = ["text", "json"])]
    public string LogFormat { get; set; } = "text";

    [Setting("PARLEY_ROLES", Description = "Roles `parley serve` runs when --roles is not given.", AllowedValues = ["api", "jobs", "orchestrator", "sfu"])]
    public string[] Roles { get; set; } = ["api", "jobs", "orchestrator", "sfu"];

    [Setting("PARLEY_SHUTDOWN_TIMEOUT_SECONDS", Description = "How long a stopping process lets in-flight requests and background loops finish.", Min = 1, Max = 3600)]
    public int ShutdownTimeoutSeconds { get; set; } = 30;

    [Setting("API_SERVER_BASEURL", Description = "Public base URL of the API (links in output and webhooks); default http://HOST:PORT.", Schemes = ["http", "https"])]
    public Uri? PublicBaseUrl { get; set; }

    /// <summary>The URL printed at start and used in links when no public base URL is configured.</summary>
    public Uri EffectiveBaseUrl
    {
        get
        {
            if (PublicBaseUrl is not null)
            {
                return PublicBaseUrl;
            }

            var host = Host is "0.0.0.0" or "::" or "*" ? "127.0.0.1" : Host;
            if (IPAddress.TryParse(host, out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                host = $"[{host}]";
            }

            return new Uri($"http://{host}:{Port}");
        }
    }

    public void Validate(SettingsValidationContext context)
    {
        if (!IsListenAddress(Host))
        {
            context.Add("HOST", Host, "expected an IP address to listen on (127.0.0.1, 0.0.0.0, ::) or localhost");
        }
    }

    public static bool IsListenAddress(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host == "*" || IPAddress.TryParse(host, out _);
}
