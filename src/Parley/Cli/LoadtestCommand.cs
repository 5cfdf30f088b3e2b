using System.CommandLine;
using System.Globalization;
using Parley.Hosting;
using Parley.Loadtest;
using Spectre.Console;

namespace Parley.Cli;

/// <summary>
/// `parley loadtest`: many native WebRTC clients in this process against a Parley SFU (or a Janus VideoRoom,
/// for the side-by-side benchmark), live progress, and a report: join time, packets and bytes, loss, jitter,
/// end-to-end delay, errors by kind (issue 8). Exit codes: 0 the run completed (the report says how well),
/// 1 no client could connect, 2 bad options.
/// </summary>
internal static class LoadtestCommand
{
    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "The server: a Parley base URL (http://127.0.0.1:3001), or Janus's HTTP API (http://127.0.0.1:8088/janus) with --target janus.", DefaultValueFactory = _ => "http://127.0.0.1:3001" };
        var meetings = new Option<int>("--meetings") { Description = "Meetings (rooms) to run side by side.", DefaultValueFactory = _ => 1 };
        var publishers = new Option<string>("--publishers") { Description = "Publishers per meeting: a count (audio + video each) or groups COUNT:av|audio|video separated by commas, e.g. 40:audio,10:av. Publishers also receive everyone else.", DefaultValueFactory = _ => "2" };
        var subscribers = new Option<int>("--subscribers") { Description = "Receive-only participants per meeting.", DefaultValueFactory = _ => 0 };
        var duration = new Option<int>("--duration") { Description = "Seconds of steady state once everyone joined.", DefaultValueFactory = _ => 30 };
        var videoBitrate = new Option<int>("--video-bitrate") { Description = "Video bitrate per publisher in kbit/s (the top layer with --simulcast).", DefaultValueFactory = _ => 500 };
        var simulcast = new Option<bool>("--simulcast") { Description = "Publish video as three simulcast layers (rids q, h, f at 1/16, 1/4 and 1 of the bitrate)." };
        var talkers = new Option<int?>("--talkers") { Description = "Publishers per meeting whose microphone is open; the others send a muted microphone's digital silence (audio level 127). Default: everyone talks." };
        var ramp = new Option<double>("--ramp") { Description = "Joins started per second.", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON on stdout (progress goes to stderr)." };
        var target = new Option<string>("--target") { Description = "parley or janus.", DefaultValueFactory = _ => "parley" };
        target.AcceptOnlyFromAmong("parley", "janus");
        var command = new Command("loadtest", "Drives many native WebRTC clients against an SFU (Parley, or Janus for comparison) and reports join time, loss, jitter and delay.");
        foreach (var option in new Option[] { url, meetings, publishers, subscribers, duration, videoBitrate, simulcast, talkers, ramp, json, target })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var problems = new List<string>();
            if (!Uri.TryCreate(parse.GetValue(url), UriKind.Absolute, out var server) || server.Scheme is not ("http" or "https"))
            {
                problems.Add($"--url '{parse.GetValue(url)}': expected an http(s):// URL");
            }

            if (!PublisherGroup.TryParse(parse.GetValue(publishers), out var groups, out var error))
            {
                problems.Add(error!);
            }

            Check(problems, "--meetings", parse.GetValue(meetings), 1, 1000);
            Check(problems, "--subscribers", parse.GetValue(subscribers), 0, 10_000);
            Check(problems, "--duration", parse.GetValue(duration), 1, 86_400);
            Check(problems, "--video-bitrate", parse.GetValue(videoBitrate), 10, 50_000);
            if (parse.GetValue(talkers) is { } t)
            {
                Check(problems, "--talkers", t, 0, 10_000);
            }
            if (parse.GetValue(ramp) is var r && (double.IsNaN(r) || r <= 0 || r > 10_000))
            {
                problems.Add($"--ramp {r.ToString(CultureInfo.InvariantCulture)}: expected joins per second, above 0 and at most 10000");
            }

            if (problems.Count == 0 && groups.Sum(g => g.Count) + parse.GetValue(subscribers) == 0)
            {
                problems.Add("--publishers and --subscribers: nobody would join");
            }

            if (problems.Count > 0)
            {
                foreach (var problem in problems)
                {
                    await Console.Error.WriteLineAsync($"parley loadtest: {problem}");
                }

                return ExitCodes.ConfigurationError;
            }

            var settings = new LoadSettings
            {
                Url = server!,
                Target = parse.GetValue(target)!,
                Meetings = parse.GetValue(meetings),
                Publishers = groups,
                Subscribers = parse.GetValue(subscribers),
                Duration = TimeSpan.FromSeconds(parse.GetValue(duration)),
                VideoBitrateKbps = parse.GetValue(videoBitrate),
                Simulcast = parse.GetValue(simulcast),
                Talkers = parse.GetValue(talkers),
                Ramp = parse.GetValue(ramp),
                Json = parse.GetValue(json),
            };
            return await RunAsync(settings, cancellationToken);
        });
        return command;
    }

    private static void Check(List<string> problems, string name, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{name} {value}: expected {min}..{max}"));
        }
    }

    private static async Task<int> RunAsync(LoadSettings settings, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true; // finish with a report of what was measured
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        using var termination = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });
        try
        {
            await using var target = LoadTargets.Create(settings);
            var runner = new LoadRunner(settings, target.CreateParticipant);
            await target.PrepareAsync(stop.Token);
            var plain = settings.Json || Console.IsOutputRedirected;
            await Console.Error.WriteLineAsync("parley loadtest: " + LoadRunner.Describe(settings));
            LoadReport report;
            if (plain)
            {
                report = await runner.RunAsync(p => Console.Error.WriteLine(ProgressLine(p)), stop.Token);
            }
            else
            {
                var table = ProgressTable(null);
                report = null!;
                await AnsiConsole.Live(table).AutoClear(false).StartAsync(async context =>
                {
                    report = await runner.RunAsync(p =>
                    {
                        context.UpdateTarget(ProgressTable(p));
                        context.Refresh();
                    }, stop.Token);
                });
            }

            foreach (var (kind, detail) in runner.Errors.FirstDetails)
            {
                await Console.Error.WriteLineAsync($"parley loadtest: first {kind}: {detail}");
            }

            if (settings.Json)
            {
                Console.Out.WriteLine(report.ToJson());
            }
            else
            {
                PrintReport(report);
            }

            return report.Clients.Connected > 0 ? ExitCodes.Success : ExitCodes.Failure;
        }
        catch (LoadTargetException e)
        {
            await Console.Error.WriteLineAsync($"parley loadtest: {e.Message}");
            return ExitCodes.Failure;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static string ProgressLine(LoadProgress p) => string.Create(CultureInfo.InvariantCulture,
        $"[{p.ElapsedSeconds,6:0.0}s] {p.Phase,-8} clients {p.Connected}/{p.Planned} (started {p.Started}, failed {p.Failed})  pps out {p.PacketsOutPerSecond:0}  pps in {p.PacketsInPerSecond:0}  loss {p.LossPercent:0.###}%  errors {p.Errors}");

    private static Table ProgressTable(LoadProgress? p)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("parley loadtest");
        table.AddColumns("phase", "elapsed", "clients", "failed", "pps out", "pps in", "loss", "errors");
        if (p is not null)
        {
            table.AddRow(p.Phase, $"{p.ElapsedSeconds:0.0} s", $"{p.Connected}/{p.Planned}", p.Failed.ToString(CultureInfo.InvariantCulture),
                p.PacketsOutPerSecond.ToString("0", CultureInfo.InvariantCulture), p.PacketsInPerSecond.ToString("0", CultureInfo.InvariantCulture),
                $"{p.LossPercent.ToString("0.###", CultureInfo.InvariantCulture)} %", p.Errors.ToString(CultureInfo.InvariantCulture));
        }

        return table;
    }

    private static void PrintReport(LoadReport r)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"{r.Target} {Markup.Escape(r.Url)}");
        table.AddColumns("figure", "value");
        static string Ms(Percentiles p) => string.Create(CultureInfo.InvariantCulture, $"p50 {p.P50} · p95 {p.P95} · p99 {p.P99} · max {p.Max} ms (n={p.Count})");
        table.AddRow("clients", $"{r.Clients.Connected}/{r.Clients.Planned} connected, {r.Clients.Failed} failed, {r.Clients.Streams} streams received");
        table.AddRow("join time", Ms(r.JoinMs));
        table.AddRow("media connected", Ms(r.MediaConnectMs));
        table.AddRow("packets", $"{r.Packets.Sent:N0} sent, {r.Packets.Received:N0} received");
        table.AddRow("bytes", $"{r.Bytes.Sent:N0} sent, {r.Bytes.Received:N0} received");
        table.AddRow("loss", string.Create(CultureInfo.InvariantCulture, $"{r.LossPercent} % ({r.PacketsLost:N0} of {r.PacketsExpected:N0}); {r.NacksSent:N0} NACKs sent"));
        table.AddRow("jitter", string.Create(CultureInfo.InvariantCulture, $"mean {r.JitterMs.Mean} ms, max {r.JitterMs.Max} ms"));
        table.AddRow("delay", Ms(r.DelayMs));
        table.AddRow("errors", r.Errors.Count == 0 ? "none" : Markup.Escape(string.Join(", ", r.Errors.Select(e => $"{e.Key}: {e.Value}"))));
        AnsiConsole.Write(table);
    }
}
