using System.Globalization;
using System.Net;
using Microsoft.Playwright;
using Parley.EndToEnd.Tests.Meetings;
using Parley.Testing;

namespace Parley.EndToEnd.Tests.Bots;

/// <summary>
/// What a browser-and-bot test needs: `parley serve` with embedded defaults, local bots (`parley bot run`
/// children, heartbeat every second), its own UDP range and loopback webhook and image targets allowed; and a
/// headless Debian Chromium. Fails, never skips, when Chromium or ffmpeg is missing.
/// </summary>
internal sealed class BotServerAndBrowser : IAsyncDisposable
{
    private IPlaywright? _playwright;

    private BotServerAndBrowser(RunningServer server) => Server = server;

    public RunningServer Server { get; }

    public IBrowser Browser { get; private set; } = null!;

    /// <param name="what">The test, for the message when Chromium is missing.</param>
    public static async Task<BotServerAndBrowser> StartAsync(string what, string apiKey, string jwtSecret)
    {
        if (!File.Exists(MeetingEnvironment.ChromiumPath))
        {
            throw new InvalidOperationException($"{MeetingEnvironment.ChromiumPath} is missing: {what} needs Debian's chromium package (./test.sh installs it).");
        }

        MediaProbe.RequireTools();
        var rtc = MeetingEnvironment.FreeUdpRange(8);
        var started = new BotServerAndBrowser(RunningServer.Start(new Dictionary<string, string?>
        {
            ["STATIC_API_KEY"] = apiKey,
            ["JWT_SECRET"] = jwtSecret,
            ["RTC_MIN_PORT"] = rtc.Min.ToString(CultureInfo.InvariantCulture),
            ["RTC_MAX_PORT"] = rtc.Max.ToString(CultureInfo.InvariantCulture),
            ["RTC_WORKERS"] = "1",
            ["ANNOUNCED_IP"] = "127.0.0.1",
            ["PARLEY_RATE_LIMIT_PER_SECOND"] = "0",
            ["PLATFORM_PRIORITY"] = "local",
            ["LOCAL_BOT_LIMIT"] = "2",
            ["BOT_HEARTBEAT_INTERVAL_MS"] = "1000",
            // The tests' webhook listeners and image servers are on 127.0.0.1.
            ["WEBHOOK_ALLOW_PRIVATE_NETWORKS"] = "true",
            ["LOG_LEVEL"] = "info",
        }));
        try
        {
            await started.Server.WaitForStatusAsync("/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(180));
            started._playwright = await Playwright.CreateAsync();
            started.Browser = await started._playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = MeetingEnvironment.ChromiumPath,
                Headless = true,
                Args = MeetingEnvironment.ChromiumArgs,
            });
            return started;
        }
        catch
        {
            await started.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        await Server.DisposeAsync();
    }
}
