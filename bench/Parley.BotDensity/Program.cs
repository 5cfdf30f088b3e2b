using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Parley.Bots;
using Parley.Bots.Adapters;
using Parley.Bots.Adapters.Native;
using Parley.Bots.Recording;

namespace Parley.BotDensity;

/// <summary>
/// The density harness of bench/bot-density.sh (issue 7): N native recording bots in this one process, each a real
/// <see cref="NativeMeetingAdapter"/> (signaling, ICE/DTLS/SRTP, jitter buffer, WebM per track) joining an existing
/// meeting with a bot join token from POST /v2/meetings/{id}/tokens. What the bot runtime adds around the adapter
/// (a heartbeat every 10 s, a handful of status reports) is left out; composition runs after, for a few bots only,
/// and is reported apart. Measures, over the steady state only (everyone joined and recording): this process's
/// CPU time (utime + stime of /proc/self/stat), peak RSS (sampled VmRSS, and VmHWM), peak GC heap, allocations.
/// Prints one JSON object on stdout; progress on stderr.
/// </summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        var o = Options.Parse(args);
        if (o is null)
        {
            await Console.Error.WriteLineAsync("usage: Parley.BotDensity --url URL --api-key KEY [--meeting-id ID] --bots N [--publishers P] [--duration S] [--warmup S] [--ramp PER_S] [--compose K] [--bot-image PNG]");
            return 2;
        }

        using var http = new HttpClient { BaseAddress = new Uri(o.Url.ToString().TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("x-meeting-baas-api-key", o.ApiKey);
        using var loggers = new StderrLoggerFactory();

        var meetingId = o.MeetingId ?? await FindMeetingAsync(http, o.Publishers);
        await WaitForPublishersAsync(http, meetingId, o.Publishers);
        Log($"meeting {meetingId}: {o.Publishers} publisher(s) in; minting {o.Bots} bot tokens");

        var tokens = new List<string>(o.Bots);
        for (var i = 0; i < o.Bots; i++)
        {
            tokens.Add(await BotTokenAsync(http, meetingId, i, o.BotImage is not null));
        }

        // --bot-image: every bot shows this picture as its camera, served from here on loopback (as a user's URL would be).
        using var images = o.BotImage is null ? null : new ImageFileServer(o.BotImage);
        var body = images is null
            ? default
            : JsonDocument.Parse(JsonSerializer.Serialize(new { bot_image = images.Url.ToString() })).RootElement;

        var baseline = Sample();
        var bots = new List<DensityBot>(o.Bots);
        var joinStart = Stopwatch.StartNew();
        for (var i = 0; i < o.Bots; i++)
        {
            var bot = new DensityBot(i, o.Url, tokens[i], loggers, body);
            bots.Add(bot);
            bot.Start();
            await Task.Delay(TimeSpan.FromSeconds(1 / o.Ramp));
        }

        using var joinDeadline = new CancellationTokenSource(TimeSpan.FromSeconds(60 + (o.Bots / o.Ramp)));
        try
        {
            await Task.WhenAll(bots.Select(b => b.Recording.WaitAsync(joinDeadline.Token)));
        }
        catch (OperationCanceledException)
        {
        }

        var recording = bots.Count(b => b.Recording.IsCompletedSuccessfully);
        Log($"{recording}/{o.Bots} bots recording after {joinStart.Elapsed.TotalSeconds:0.0} s; warm-up {o.Warmup} s");
        await Task.Delay(TimeSpan.FromSeconds(o.Warmup));

        // Steady state: CPU and allocations between the two marks; memory sampled every 250 ms.
        var before = Sample();
        var bytesBefore = bots.Sum(b => b.RecordedBytes());
        var wall = Stopwatch.StartNew();
        long peakRss = before.Rss, peakHeap = before.Heap;
        while (wall.Elapsed.TotalSeconds < o.Duration)
        {
            await Task.Delay(250);
            var s = Sample();
            peakRss = Math.Max(peakRss, s.Rss);
            peakHeap = Math.Max(peakHeap, s.Heap);
        }

        var after = Sample();
        var seconds = wall.Elapsed.TotalSeconds;
        var bytesAfter = bots.Sum(b => b.RecordedBytes());
        var stillRecording = bots.Count(b => b.Recording.IsCompletedSuccessfully && !b.Run.IsCompleted);
        Log($"measured {seconds:0.0} s; leaving");

        foreach (var bot in bots)
        {
            await bot.LeaveAsync();
        }

        var ends = await Task.WhenAll(bots.Select(b => b.WaitAsync()));
        var tracks = bots.Select(b => b.TrackFiles()).ToList();

        // Post-processing (after the meeting, not part of the recording cost): compose a few recordings one after
        // another with the bots' own composer (ffmpeg child processes; their CPU is the children's time of this
        // process once waited for, cutime + cstime).
        var composed = new List<object>();
        var composer = new RecordingComposer(new RecordingComposerOptions());
        foreach (var bot in bots.Where(b => b.Directory is not null).Take(o.Compose))
        {
            var c0 = Sample();
            var w = Stopwatch.StartNew();
            var result = await composer.ComposeAsync(bot.Directory!, RecordingLayout.SpeakerView, Path.Combine(bot.Directory!, "out"));
            var c1 = Sample();
            var cpu = (c1.Cpu - c0.Cpu) + (c1.ChildrenCpu - c0.ChildrenCpu);
            composed.Add(new
            {
                recorded_seconds = Math.Round(result.DurationSeconds, 1),
                wall_seconds = Math.Round(w.Elapsed.TotalSeconds, 1),
                cpu_seconds = Math.Round(cpu, 2),
                cpu_seconds_per_recorded_minute = result.DurationSeconds > 0 ? Math.Round(cpu / (result.DurationSeconds / 60), 2) : 0,
                video = result.VideoPath is not null,
                audio = result.AudioPath is not null,
                skipped = result.SkippedArtifacts,
            });
        }

        var cpuSeconds = after.Cpu - before.Cpu;
        var botMinutes = stillRecording * seconds / 60;
        var report = new
        {
            meeting_id = meetingId,
            bots = o.Bots,
            bots_recording = recording,
            bots_recording_throughout = stillRecording,
            publishers = o.Publishers,
            seconds = Math.Round(seconds, 1),
            processor_count = Environment.ProcessorCount,
            cpu_seconds = Math.Round(cpuSeconds, 2),
            cpu_seconds_per_bot_minute = botMinutes > 0 ? Math.Round(cpuSeconds / botMinutes, 3) : 0,
            bots_per_core = cpuSeconds > 0 ? Math.Round(stillRecording * seconds / cpuSeconds, 1) : 0,
            baseline_rss_mb = Mb(baseline.Rss),
            peak_rss_mb = Mb(Math.Max(peakRss, after.Hwm)),
            peak_rss_per_bot_mb = Math.Round(Mb(Math.Max(peakRss, after.Hwm)) / o.Bots, 2),
            marginal_rss_per_bot_mb = Math.Round(Mb(Math.Max(peakRss, after.Hwm) - baseline.Rss) / o.Bots, 2),
            peak_gc_heap_mb = Mb(peakHeap),
            allocated_mb_per_bot_minute = botMinutes > 0 ? Math.Round(Mb(after.Allocated - before.Allocated) / botMinutes, 2) : 0,
            gen0_collections = after.Gen0 - before.Gen0,
            gen2_collections = after.Gen2 - before.Gen2,
            recorded_kbit_per_bot = stillRecording > 0 ? Math.Round((bytesAfter - bytesBefore) * 8 / 1000.0 / seconds / stillRecording, 0) : 0,
            tracks_per_bot_min = tracks.Count > 0 ? tracks.Min() : 0,
            tracks_per_bot_max = tracks.Count > 0 ? tracks.Max() : 0,
            ends = ends.GroupBy(e => e).ToDictionary(g => g.Key, g => g.Count()),
            composition = composed,
        };
        Console.WriteLine(JsonSerializer.Serialize(report));
        return recording == 0 ? 1 : 0;
    }

    private static double Mb(long bytes) => Math.Round(bytes / 1048576.0, 1);

    private static void Log(string message) => Console.Error.WriteLine($"[bot-density] {message}");

    /// <summary>The newest open meeting that has the publishers in it (the load tool's ad-hoc `lt-RUN-0`).</summary>
    private static async Task<string> FindMeetingAsync(HttpClient http, int publishers)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(120))
        {
            using var doc = JsonDocument.Parse(await http.GetStringAsync("v2/meetings?status=open&limit=20"));
            foreach (var m in doc.RootElement.GetProperty("data").EnumerateArray())
            {
                var id = m.GetProperty("meeting_id").GetString()!;
                if (await ParticipantCountAsync(http, id) >= publishers)
                {
                    return id;
                }
            }

            await Task.Delay(500);
        }

        throw new InvalidOperationException($"no open meeting with {publishers} participants within 120 s");
    }

    private static async Task WaitForPublishersAsync(HttpClient http, string meetingId, int publishers)
    {
        var deadline = Stopwatch.StartNew();
        while (await ParticipantCountAsync(http, meetingId) < publishers)
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(120))
            {
                throw new InvalidOperationException($"meeting {meetingId} has fewer than {publishers} participants after 120 s");
            }

            await Task.Delay(500);
        }
    }

    private static async Task<int> ParticipantCountAsync(HttpClient http, string meetingId)
    {
        using var response = await http.GetAsync($"v2/meetings/{Uri.EscapeDataString(meetingId)}");
        if (!response.IsSuccessStatusCode)
        {
            return 0;
        }

        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var data = doc.RootElement.GetProperty("data");
        return data.TryGetProperty("participant_count", out var p) && p.ValueKind == JsonValueKind.Number ? p.GetInt32() : 0;
    }

    /// <summary>A join token flagged bot (what the API mints into a bot's config as meeting_join).</summary>
    private static async Task<string> BotTokenAsync(HttpClient http, string meetingId, int index, bool canPublish)
    {
        using var response = await http.PostAsJsonAsync($"v2/meetings/{Uri.EscapeDataString(meetingId)}/tokens", new Dictionary<string, object>
        {
            ["identity"] = $"bot-density-{index}",
            ["name"] = $"Density bot {index}",
            ["bot"] = true,
            // The API mints a bot's own token with can_publish (its camera); here only a bot with --bot-image needs it.
            ["can_publish"] = canPublish,
        });
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST /v2/meetings/{meetingId}/tokens answered {(int)response.StatusCode}: {body}");
        }

        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("data").GetProperty("token").GetString()!;
    }

    private readonly record struct ProcessSample(double Cpu, double ChildrenCpu, long Rss, long Hwm, long Heap, long Allocated, int Gen0, int Gen2);

    private static readonly double s_ticks = ClockTicks();

    private static ProcessSample Sample()
    {
        // /proc/self/stat: fields after the ")" of comm; utime, stime, cutime, cstime are fields 14..17.
        var stat = File.ReadAllText("/proc/self/stat");
        var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        double T(int field) => long.Parse(f[field - 3], CultureInfo.InvariantCulture) / s_ticks;
        long rss = 0, hwm = 0;
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = Kb(line);
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                hwm = Kb(line);
            }
        }

        var gc = GC.GetGCMemoryInfo();
        return new ProcessSample(T(14) + T(15), T(16) + T(17), rss, hwm, gc.HeapSizeBytes, GC.GetTotalAllocatedBytes(), GC.CollectionCount(0), GC.CollectionCount(2));

        static long Kb(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    private static double ClockTicks()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("getconf", "CLK_TCK") { RedirectStandardOutput = true });
            var text = p!.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return double.Parse(text, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or FormatException)
        {
            return 100;
        }
    }
}

