using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using Parley.EndToEnd.Tests.Meetings;
using Parley.Testing;
using Xunit.Abstractions;

namespace Parley.EndToEnd.Tests.Bots;

/// <summary>
/// bot_image as a user sees it (issue 7): `parley serve` with embedded defaults starts a real `parley bot run` whose
/// bot_image (a red 320×240 PNG Debian's ffmpeg made) comes from a web server in this test; a Chromium participant in
/// the meeting shows the bot's tile playing, 1280×720, red in the middle. Chromium's own VP8 decoder is the judge that
/// the key frame and the repeat frames (two temporal layers) are what a browser accepts. Fails, never skips, without
/// Chromium or ffmpeg.
/// </summary>
public sealed class BotImageChromiumTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string ApiKey = "e2e-bot-image-api-key-0123456789abcdef";
    private const string JwtSecret = "e2e-bot-image-jwt-secret-0123456789abcdef0123456789";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    private RunningServer? _server;
    private WebApplication? _images;
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private Uri _imageUrl = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(MeetingEnvironment.ChromiumPath))
        {
            throw new InvalidOperationException($"{MeetingEnvironment.ChromiumPath} is missing: the bot_image test needs Debian's chromium package (./test.sh installs it).");
        }

        MediaProbe.RequireTools();
        var png = await RedPngAsync();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _images = builder.Build();
        _images.MapGet("/red.png", () => Results.Bytes(png, "image/png"));
        await _images.StartAsync();
        _imageUrl = new Uri(_images.Urls.First() + "/red.png");

        var rtc = MeetingEnvironment.FreeUdpRange(8);
        _server = RunningServer.Start(new Dictionary<string, string?>
        {
            ["STATIC_API_KEY"] = ApiKey,
            ["JWT_SECRET"] = JwtSecret,
            ["RTC_MIN_PORT"] = rtc.Min.ToString(CultureInfo.InvariantCulture),
            ["RTC_MAX_PORT"] = rtc.Max.ToString(CultureInfo.InvariantCulture),
            ["RTC_WORKERS"] = "1",
            ["ANNOUNCED_IP"] = "127.0.0.1",
            ["PARLEY_RATE_LIMIT_PER_SECOND"] = "0",
            ["PLATFORM_PRIORITY"] = "local",
            ["WEBHOOK_ALLOW_PRIVATE_NETWORKS"] = "true", // the test serves bot_image on 127.0.0.1
            ["LOCAL_BOT_LIMIT"] = "2",
            ["BOT_HEARTBEAT_INTERVAL_MS"] = "1000",
            ["LOG_LEVEL"] = "info",
        });
        await _server.WaitForStatusAsync("/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(180));

        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = MeetingEnvironment.ChromiumPath,
            Headless = true,
            Args = MeetingEnvironment.ChromiumArgs,
        });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        if (_images is not null)
        {
            await _images.StopAsync();
            await _images.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_Chromium_participant_sees_the_bots_image_in_its_tile()
    {
        var baseUri = new Uri($"http://127.0.0.1:{_server!.Port}/");
        using var api = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(60) };
        api.DefaultRequestHeaders.Add("x-meeting-baas-api-key", ApiKey);
        var meeting = await DataAsync(await api.PostAsJsonAsync("/v2/meetings", new { name = "bot image e2e" }));
        var meetingId = meeting["meeting_id"]!.GetValue<string>();
        var context = await _browser!.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUri.ToString().TrimEnd('/'),
            ViewportSize = new ViewportSize { Width = 1280, Height = 720 },
            Permissions = ["camera", "microphone"],
        });
        await using var participant = await Participant.OpenAsync(context, "Alice", $"/meet/{meetingId}");
        await participant.JoinAsync();

        var created = await DataAsync(await api.PostAsJsonAsync("/v2/bots", new
        {
            bot_name = "Picture bot",
            meeting_url = meeting["join_url"]!.GetValue<string>(),
            bot_image = _imageUrl.ToString(),
        }));
        var botId = created["bot_id"]!.GetValue<string>();

        // The bot's tile: its <video> has a picture (the web client marks it playing when videoWidth > 0), and the
        // middle pixel drawn from it is red.
        int[]? seen = null;
        var started = Stopwatch.StartNew();
        while (started.Elapsed < Deadline)
        {
            seen = await participant.Page.EvaluateAsync<int[]?>("""
                () => {
                  const v = document.querySelector('[data-testid=tile][data-bot=true] video');
                  if (!v || v.videoWidth === 0) return null;
                  const c = document.createElement('canvas');
                  c.width = v.videoWidth; c.height = v.videoHeight;
                  const g = c.getContext('2d');
                  g.drawImage(v, 0, 0);
                  const d = g.getImageData(v.videoWidth / 2, v.videoHeight / 2, 1, 1).data;
                  return [v.videoWidth, v.videoHeight, d[0], d[1], d[2]];
                }
                """);
            if (seen is not null && seen[2] > 200)
            {
                break;
            }

            await Task.Delay(250);
        }

        if (seen is null || seen[2] <= 200)
        {
            var log = Path.Combine(_server.DataDirectory, "logs", "bots", botId + ".log");
            output.WriteLine(await participant.DiagnosticsAsync());
            output.WriteLine(File.Exists(log) ? await File.ReadAllTextAsync(log) : "(no bot log)");
        }

        Assert.True(seen is not null, "the bot's tile never showed a picture (videoWidth stayed 0)");
        Assert.Equal((1280, 720), (seen[0], seen[1]));
        Assert.True(seen[2] > 200 && seen[3] < 60 && seen[4] < 60, $"the middle of the bot's picture is rgb({seen[2]}, {seen[3]}, {seen[4]}), not red");

        await api.PostAsync($"/v2/bots/{botId}/leave", null);
    }

    private static async Task<byte[]> RedPngAsync()
    {
        var path = Path.Combine(Path.GetTempPath(), $"parley-e2e-red-{Guid.NewGuid():N}.png");
        try
        {
            using var process = Process.Start(new ProcessStartInfo(MediaProbe.Ffmpeg, $"-v error -y -f lavfi -i color=red:s=320x240 -frames:v 1 \"{path}\"") { RedirectStandardError = true })!;
            var errors = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, errors);
            return await File.ReadAllBytesAsync(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static async Task<JsonNode> DataAsync(HttpResponseMessage response)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"{response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}: {body}");
            return JsonNode.Parse(body)!["data"]!;
        }
    }
}
