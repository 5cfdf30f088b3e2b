using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Parley.Sfu.Client;
using Parley.Testing;
using Parley.WebRtc.Rtp;

namespace Parley.Bots.Tests.Adapters.Native;

/// <summary>
/// The main loop of issue 7 on a real `parley serve` with every role (api, sfu, orchestrator with the local
/// platform, jobs): a meeting from POST /v2/meetings, a native publisher sending real Opus and VP8 (encoded once by
/// ffmpeg), POST /v2/bots with the meeting's join_url. The orchestrator starts a real `parley bot run` child process
/// (what production runs), which joins as a bot, records, leaves on POST /leave and ends completed with artifacts.
/// Why a child process rather than an in-process bot: that is the path a deployment takes (token minting, config,
/// heartbeats, the executable's adapter registry); the server fixture is the same one the client tests use.
/// </summary>
public sealed class NativeBotEndToEndTests
{
    private const string Key = "native-bot-tests-static-api-key-0123456789";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Bot_joins_records_a_publisher_and_completes_with_artifacts()
    {
        // test.sh installs ffmpeg: it encodes the synthetic media and the bot composes with it.
        const string ffmpeg = "/usr/bin/ffmpeg";
        Assert.True(File.Exists(ffmpeg), "ffmpeg is needed (apt-get install ffmpeg)");
        using var media = new TempDirectory();
        var opus = await EncodeOpusAsync(ffmpeg, media.Path);
        var vp8 = await EncodeVp8Async(ffmpeg, media.Path);

        await using var server = RunningServer.Start(new Dictionary<string, string?>
        {
            ["STATIC_API_KEY"] = Key,
            ["RTC_MIN_PORT"] = "30500",
            ["RTC_MAX_PORT"] = "30700",
            ["RTC_WORKERS"] = "1",
            ["ANNOUNCED_IP"] = "127.0.0.1",
            ["PARLEY_RATE_LIMIT_PER_SECOND"] = "0",
            ["PLATFORM_PRIORITY"] = "local",
            ["LOCAL_BOT_LIMIT"] = "2",
            ["BOT_HEARTBEAT_INTERVAL_MS"] = "1000",
            ["LOG_LEVEL"] = "info",
        });
        await server.WaitForStatusAsync("/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(90));
        var baseUrl = new Uri($"http://127.0.0.1:{server.Port}/");
        using var http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("x-meeting-baas-api-key", Key);

        var meeting = await DataAsync(await http.PostAsJsonAsync("/v2/meetings", new { name = "bot e2e" }));
        var meetingId = meeting.GetProperty("meeting_id").GetString()!;
        var joinUrl = meeting.GetProperty("join_url").GetString()!;
        var token = await MeetingTokens.CreateAsync(http, Key, meetingId, "alice", "Alice");
        await using var publisher = new MeetingClient(new MeetingClientOptions { ServerUrl = baseUrl, Token = token });
        var botSeen = new TaskCompletionSource<ParticipantInfo>(TaskCreationOptions.RunContinuationsAsynchronously);
        var recordingBanner = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        publisher.ParticipantJoined += p =>
        {
            if (p.IsBot)
            {
                botSeen.TrySetResult(p);
            }
        };
        publisher.RecordingChanged += active =>
        {
            if (active)
            {
                recordingBanner.TrySetResult();
            }
        };
        var chat = new TaskCompletionSource<ChatMessageInfo>(TaskCreationOptions.RunContinuationsAsynchronously);
        publisher.ChatReceived += m =>
        {
            if (m.Text == "Parley is recording")
            {
                chat.TrySetResult(m);
            }
        };
        await publisher.JoinAsync();
        var publication = await publisher.PublishAsync(new PublishOptions { Audio = true, Video = true });
        using var sending = new CancellationTokenSource();
        var sender = Task.Run(() => SendMedia(publisher, publication, opus, vp8, sending.Token));

        var created = await DataAsync(await http.PostAsJsonAsync("/v2/bots", new
        {
            bot_name = "Recorder",
            meeting_url = joinUrl,
            entry_message = "Parley is recording",
            recording_mode = "speaker_view",
        }));
        var botId = created.GetProperty("bot_id").GetString()!;

        var bot = await botSeen.Task.WaitAsync(Deadline);
        Assert.Equal("Recorder", bot.Name);
        await recordingBanner.Task.WaitAsync(Deadline);
        await chat.Task.WaitAsync(Deadline);
        await WaitStatusAsync(http, botId, s => s == "in_call_recording");

        // A few seconds of media, then the bot is asked to leave.
        await Task.Delay(TimeSpan.FromSeconds(5));
        (await http.PostAsync($"/v2/bots/{botId}/leave", null)).EnsureSuccessStatusCode();
        var details = await WaitStatusAsync(http, botId, s => s is "completed" or "failed");
        await sending.CancelAsync();
        await sender;

        Assert.True(details.GetProperty("status").GetString() == "completed", details.ToString());
        var history = details.GetProperty("status_history").EnumerateArray().Select(h => h.GetProperty("code").GetString()).ToList();
        Assert.Contains("joining_call", history);
        Assert.Contains("in_call_not_recording", history);
        Assert.Contains("in_call_recording", history);
        Assert.Contains(details.GetProperty("participants").EnumerateArray(), p => p.GetProperty("name").GetString() == "Alice");
        Assert.Equal(JsonValueKind.String, details.GetProperty("audio").ValueKind);
        Assert.Equal(JsonValueKind.String, details.GetProperty("diarization").ValueKind);
        Assert.Equal(JsonValueKind.String, details.GetProperty("chat_messages").ValueKind);

        // The FLAC is real audio of the recording's length (not asserting a duration: only that it is audio).
        using var audio = await new HttpClient().GetAsync(new Uri(baseUrl, details.GetProperty("audio").GetString()!));
        audio.EnsureSuccessStatusCode();
        var flac = await audio.Content.ReadAsByteArrayAsync();
        Assert.True(flac.Length > 1000 && flac.AsSpan(0, 4).SequenceEqual("fLaC"u8), $"audio artifact of {flac.Length} bytes");
    }

    internal static async Task<JsonElement> DataAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("data").Clone();
    }