/// <summary>One bot: a native meeting adapter with its recording, delivery replaced by keeping the folder.</summary>
internal sealed class DensityBot(int index, Uri serverUrl, string token, ILoggerFactory loggers, JsonElement body) : IMeetingEventSink
{
    private readonly TaskCompletionSource _recording = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private NativeMeetingAdapter? _adapter;

    public Task Recording => _recording.Task;

    public Task<MeetingEnd> Run { get; private set; } = Task.FromResult(MeetingEnd.Left);

    public string? Directory { get; private set; }

    public void Start()
    {
        var join = JsonDocument.Parse(JsonSerializer.Serialize(new { token, server_url = serverUrl.ToString() })).RootElement;
        var config = new BotConfig($"density{index:D4}", $"Density bot {index}", serverUrl.ToString(), "parley", "speaker_view", "joining_call", TimeoutConfig.Default, body)
        {
            MeetingJoin = join,
            AllowPrivateNetworks = true, // the harness serves BOT_IMAGE on loopback
        };
        _adapter = new NativeMeetingAdapter(new MeetingAdapterContext(config, new BotOptions(), loggers, TimeProvider.System), KeepFolder);
        Run = Task.Run(() => _adapter.RunAsync(this, CancellationToken.None));
        _ = Run.ContinueWith(t => _recording.TrySetException(t.Exception ?? new Exception("ended before recording")), TaskScheduler.Default);
    }

