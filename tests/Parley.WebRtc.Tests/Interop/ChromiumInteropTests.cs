using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using Parley.WebRtc.Rtcp;
using Parley.WebRtc.Rtp;
using Parley.WebRtc.Srtp;
using Parley.WebRtc.Transport;
using Xunit.Abstractions;

namespace Parley.WebRtc.Tests.Interop;

/// <summary>
/// The interop test of issue 5: headless Chromium (Debian's /usr/bin/chromium, flags from DESIGN.md)
/// opens a page served on 127.0.0.1, sends its fake camera and microphone to the C# echo endpoint and
/// receives them back. The page must report ICE and DTLS connected and inbound-rtp packetsReceived
/// growing for audio and video. Run once per SRTP profile, forced on the server side.
/// </summary>
public sealed class ChromiumInteropTests(ITestOutputHelper output)
{
    private const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", "--allow-loopback-in-peer-connection",
    ];

    private const string Page = """
        <!doctype html>
        <html><body><script type="module">
        const pc = new RTCPeerConnection();
        window.pc = pc;
        const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240 } });
        for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendrecv' });
        await pc.setLocalDescription(await pc.createOffer());
        const response = await fetch('/offer', { method: 'POST', body: pc.localDescription.sdp });
        if (!response.ok) throw new Error(await response.text());
        await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
        window.ready = true;
        </script></body></html>
        """;

    private const string StatsScript = """
        async () => {
          const result = { ice: pc.iceConnectionState, dtls: pc.getTransceivers()[0]?.sender.transport?.state ?? 'none', audio: 0, video: 0 };
          (await pc.getStats()).forEach(s => { if (s.type === 'inbound-rtp') result[s.kind] = s.packetsReceived; });
          return JSON.stringify(result);
        }
        """;

    private sealed record Stats(string Ice, string Dtls, long Audio, long Video);

    [Theory]
    [InlineData(SrtpProfile.AesCm128HmacSha1_80)]
    [InlineData(SrtpProfile.AeadAes128Gcm)]
    public async Task Chromium_sends_camera_and_microphone_and_receives_them_back(SrtpProfile profile)
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: test.sh installs Debian's chromium package");
        using var echo = new EchoEndpoint(profile);
        using var http = StartHttp((path, body) => path switch
        {
            "page" => Page,
            "offer" => echo.Answer(body),
            _ => throw new InvalidOperationException("unknown path " + path),
        }, out var url);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
        });
        var page = await browser.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        await page.GotoAsync(url);
        await page.WaitForFunctionAsync("() => window.ready === true", null, new PageWaitForFunctionOptions { Timeout = 30_000 });

        // Wait (with a deadline) until both kinds arrive back, then see them keep growing.
        var first = await WaitForStats(page, s => s.Audio > 0 && s.Video > 0, errors);
        var later = await WaitForStats(page, s => s.Audio > first.Audio && s.Video > first.Video, errors);

        output.WriteLine($"{profile}: first {first}, later {later}, echoed {echo.EchoedPackets} packets, ClientHello fragments {echo.Transport!.DtlsClientHelloFragments}");
        Assert.Contains(later.Ice, new[] { "connected", "completed" });
        Assert.Equal("connected", later.Dtls);
        Assert.True(echo.EchoedPackets > 0);
        Assert.True(echo.OfferRoundTripped, "Chromium's offer did not serialise back unchanged");
        // Chromium 156 offers DTLS 1.3 with a post-quantum key share: a 1,413-byte ClientHello in two
        // records, which the DTLS 1.2 server must reassemble (issue 5, item 4).
        Assert.True(echo.Transport.DtlsClientHelloFragments > 0, "Chromium's ClientHello arrived unfragmented: this test no longer covers reassembly");
        Assert.Equal(profile, echo.Transport!.Profile);
        Assert.Empty(errors);
    }

    private const string PublishSubscribePage = """
        <!doctype html>
        <html><body><script type="module">
        const post = async (path, body) => {
          const response = await fetch(path, { method: 'POST', body });
          if (!response.ok) throw new Error(path + ': ' + await response.text());
          return response.text();
        };
        const pub = new RTCPeerConnection();
        const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240 } });
        for (const track of stream.getTracks()) pub.addTransceiver(track, { direction: 'sendonly' });
        await pub.setLocalDescription(await pub.createOffer());
        await pub.setRemoteDescription({ type: 'answer', sdp: await post('/publish', pub.localDescription.sdp) });
        const pc = new RTCPeerConnection();
        window.pc = pc;
        await pc.setRemoteDescription({ type: 'offer', sdp: await post('/subscribe', '') });
        await pc.setLocalDescription(await pc.createAnswer());
        await post('/subscribe-answer', pc.localDescription.sdp);
        window.ready = true;
        </script></body></html>
        """;

    /// <summary>
    /// The SFU's two directions against real Chromium: the browser publishes (browser offers, we answer),
    /// then subscribes to what it published through our offer (we offer ICE-lite + actpass, it answers),
    /// both transports on one shared UDP socket; inbound-rtp on the subscribing connection must grow.
    /// </summary>
    [Theory]
    [InlineData(SrtpProfile.AesCm128HmacSha1_80)]
    [InlineData(SrtpProfile.AeadAes128Gcm)]
    public async Task Chromium_accepts_our_offer_and_receives_forwarded_media(SrtpProfile profile)
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: test.sh installs Debian's chromium package");
        using var sfu = new ForwardingEndpoint(profile);
        using var http = StartHttp((path, body) => path switch
        {
            "page" => PublishSubscribePage,
            "publish" => sfu.Publish(body),
            "subscribe" => sfu.SubscribeOffer(),
            "subscribe-answer" => Accept(() => sfu.SubscribeAnswer(body)),
            _ => throw new InvalidOperationException("unknown path " + path),
        }, out var url);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
        });
        var page = await browser.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        await page.GotoAsync(url);
        await page.WaitForFunctionAsync("() => window.ready === true", null, new PageWaitForFunctionOptions { Timeout = 30_000 });

        var first = await WaitForStats(page, s => s.Audio > 0 && s.Video > 0, errors);
        var later = await WaitForStats(page, s => s.Audio > first.Audio && s.Video > first.Video, errors);
        output.WriteLine($"{profile}: first {first}, later {later}, forwarded {sfu.ForwardedPackets} packets");
        Assert.Contains(later.Ice, new[] { "connected", "completed" });
        Assert.Equal("connected", later.Dtls);
        Assert.Equal(profile, sfu.Subscriber!.Profile);
        Assert.True(sfu.ChromiumSdpRoundTripped, "Chromium's offer or answer did not serialise back unchanged");
        Assert.Empty(errors);
    }

    private const string SimulcastPage = """
        <!doctype html>
        <html><body><script type="module">
        const pc = new RTCPeerConnection();
        window.pc = pc;
        const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 } });
        pc.addTransceiver(stream.getVideoTracks()[0], {
          direction: 'sendonly',
          sendEncodings: [{ rid: 'q', scaleResolutionDownBy: 4 }, { rid: 'h', scaleResolutionDownBy: 2 }, { rid: 'f' }],
        });
        await pc.setLocalDescription(await pc.createOffer());
        const response = await fetch('/offer', { method: 'POST', body: pc.localDescription.sdp });
        if (!response.ok) throw new Error(await response.text());
        await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
        window.ready = true;
        </script></body></html>
        """;

    /// <summary>
    /// Simulcast into a <see cref="PeerConnection"/>: Chromium sends three layers by rid; our answer
    /// must carry a=rid recv, a=simulcast:recv and the RID extension or Chromium refuses it; the layers
    /// must then arrive told apart by rid.
    /// </summary>
    [Fact]
    public async Task Chromium_simulcast_layers_arrive_tagged_by_rid()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: test.sh installs Debian's chromium package");
        using var socket = new UdpSocketLoop(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Start();
        using var peer = new PeerConnection(new PeerConnectionOptions { Socket = socket, IsServer = true });
        var rids = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        // Chromium enables the upper layers only when its bandwidth estimate allows, and the estimate
        // only grows with feedback: answer transport-wide sequence numbers with transport-cc feedback.
        var recorder = new TransportFeedbackRecorder();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        uint lastSsrc = 0;
        peer.RtpReceived += (stream, packet) =>
        {
            if (stream is { Rid: { } rid, IsRepair: false })
            {
                rids.AddOrUpdate(rid, 1, (_, n) => n + 1);
            }

            var twccId = peer.RemoteDescription?.Media[0].Extmaps.FirstOrDefault(e => e.Uri == RtpExtensionUri.TransportWideCc)?.Id ?? 0;
            if (RtpPacket.TryParse(packet, out var rtp) && rtp.TryGetExtension(twccId, out var value)
                && RtpExtensionValues.TryReadTransportSequenceNumber(value, out var transportSeq))
            {
                lock (recorder)
                {
                    recorder.OnPacket(transportSeq, clock.Elapsed.Ticks / 10);
                    lastSsrc = rtp.Ssrc;
                }
            }
        };
        using var feedbackTimer = new Timer(_ =>
        {
            var buffer = new byte[1500];
            int length;
            lock (recorder)
            {
                length = recorder.Build(buffer, 1, lastSsrc);
            }

            if (length > 0)
            {
                peer.SendRtcp(buffer, length);
            }
        }, null, 50, 50);
        using var http = StartHttp((path, body) => path switch
        {
            "page" => SimulcastPage,
            "offer" => Answer(peer, body),
            _ => throw new InvalidOperationException("unknown path " + path),
        }, out var url);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
        });
        var page = await browser.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        await page.GotoAsync(url);
        await page.WaitForFunctionAsync("() => window.ready === true", null, new PageWaitForFunctionOptions { Timeout = 30_000 });

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(45);
        while (rids.Count < 3 && DateTime.UtcNow < deadline && errors.Count == 0)
        {
            await Task.Delay(250);
        }

        output.WriteLine($"layers by rid: {string.Join(", ", rids.Select(kv => $"{kv.Key}={kv.Value}"))}; state {peer.State}");
        Assert.Empty(errors);
        Assert.Equal(PeerConnectionState.Connected, peer.State);
        Assert.Equal(["f", "h", "q"], rids.Keys.Order(StringComparer.Ordinal));
    }

    private static string Answer(PeerConnection peer, string offer)
    {
        try
        {
            var answer = peer.AcceptOffer(offer);
            _ = peer.ConnectAsync();
            return answer;
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException(e.Message, e);
        }
    }

    private static string? Accept(Action action)
    {
        action();
        return null;
    }

    private static async Task<Stats> WaitForStats(IPage page, Func<Stats, bool> condition, List<string> errors)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(45);
        Stats? stats = null;
        while (DateTime.UtcNow < deadline)
        {
            var json = await page.EvaluateAsync<string>(StatsScript);
            stats = JsonSerializer.Deserialize<Stats>(json, new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;
            if (condition(stats))
            {
                return stats;
            }

            await Task.Delay(250);
        }

        Assert.Fail($"Chromium stats never got there: {stats}; page errors: {string.Join(" | ", errors)}");
        return stats!;
    }

    /// <summary>Serves the page and the offer/answer exchange on http://127.0.0.1:port/ (a secure context).</summary>
    private static HttpListener StartHttp(Func<string, string, string?> route, out string url)
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        url = $"http://127.0.0.1:{port}/";
        var listener = new HttpListener();
        listener.Prefixes.Add(url);
        listener.Start();
        _ = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                var (status, type, body) = Handle(route, context.Request);
                var bytes = Encoding.UTF8.GetBytes(body);
                context.Response.StatusCode = status;
                context.Response.ContentType = type;
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        });
        return listener;
    }

    /// <summary>GET serves the page; POST /x hands the body to the route, whose result is the response (400 on error).</summary>
    private static (int Status, string Type, string Body) Handle(Func<string, string, string?> route, HttpListenerRequest request)
    {
        if (request.HttpMethod != "POST")
        {
            return (200, "text/html; charset=utf-8", route("page", string.Empty) ?? string.Empty);
        }

        using var reader = new StreamReader(request.InputStream, Encoding.UTF8);
        try
        {
            return (200, "application/sdp", route(request.Url!.AbsolutePath.TrimStart('/'), reader.ReadToEnd()) ?? string.Empty);
        }
        catch (InvalidOperationException e)
        {
            return (400, "text/plain", e.Message);
        }
    }
}