    private static async Task<JsonElement> WaitStatusAsync(HttpClient http, string botId, Func<string, bool> done)
    {
        var stopwatch = Stopwatch.StartNew();
        JsonElement details = default;
        while (stopwatch.Elapsed < Deadline)
        {
            details = await DataAsync(await http.GetAsync($"/v2/bots/{botId}"));
            var status = details.GetProperty("status").GetString()!;
            if (done(status))
            {
                return details;
            }

            if (status is "completed" or "failed")
            {
                break;
            }

            await Task.Delay(200);
        }

        Assert.Fail($"bot {botId} did not reach the expected status: {details}");
        return details;
    }

    /// <param name="speaking">
    /// Whether the publisher speaks at a time since the start (null: always): while it does not, its audio says
    /// digital silence (RFC 6464 level 127, no voice), as a muted microphone's does.
    /// </param>
    internal static void SendMedia(MeetingClient client, LocalPublication publication, List<byte[]> opus, List<byte[]> vp8, CancellationToken stop,
        Func<TimeSpan, bool>? speaking = null)
    {
        var buffer = new byte[1600];
        var audioMid = System.Text.Encoding.ASCII.GetBytes(publication.AudioMid ?? "0");
        var videoMid = System.Text.Encoding.ASCII.GetBytes(publication.VideoMid ?? "1");
        var videoSsrc = publication.VideoSsrcs[0];
        ushort audioSeq = 1000, videoSeq = 2000;
        var keyframeWanted = false;
        client.KeyframeRequested += _ => keyframeWanted = true;
        var start = Stopwatch.GetTimestamp();
        long audioIndex = 0, videoIndex = 0;
        while (!stop.IsCancellationRequested)
        {
            var elapsedMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            while (audioIndex * 20 <= elapsedMs)
            {
                var payload = opus[(int)(audioIndex % opus.Count)];
                var b = new RtpPacketBuilder(buffer, (byte)publication.AudioPayloadType, audioSeq++, (uint)(audioIndex * 960), publication.AudioSsrc);
                if (publication.AudioMidExtensionId != 0)
                {
                    b.AddExtension(publication.AudioMidExtensionId, audioMid);
                }

                if (publication.AudioLevelExtensionId != 0)
                {
                    var voice = speaking?.Invoke(TimeSpan.FromMilliseconds(audioIndex * 20)) ?? true;
                    b.AddExtension(publication.AudioLevelExtensionId,
                        [voice ? RtpExtensionValues.EncodeAudioLevel(true, 20) : RtpExtensionValues.EncodeAudioLevel(false, RtpExtensionValues.SilenceLevel)]);
                }

                b.AddPayload(payload);
                client.SendRtp(buffer, b.Length);
                audioIndex++;
            }

            while (videoIndex * 40 <= elapsedMs)
            {
                // 25 fps; frame 0 of the file is a key frame, sent again when asked.
                var index = (int)(videoIndex % vp8.Count);
                if (keyframeWanted)
                {
                    keyframeWanted = false;
                    index = 0;
                }

                var frame = vp8[index];
                var packets = Vp8Packetizer.PacketCount(frame.Length, 1001);
                for (var i = 0; i < packets; i++)
                {
                    var b = new RtpPacketBuilder(buffer, (byte)publication.VideoPayloadType, videoSeq++, (uint)(videoIndex * 3600), videoSsrc, marker: i == packets - 1);
                    if (publication.VideoMidExtensionId != 0)
                    {
                        b.AddExtension(publication.VideoMidExtensionId, videoMid);
                    }

                    Vp8Packetizer.AddPayload(ref b, frame, i, 1001);
                    client.SendRtp(buffer, b.Length);
                }

                videoIndex++;
            }

            Thread.Sleep(5);
        }
    }

