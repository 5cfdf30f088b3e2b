using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Parley.Testing;

namespace Parley.EndToEnd.Tests.Meetings;

/// <summary>
/// One real `parley serve` (all roles, embedded database, MAX_PARTICIPANTS=3) and one headless Chromium
/// shared by the meeting tests; each participant is a browser context of its own, which costs far less
/// memory than a browser each. Each test creates its own meeting.
/// </summary>
public sealed class MeetingEnvironment : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>The flags of DESIGN.md, "Testing with real components".</summary>
    public static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", "--allow-loopback-in-peer-connection",
    ];

    public const string ApiKey = "e2e-static-api-key-0123456789abcdef";

    public const string JwtSecret = "e2e-jwt-secret-0123456789abcdef0123456789abcdef";

    public const int MaxParticipants = 3;

    private IPlaywright? _playwright;
    private RunningServer? _server;
    private IBrowser? _browser;

    internal RunningServer Server => _server ?? throw new InvalidOperationException("The server did not start.");

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("Chromium did not start.");

    public string BaseUrl => $"http://127.0.0.1:{Server.Port}";

    public (int Min, int Max) RtcPorts { get; private set; }

    public async Task InitializeAsync()
    {
        // Never skip: without the browser these tests cannot say anything, and a silent pass would lie.
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: the meeting client tests need Debian's chromium package (./test.sh installs it).");
        }

        RtcPorts = FreeUdpRange(8);
        _server = RunningServer.Start(new Dictionary<string, string?>
        {
            ["STATIC_API_KEY"] = ApiKey,
            ["JWT_SECRET"] = JwtSecret,
            ["MAX_PARTICIPANTS"] = MaxParticipants.ToString(CultureInfo.InvariantCulture),
            ["RTC_MIN_PORT"] = RtcPorts.Min.ToString(CultureInfo.InvariantCulture),
            ["RTC_MAX_PORT"] = RtcPorts.Max.ToString(CultureInfo.InvariantCulture),
            ["RTC_WORKERS"] = "1",
            ["ANNOUNCED_IP"] = "127.0.0.1",
            ["LOG_LEVEL"] = "info",
        });
        await _server.WaitForStatusAsync("/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(90));

        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
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
    }

    /// <summary>POST /v2/meetings; returns the meeting id.</summary>
    public async Task<string> CreateMeetingAsync(string name, bool lobby = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/meetings")
        {
            Content = JsonContent.Create(new { name, lobby }),
        };
        request.Headers.Add("x-meeting-baas-api-key", ApiKey);
        var body = await SendAsync(request, "POST /v2/meetings");
        return Field(body, "meeting_id") ?? throw new InvalidOperationException($"POST /v2/meetings answered without meeting_id: {body}");
    }

    /// <summary>POST /v2/meetings/{id}/tokens; returns the join token.</summary>
    public async Task<string> MintTokenAsync(string meetingId, string identity, string name, bool host, bool bot = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v2/meetings/{meetingId}/tokens")
        {
            Content = JsonContent.Create(new { identity, name, host, bot, can_publish = true, can_subscribe = true }),
        };
        request.Headers.Add("x-meeting-baas-api-key", ApiKey);
        var body = await SendAsync(request, $"POST /v2/meetings/{meetingId}/tokens");
        return Field(body, "token") ?? throw new InvalidOperationException($"The token endpoint answered without a token: {body}");
    }

    /// <summary>A new browser context (one participant) with camera and microphone allowed.</summary>
    public Task<IBrowserContext> NewParticipantContextAsync(bool phone = false) =>
        Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseUrl,
            ViewportSize = phone ? new ViewportSize { Width = 390, Height = 844 } : new ViewportSize { Width = 1280, Height = 720 },
            IsMobile = phone,
            HasTouch = phone,
            DeviceScaleFactor = phone ? 2 : 1,
            Permissions = ["camera", "microphone"],
        });

    /// <summary>The tail of the server's output, for a failure message.</summary>
    public string ServerLogTail(int characters = 6000)
    {
        var text = $"--- parley stdout ---\n{Server.Process.Stdout}\n--- parley stderr ---\n{Server.Process.Stderr}";
        return text.Length <= characters ? text : text[^characters..];
    }

    private async Task<JsonNode> SendAsync(HttpRequestMessage request, string what)
    {
        using var response = await Server.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{what} answered {(int)response.StatusCode}: {text}");
        }

        return JsonNode.Parse(text) ?? throw new InvalidOperationException($"{what} answered an empty body.");
    }

    /// <summary>A field of a bare object or of the API envelope's `data`.</summary>
    private static string? Field(JsonNode body, string name) =>
        body[name]?.GetValue<string>() ?? body["data"]?[name]?.GetValue<string>();

    /// <summary>A run of UDP ports that are free right now (the SFU binds one per worker).</summary>
    internal static (int Min, int Max) FreeUdpRange(int count)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var start = Random.Shared.Next(20_000, 60_000 - count);
            var sockets = new List<Socket>();
            try
            {
                for (var port = start; port < start + count; port++)
                {
                    var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                    sockets.Add(socket);
                    socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
                }

                return (start, start + count - 1);
            }
            catch (SocketException)
            {
                // taken: try another run
            }
            finally
            {
                foreach (var socket in sockets)
                {
                    socket.Dispose();
                }
            }
        }

        throw new InvalidOperationException("No free run of UDP ports found for RTC_MIN_PORT..RTC_MAX_PORT.");
    }

    internal static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web);
}

[CollectionDefinition(Name)]
public sealed class MeetingCollection : ICollectionFixture<MeetingEnvironment>
{
    public const string Name = "meetings";
}
