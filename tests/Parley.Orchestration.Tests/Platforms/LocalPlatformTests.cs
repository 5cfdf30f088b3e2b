using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.Orchestration.Platforms;
using Parley.Orchestration.Platforms.Local;
using Parley.Testing;

namespace Parley.Orchestration.Tests.Platforms;

/// <summary>
/// Stopping a local bot: real child processes (shell scripts standing in for `parley bot run`) that write
/// the signals they receive to a marker file, which the test passes as the script's first argument.
/// </summary>
public sealed class LocalPlatformTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    private string Marker => Path.Combine(_directory.Path, "signals.txt");

    [Fact]
    public async Task Cancel_sends_sigterm_and_a_bot_that_exits_within_the_grace_is_not_killed()
    {
        // The bot's way to stop: record the signal, stop its work, exit 0 (as `parley bot run` does after
        // leaving the meeting and reporting).
        await using var platform = Platform("""
            trap 'echo "SIGTERM $BOT_ID" >> "$marker"; kill $child; exit 0' TERM
            sleep 600 &
            child=$!
            echo ready >> "$marker"
            wait $child
            """, TimeSpan.FromMinutes(2));
        var ended = Watch(platform);
        var identifier = await platform.DeployAsync(Request("bot-graceful"), CancellationToken.None);
        await WaitForMarkerAsync("ready");

        await platform.CancelAsync("bot-graceful", identifier, CancellationToken.None);

        Assert.Contains("SIGTERM bot-graceful", await File.ReadAllTextAsync(Marker), StringComparison.Ordinal);
        var end = Assert.Single(ended);
        Assert.Equal("exit code 0", end.Detail);
        Assert.False(end.Succeeded); // cancelled
        Assert.Empty(await platform.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_bot_still_running_after_the_grace_is_killed_with_sigkill()
    {
        // Receives SIGTERM, records it, and goes on running.
        await using var platform = Platform("""
            trap 'echo SIGTERM >> "$marker"' TERM
            echo ready >> "$marker"
            while :; do sleep 0.1; done
            """, TimeSpan.FromSeconds(2));
        var ended = Watch(platform);
        var identifier = await platform.DeployAsync(Request("bot-stubborn"), CancellationToken.None);
        await WaitForMarkerAsync("ready");

        await platform.CancelAsync("bot-stubborn", identifier, CancellationToken.None);

        Assert.Contains("SIGTERM", await File.ReadAllTextAsync(Marker), StringComparison.Ordinal);
        Assert.Equal("killed by signal 9", Assert.Single(ended).Detail);
        Assert.Empty(await platform.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_grace_of_zero_kills_at_once_and_a_second_cancel_is_no_error()
    {
        await using var platform = Platform("""
            trap 'echo SIGTERM >> "$marker"' TERM
            echo ready >> "$marker"
            while :; do sleep 0.1; done
            """, TimeSpan.Zero);
        var ended = Watch(platform);
        var identifier = await platform.DeployAsync(Request("bot-now"), CancellationToken.None);
        await WaitForMarkerAsync("ready");

        await Task.WhenAll(
            platform.CancelAsync("bot-now", identifier, CancellationToken.None),
            platform.CancelAsync("bot-now", identifier, CancellationToken.None));
        await platform.CancelAsync("bot-now", identifier, CancellationToken.None);

        Assert.DoesNotContain("SIGTERM", await File.ReadAllTextAsync(Marker), StringComparison.Ordinal);
        Assert.Equal("killed by signal 9", Assert.Single(ended).Detail);
    }

    private LocalPlatform Platform(string body, TimeSpan grace)
    {
        var script = Path.Combine(_directory.Path, "bot.sh");
        File.WriteAllText(script, $"#!/bin/sh\nmarker=\"$1\"\n{body}\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return new LocalPlatform(new LocalBotCommand(script, [Marker]), Path.Combine(_directory.Path, "logs"), NullLogger<LocalPlatform>.Instance, grace);
    }

    private static ConcurrentQueue<PlatformResourceEnded> Watch(LocalPlatform platform)
    {
        var ended = new ConcurrentQueue<PlatformResourceEnded>();
        platform.ResourceEnded += ended.Enqueue;
        return ended;
    }

    private static BotDeploymentRequest Request(string botId) =>
        new(botId, "parley", new Dictionary<string, string> { ["BOT_ID"] = botId, ["BOT_TOKEN"] = "pbt_test" });

    private Task WaitForMarkerAsync(string text) =>
        Eventually.ReturnsAsync(() => Task.FromResult(File.Exists(Marker) && File.ReadAllText(Marker).Contains(text, StringComparison.Ordinal) ? "" : null),
            TimeSpan.FromSeconds(20), $"'{text}' in the marker file");

    public void Dispose() => _directory.Dispose();
}