    private static async Task RunAsync(string ffmpeg, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(ffmpeg, arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, await errors);
    }

    /// <summary>A 440 Hz tone as 20 ms Opus packets (from an Ogg file ffmpeg writes).</summary>
    internal static async Task<List<byte[]>> EncodeOpusAsync(string ffmpeg, string directory)
    {
        var path = Path.Combine(directory, "tone.ogg");
        await RunAsync(ffmpeg, string.Create(CultureInfo.InvariantCulture, $"-y -v error -f lavfi -i sine=frequency=440:duration=4 -ar 48000 -ac 1 -c:a libopus -frame_duration 20 -f ogg {path}"));
        var data = await File.ReadAllBytesAsync(path);
        var packets = new List<byte[]>();
        var current = new List<byte>();
        var offset = 0;
        while (offset + 27 <= data.Length && data.AsSpan(offset, 4).SequenceEqual("OggS"u8))
        {
            int segments = data[offset + 26];
            var body = offset + 27 + segments;
            for (var i = 0; i < segments; i++)
            {
                int lacing = data[offset + 27 + i];
                current.AddRange(data.AsSpan(body, lacing).ToArray());
                body += lacing;
                if (lacing < 255)
                {
                    packets.Add([.. current]);
                    current.Clear();
                }
            }

            offset = body;
        }

        // OpusHead and OpusTags first.
        return packets.Skip(2).Where(p => p.Length > 0).ToList();
    }

    /// <summary>Two seconds of test pattern as VP8 frames (from an IVF file ffmpeg writes), the first a key frame.</summary>
    /// <param name="source">An ffmpeg lavfi video source (testsrc: a moving test pattern; color=c=red: one colour).</param>
    internal static async Task<List<byte[]>> EncodeVp8Async(string ffmpeg, string directory, string source = "testsrc")
    {
        var path = Path.Combine(directory, $"{source.Replace('=', '-')}.ivf");
        var input = (source.Contains('=', StringComparison.Ordinal) ? source + ":" : source + "=") + "size=320x240:rate=25:duration=2";
        await RunAsync(ffmpeg, $"-y -v error -f lavfi -i {input} -c:v libvpx -b:v 300k -g 50 -f ivf {path}");
        var data = await File.ReadAllBytesAsync(path);
        var frames = new List<byte[]>();
        int offset = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(6));
        while (offset + 12 <= data.Length)
        {
            var size = (int)BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offset));
            frames.Add(data.AsSpan(offset + 12, size).ToArray());
            offset += 12 + size;
        }

        return frames;
    }
}