    /// <summary>The delivery: keep the folder (composition is measured apart). A method group, not a lambda, so that it
    /// converts to the adapter's delivery delegate whether that returns Task or Task of the outcome.</summary>
    private Task<RecordingDeliveryOutcome?> KeepFolder(string directory, CancellationToken cancellationToken)
    {
        Directory = directory;
        return Task.FromResult<RecordingDeliveryOutcome?>(null);
    }

    public long RecordedBytes()
    {
        var directory = _adapter?.RecordingDirectory ?? Directory;
        return directory is null || !System.IO.Directory.Exists(directory)
            ? 0
            : new DirectoryInfo(directory).EnumerateFiles("*.webm").Sum(f => f.Length);
    }

    public int TrackFiles() => Directory is null || !System.IO.Directory.Exists(Directory) ? 0 : System.IO.Directory.GetFiles(Directory, "*.webm").Length;

    public Task LeaveAsync() => _adapter?.LeaveAsync(CancellationToken.None) ?? Task.CompletedTask;

    public async Task<string> WaitAsync()
    {
        try
        {
            var end = await Run.WaitAsync(TimeSpan.FromSeconds(60));
            return end.ToString();
        }
        catch (Exception e)
        {
            return e.GetType().Name + ": " + e.Message;
        }
        finally
        {
            if (_adapter is not null)
            {
                await _adapter.DisposeAsync();
            }
        }
    }

