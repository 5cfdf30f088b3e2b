using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Parley.EndToEnd.Tests.Bots;

/// <summary>What ffprobe and ffmpeg (Debian's /usr/bin) say about a downloaded artifact.</summary>
internal static partial class MediaProbe
{
    public const string Ffmpeg = "/usr/bin/ffmpeg";
    public const string Ffprobe = "/usr/bin/ffprobe";

    /// <summary>Fails with what is missing and where it comes from: these tests never skip.</summary>
    public static void RequireTools()
    {
        foreach (var tool in new[] { Ffmpeg, Ffprobe })
        {
            if (!File.Exists(tool))
            {
                throw new InvalidOperationException($"{tool} is missing: the recording bot test probes the artifacts with Debian's ffmpeg package (./test.sh installs it; apt-get install ffmpeg).");
            }
        }
    }

    /// <summary>Stream types (video, audio...) and the container's duration in seconds.</summary>
    public static async Task<(IReadOnlyList<string> Streams, double Duration, string Raw)> ProbeAsync(string path)
    {
        var (code, stdout, stderr) = await RunAsync(Ffprobe, ["-v", "error", "-show_entries", "stream=codec_type,codec_name,duration:format=duration", "-of", "json", path]);
        if (code != 0)
        {
            throw new InvalidOperationException($"ffprobe {path} exited with {code}: {stderr}");
        }

        var json = JsonNode.Parse(stdout)!;
        var streams = json["streams"]?.AsArray().Select(s => s?["codec_type"]?.GetValue<string>() ?? "?").ToList() ?? [];
        var duration = double.Parse(json["format"]?["duration"]?.GetValue<string>() ?? "0", CultureInfo.InvariantCulture);
        return (streams, duration, stdout);
    }

    /// <summary>ffmpeg's volumedetect mean_volume in dB (-91 for digital silence).</summary>
    public static async Task<(double MeanVolume, string Report)> MeanVolumeAsync(string path)
    {
        var (code, _, stderr) = await RunAsync(Ffmpeg, ["-hide_banner", "-nostats", "-i", path, "-af", "volumedetect", "-f", "null", "-"]);
        if (code != 0)
        {
            throw new InvalidOperationException($"ffmpeg volumedetect on {path} exited with {code}: {stderr}");
        }

        var match = MeanVolume().Match(stderr);
        if (!match.Success)
        {
            throw new InvalidOperationException($"ffmpeg volumedetect printed no mean_volume: {stderr}");
        }

        var mean = match.Groups[1].Value == "-inf" ? double.NegativeInfinity : double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return (mean, string.Join('\n', stderr.Split('\n').Where(l => l.Contains("volumedetect", StringComparison.Ordinal))));
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string file, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    [GeneratedRegex(@"mean_volume:\s*(-?[0-9.]+|-inf)\s*dB")]
    private static partial Regex MeanVolume();
}
