using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Parley.EndToEnd.Tests.Meetings;
using Parley.Testing;
using Xunit.Abstractions;

namespace Parley.EndToEnd.Tests.Bots;

/// <summary>
/// The end-to-end test of issue 7 as a user lives it: `parley serve` with embedded defaults (SQLite, embedded
/// queue, local disk, bots as local `parley bot run` processes), a real Chromium participant with the fake camera
/// and microphone in a meeting at /meet/{id}, and a recording bot sent with POST /v2/bots to that meeting's
/// join_url with a per-bot callback to a listener in this test. The participant stays 20 s with the bot, then
/// leaves; the bot leaves by everyone_left_timeout, and the signed `bot.completed` callback carries links to an
/// MP4 (one video and one audio stream, about 20 s), a FLAC that is not silent (Chromium's fake beep), and a
/// diarization with the participant in it. Its own server and UDP ports, so it runs beside the other classes.
/// </summary>
public sealed class RecordingBotChromiumTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string ApiKey = "e2e-recording-bot-api-key-0123456789abcdef";
    private const string JwtSecret = "e2e-recording-bot-jwt-secret-0123456789abcdef0123";

    /// <summary>A Standard Webhooks secret (whsec_ + base64 key), as a Meeting BaaS / Svix client would configure.</summary>
    private static readonly string CallbackSecret = "whsec_" + Convert.ToBase64String(Encoding.ASCII.GetBytes("recording-bot-e2e-callback-key-32b"));

    private const string ParticipantName = "Alice Chromium";
    private const string BotName = "Parley Recorder";

    /// <summary>How long the participant stays with the bot: the recording's expected length.</summary>
    private static readonly TimeSpan Stay = TimeSpan.FromSeconds(20);

    /// <summary>Generous: a loaded 2-core machine deploys the bot process, composes with ffmpeg and retries webhooks.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(180);

    private BotServerAndBrowser? _environment;

    public async Task InitializeAsync()
    {
        // Never skip: without the browser or ffmpeg this test cannot say anything, and a silent pass would lie.
        MediaProbe.RequireTools();
        _environment = await BotServerAndBrowser.StartAsync("the recording bot test", ApiKey, JwtSecret);
    }

    public async Task DisposeAsync()
    {
        if (_environment is not null)
        {
            await _environment.DisposeAsync();
        }
    }

    [Fact]
    public async Task Bot_records_a_Chromium_participant_and_delivers_signed_callback_with_mp4_flac_and_diarization()
    {
        var server = _environment!.Server;
        var baseUri = new Uri($"http://127.0.0.1:{server.Port}/");
        using var api = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(60) };
        api.DefaultRequestHeaders.Add("x-meeting-baas-api-key", ApiKey);
        await using var callbacks = new WebhookListener();
        string? botId = null;
        Participant? participant = null;

        async Task<string> Diagnostics()
        {
            var text = new StringBuilder();
            if (participant is not null)
            {
                text.AppendLine(await participant.DiagnosticsAsync());
            }

            text.AppendLine("--- webhooks received ---");
            foreach (var hook in callbacks.Received)
            {
                text.AppendLine(hook.Body.Length > 600 ? hook.Body[..600] : hook.Body);
            }

            if (botId is not null)
            {
                var log = Path.Combine(server.DataDirectory, "logs", "bots", botId + ".log");
                text.AppendLine($"--- bot log {log} ---");
                text.AppendLine(File.Exists(log) ? Tail(await ReadSharedAsync(log), 12000) : "(none)");
            }

            text.AppendLine("--- parley serve ---");
            text.AppendLine(Tail($"{server.Process.Stdout}\n{server.Process.Stderr}", 6000));
            return text.ToString();
        }

        async Task Step(string what, Func<Task> step)
        {
            try
            {
                await step();
            }
            catch (Exception ex) when (ex is not StepFailedException)
            {
                var details = $"Step failed: {what}: {ex.Message}\n{await Diagnostics()}";
                output.WriteLine(details);
                throw new StepFailedException(details, ex);
            }
        }

        try
        {
            // A meeting and its join_url (what a user pastes into meeting_url).
            var meeting = await DataAsync(await api.PostAsJsonAsync("/v2/meetings", new { name = "recording bot e2e" }), "POST /v2/meetings");
            var meetingId = meeting["meeting_id"]!.GetValue<string>();
            var joinUrl = meeting["join_url"]!.GetValue<string>();

            // The Chromium participant joins as a guest with its fake camera and microphone.
            var context = await _environment!.Browser.NewContextAsync(new BrowserNewContextOptions
            {
                BaseURL = baseUri.ToString().TrimEnd('/'),
                ViewportSize = new ViewportSize { Width = 1280, Height = 720 },
                Permissions = ["camera", "microphone"],
            });
            participant = await Participant.OpenAsync(context, ParticipantName, $"/meet/{meetingId}");
            await Step("the participant joins", participant.JoinAsync);
            await Step("the participant publishes audio and video", () => WaitForOutboundAsync(participant));

            // The bot, with a short everyone_left_timeout and a signed per-bot callback to the listener.
            var created = await DataAsync(await api.PostAsJsonAsync("/v2/bots", new
            {
                bot_name = BotName,
                meeting_url = joinUrl,
                recording_mode = "speaker_view",
                timeout_config = new { everyone_left_timeout = 2, no_one_joined_timeout = 120, silence_timeout = 600 },
                callback_enabled = true,
                callback_config = new { url = callbacks.Url, secret = CallbackSecret, method = "POST" },
                extra = new { test = "recording-bot-chromium" },
            }), "POST /v2/bots");
            botId = created["bot_id"]!.GetValue<string>();
            output.WriteLine($"bot {botId} for meeting {meetingId} ({joinUrl}); callback {callbacks.Url}");

            // The participant sees the recording bot join (the bot starts its recording as it joins), stays 20 s with
            // it and leaves. The page itself keeps the time (a 20 ms watch, then a timer that presses Leave): round
            // trips from this process would add their latency on a loaded machine to the length of the recording.
            await participant.Page.EvaluateAsync("""
                stayMs => {
                  const watch = () => {
                    if (![...window.parley.app.participants.values()].some(p => p.is_bot)) { setTimeout(watch, 20); return; }
                    window.__botSeenAt = Date.now();
                    setTimeout(() => { document.querySelector('[data-testid=leave-button]').click(); window.__leftAt = Date.now(); }, stayMs);
                  };
                  watch();
                }
                """, (int)Stay.TotalMilliseconds);
            await Step("the bot joins the meeting", () => Participant.PollAsync(
                async () => await participant.Page.EvaluateAsync<bool>("() => !!window.__botSeenAt") ? "joined" : null,
                () => "a participant with is_bot in the Chromium participant's meeting", Deadline));
            await Step("the bot records", () => WaitStatusAsync(api, botId, s => s == "in_call_recording"));
            await Step("the participant leaves after its stay", () => Participant.PollAsync(
                async () => await participant.Page.EvaluateAsync<bool>("() => !!window.__leftAt") ? "left" : null,
                () => "the page to press Leave after the stay", Stay + Deadline));
            output.WriteLine($"participant stayed with the bot {await participant.Page.EvaluateAsync<long>("() => window.__leftAt - window.__botSeenAt")} ms");
            await participant.DisposeAsync();

            // The bot is alone, leaves by everyone_left_timeout, composes, uploads, completes; the callback follows.
            ReceivedWebhook? completed = null;
            await Step("the bot.completed callback arrives", async () =>
            {
                completed = await Participant.PollAsync(async () =>
                {
                    var hook = callbacks.Received.FirstOrDefault(h => h.Event is "bot.completed" or "bot.failed");
                    if (hook is null)
                    {
                        var status = await StatusAsync(api, botId);
                        if (status == "failed")
                        {
                            return new ReceivedWebhook("GET", "", new Dictionary<string, string>(), $"{{\"event\":\"bot.failed\",\"status\":\"{status}\"}}");
                        }
                    }

                    return hook;
                }, () => $"a bot.completed callback on {callbacks.Url}", Deadline);
                Assert.True(completed.Event == "bot.completed", $"the bot did not complete: {completed.Body}\ndetails: {await DetailsTextAsync(api, botId)}");
            });

            var hook = completed!;
            var payload = JsonNode.Parse(hook.Body)!;
            var data = payload["data"]!;
            var details = await DataAsync(await api.GetAsync($"/v2/bots/{botId}"), $"GET /v2/bots/{botId}");
            var context2 = $"callback: {hook.Body}\ndetails: {details.ToJsonString()}";

            await Step("the callback and the details say what happened", () =>
            {
                Assert.Equal("POST", hook.Method);
                Assert.True(WebhookListener.VerifySignature(hook, CallbackSecret, out var problem), $"callback signature: {problem}\n{context2}");
                Assert.Equal(CallbackSecret, hook.Header("x-mb-secret"));
                Assert.Equal(botId, data["bot_id"]?.GetValue<string>());
                Assert.Equal("recording-bot-chromium", payload["extra"]?["test"]?.GetValue<string>());
                Assert.Contains(data["participants"]!.AsArray(), p => p?["name"]?.GetValue<string>() == ParticipantName);
                Assert.DoesNotContain(data["participants"]!.AsArray(), p => p?["name"]?.GetValue<string>() == BotName);

                Assert.True(details["status"]?.GetValue<string>() == "completed", context2);
                Assert.Contains(details["participants"]!.AsArray(), p => p?["name"]?.GetValue<string>() == ParticipantName);
                var history = details["status_history"]!.AsArray().Select(h => h?["code"]?.GetValue<string>()).ToList();
                Assert.True(history.Contains("in_call_recording") && history.Contains("call_ended") && history.Contains("recording_succeeded"), context2);
                // The normal end of "everyone left, alone for everyone_left_timeout" (BotEnding.Timeout).
                Assert.True(details["error_code"]?.GetValue<string>() == "NO_ATTENDEES", context2);
                Assert.Contains("everyone_left_timeout", details["error_message"]?.GetValue<string>() ?? "", StringComparison.Ordinal);
                return Task.CompletedTask;
            });

            // The artifacts, through the signed URLs of the callback (no API key: the signature is the permission).
            using var work = new TempDirectory();
            using var download = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
            async Task<string> Fetch(string field, string file)
            {
                var url = data[field]?.GetValue<string>();
                Assert.False(string.IsNullOrEmpty(url), $"the callback has no {field} URL\n{context2}");
                using var response = await download.GetAsync(new Uri(baseUri, url));
                Assert.True(response.IsSuccessStatusCode, $"GET {field} {url} answered {(int)response.StatusCode}");
                var path = Path.Combine(work.Path, file);
                await File.WriteAllBytesAsync(path, await response.Content.ReadAsByteArrayAsync());
                return path;
            }

            var mp4 = await Fetch("video", "video.mp4");
            var flac = await Fetch("audio", "audio.flac");
            var jsonl = await Fetch("diarization", "diarization.jsonl");

            var (streams, duration, probe) = await MediaProbe.ProbeAsync(mp4);
            output.WriteLine($"video.mp4: {probe}");
            Assert.True(streams.Count(s => s == "video") == 1 && streams.Count(s => s == "audio") == 1 && streams.Count == 2,
                $"video.mp4 should have one video and one audio stream: {probe}");
            Assert.True(Math.Abs(duration - Stay.TotalSeconds) <= 2, $"video.mp4 lasts {duration:0.00} s, expected {Stay.TotalSeconds} s ± 2 s: {probe}\n{context2}");

            var (meanVolume, report) = await MediaProbe.MeanVolumeAsync(flac);
            output.WriteLine($"audio.flac: {report}");
            Assert.True(meanVolume > -50, $"audio.flac is silent: mean_volume {meanVolume} dB (expected above -50 dB for Chromium's fake beep)\n{report}");

            var lines = (await File.ReadAllLinesAsync(jsonl)).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!).ToList();
            output.WriteLine($"diarization.jsonl: {lines.Count} entries");
            Assert.True(lines.Count(l => l["speaker"]?.GetValue<string>() == ParticipantName) > 0,
                $"diarization.jsonl has no entry for {ParticipantName}: {string.Join('\n', lines.Select(l => l.ToJsonString()))}");
            Assert.All(lines, l => Assert.True(l["end_time"]!.GetValue<double>() >= l["start_time"]!.GetValue<double>(), l.ToJsonString()));
        }
        catch (Exception ex) when (ex is not StepFailedException)
        {
            output.WriteLine(await Diagnostics());
            throw;
        }
        finally
        {
            if (participant is not null)
            {
                await participant.DisposeAsync();
            }
        }
    }

    /// <summary>The fake camera and microphone reach the SFU: outbound-rtp packets on both kinds.</summary>
    private static Task WaitForOutboundAsync(Participant participant) =>
        Participant.PollAsync(async () =>
        {
            var kinds = await participant.Page.EvaluateAsync<string[]>("""
                async () => {
                  const pc = window.parley && window.parley.publishPc;
                  if (!pc) return [];
                  const kinds = new Set();
                  (await pc.getStats()).forEach(s => { if (s.type === 'outbound-rtp' && (s.packetsSent ?? 0) > 0) kinds.add(s.kind); });
                  return [...kinds];
                }
                """);
            return kinds.Contains("audio") && kinds.Contains("video") ? kinds : null;
        }, () => "outbound audio and video packets on the participant's publish connection", Participant.MediaTimeout);

    private static async Task<JsonNode> DataAsync(HttpResponseMessage response, string what)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"{what} answered {(int)response.StatusCode}: {body}");
            return JsonNode.Parse(body)!["data"]!;
        }
    }

    private static async Task<string?> StatusAsync(HttpClient api, string botId) =>
        (await DataAsync(await api.GetAsync($"/v2/bots/{botId}"), $"GET /v2/bots/{botId}"))["status"]?.GetValue<string>();

    private static async Task<string> DetailsTextAsync(HttpClient api, string botId) =>
        (await DataAsync(await api.GetAsync($"/v2/bots/{botId}"), $"GET /v2/bots/{botId}")).ToJsonString();

    private static Task WaitStatusAsync(HttpClient api, string botId, Func<string, bool> wanted) =>
        Participant.PollAsync(async () =>
        {
            var status = await StatusAsync(api, botId) ?? "";
            if (wanted(status))
            {
                return status;
            }

            if (status is "completed" or "failed")
            {
                throw new InvalidOperationException($"the bot ended ({status}) before the expected status: {await DetailsTextAsync(api, botId)}");
            }

            return null;
        }, () => $"bot {botId} to reach the expected status", Deadline);

    private static async Task<string> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    private static string Tail(string text, int characters) => text.Length <= characters ? text : text[^characters..];
}