    public void StatusChanged(string status)
    {
        if (status == Core.Bots.BotStatus.InCallRecording)
        {
            _recording.TrySetResult();
        }
    }

    public void ParticipantJoined(MeetingParticipant participant)
    {
    }

    public void ParticipantLeft(MeetingParticipant participant)
    {
    }

    public void ChatMessageReceived(MeetingParticipant sender, string text, string? messageId)
    {
    }

    public void SpeakerChanged(MeetingParticipant speaker)
    {
    }

    public void AudioLevel(double level)
    {
    }

    /// <summary>Of the sink once the runtime learns about deliveries (a plain method until then; delivery is skipped here).</summary>
    public void RecordingDelivered(string? message)
    {
    }
}

/// <summary>Warnings and errors of the bots on stderr, one line each (Parley.Bots needs only the abstractions).</summary>
internal sealed class StderrLoggerFactory : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new StderrLogger(categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class StderrLogger(string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                Console.Error.WriteLine($"{logLevel} {category}: {formatter(state, exception)}");
            }
        }
    }
}

internal sealed record Options(Uri Url, string ApiKey, string? MeetingId, int Bots, int Publishers, double Duration, double Warmup, double Ramp, int Compose, string? BotImage)
{
    public static Options? Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                return null;
            }

            values[args[i][2..]] = args[i + 1];
        }

        string? Get(string name) => values.GetValueOrDefault(name);
        double Number(string name, double fallback) => Get(name) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
        if (!Uri.TryCreate(Get("url"), UriKind.Absolute, out var url) || Get("api-key") is not { } key || Number("bots", 0) < 1)
        {
            return null;
        }

        return new Options(url, key, Get("meeting-id"), (int)Number("bots", 0), (int)Number("publishers", 1), Number("duration", 60), Number("warmup", 5),
            Number("ramp", 10), (int)Number("compose", 1), Get("bot-image"));
    }
}

/// <summary>Serves one picture file at http://127.0.0.1:PORT/image for --bot-image.</summary>
internal sealed class ImageFileServer : IDisposable
{
    private readonly System.Net.HttpListener _listener = new();
    private readonly byte[] _content;

    public ImageFileServer(string path)
    {
        _content = File.ReadAllBytes(path);
        var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Url = new Uri($"http://127.0.0.1:{port}/image");
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _ = Task.Run(ServeAsync);
    }

    public Uri Url { get; }

    public void Dispose() => _listener.Close();

    private async Task ServeAsync()
    {
        try
        {
            while (_listener.IsListening)
            {
                var context = await _listener.GetContextAsync();
                context.Response.ContentType = "application/octet-stream";
                await context.Response.OutputStream.WriteAsync(_content);
                context.Response.Close();
            }
        }
        catch (System.Net.HttpListenerException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
