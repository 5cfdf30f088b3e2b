using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Parley.Orchestration.Platforms.Local;

/// <summary>
/// Bots as child processes of this server: what embedded mode runs with nothing else installed. Each bot's
/// stdout and stderr go to {PARLEY_DATA_DIR}/logs/bots/{id}.log; the exit of a process is seen at once
/// (no polling), so a crash frees its capacity immediately. Processes belong to this replica: another
/// replica neither sees nor kills them. Stopping a bot sends it SIGTERM first (the bot runtime leaves the
/// meeting, flushes its recording and reports its end) and SIGKILL only after LOCAL_BOT_STOP_GRACE_MS.
/// </summary>
/// <param name="stopGrace">How long a bot has to exit after SIGTERM before it is killed; zero kills at once. Default 30 s.</param>
public sealed partial class LocalPlatform(LocalBotCommand command, string logDirectory, ILogger<LocalPlatform> logger, TimeSpan? stopGrace = null) : IBotPlatform, IAsyncDisposable
{
    public const string PlatformName = "local";

    private const int SigTerm = 15;

    private static readonly TimeSpan KillWait = TimeSpan.FromSeconds(10);

    private readonly TimeSpan _stopGrace = stopGrace ?? TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, LocalBot> _bots = new(StringComparer.Ordinal);

    public string Name => PlatformName;

    public event Action<PlatformResourceEnded>? ResourceEnded;

    public Task<string> DeployAsync(BotDeploymentRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        cancellationToken.ThrowIfCancellationRequested();
        Directory.CreateDirectory(logDirectory);
        var start = new ProcessStartInfo(command.FileName)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            WorkingDirectory = Directory.GetCurrentDirectory(),
        };
        foreach (var argument in command.ArgumentsFor(request.BotId))
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in request.Environment)
        {
            start.Environment[name] = value;
        }

        var log = new StreamWriter(new FileStream(Path.Combine(logDirectory, request.BotId + ".log"), FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Append(log, e.Data);
        process.ErrorDataReceived += (_, e) => Append(log, e.Data);
        try
        {
            process.Start();
        }
        catch
        {
            log.Dispose();
            process.Dispose();
            throw;
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var identifier = string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}:{process.Id}");
        var bot = new LocalBot(request.BotId, identifier, process, log) { Pid = process.Id };
        _bots[request.BotId] = bot;
        bot.Watcher = WatchAsync(bot);
        LogStarted(logger, request.BotId, process.Id);
        return Task.FromResult(identifier);
    }

    /// <summary>
    /// SIGTERM, up to the grace period for the bot to exit by itself, then SIGKILL to its whole process tree.
    /// One stop per bot however many callers ask (health check, reconciliation, shutdown); a caller whose
    /// token is cancelled stops waiting, the stop goes on.
    /// </summary>
    public async Task CancelAsync(string botId, string identifier, CancellationToken cancellationToken)
    {
        if (!_bots.TryGetValue(botId, out var bot) || bot.Identifier != identifier && identifier.Length > 0)
        {
            return;
        }

        bot.Cancelled = true;
        Task stopping;
        lock (bot)
        {
            stopping = bot.Stopping ??= StopAsync(bot);
        }

        await stopping.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task StopAsync(LocalBot bot)
    {
        if (_stopGrace > TimeSpan.Zero && !OperatingSystem.IsWindows() && !bot.Watcher.IsCompleted && Terminate(bot.Pid))
        {
            LogTerminating(logger, bot.BotId, bot.Pid, (long)_stopGrace.TotalMilliseconds);
            try
            {
                await bot.Watcher.WaitAsync(_stopGrace).ConfigureAwait(false);
                return;
            }
            catch (TimeoutException)
            {
                LogGraceExpired(logger, bot.BotId, bot.Pid, (long)_stopGrace.TotalMilliseconds);
            }
        }

        if (bot.Watcher.IsCompleted)
        {
            return;
        }

        try
        {
            bot.Process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException)
        {
            // Already exited.
        }

        LogKilled(logger, bot.BotId, bot.Pid);
        await bot.Watcher.WaitAsync(KillWait).ConfigureAwait(false);
    }

    /// <summary>kill(2) with SIGTERM; false when the process is already gone (ESRCH).</summary>
    private static bool Terminate(int pid) => NativeMethods.Kill(pid, SigTerm) == 0;

    public Task<IReadOnlyList<PlatformResource>> ListAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<PlatformResource>>(_bots.Values.Select(b => new PlatformResource(b.BotId, b.Identifier)).ToList());

    /// <summary>Waits for the exit (and the end of its output), then reports it.</summary>
    private async Task WatchAsync(LocalBot bot)
    {
        await bot.Process.WaitForExitAsync().ConfigureAwait(false);
        var code = bot.Process.ExitCode;
        await bot.Log.DisposeAsync().ConfigureAwait(false);
        bot.Process.Dispose();
        _bots.TryRemove(new KeyValuePair<string, LocalBot>(bot.BotId, bot));
        LogExited(logger, bot.BotId, code);
        // On Unix a process killed by a signal reports 128 + the signal number.
        var detail = code > 128 && OperatingSystem.IsLinux() ? $"killed by signal {code - 128}" : $"exit code {code}";
        ResourceEnded?.Invoke(new PlatformResourceEnded(PlatformName, bot.BotId, bot.Identifier, code == 0 && !bot.Cancelled, detail));
    }

    private static void Append(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // Output that arrives after the exit was handled has nowhere to go.
            }
        }
    }

    /// <summary>Stopping the server stops its bots: a child process left behind would hold capacity nobody counts.</summary>
    public async ValueTask DisposeAsync()
    {
        // All at once: each bot gets the same grace, not one grace after another.
        await Task.WhenAll(_bots.Values.Select(b => CancelAsync(b.BotId, b.Identifier, CancellationToken.None))).ConfigureAwait(false);
    }

    private sealed class LocalBot(string botId, string identifier, Process process, StreamWriter log)
    {
        public string BotId => botId;

        public string Identifier => identifier;

        public Process Process => process;

        public StreamWriter Log => log;

        public int Pid { get; init; }

        public Task Watcher { get; set; } = Task.CompletedTask;

        /// <summary>The stop in progress, once one was asked for (guarded by locking the bot).</summary>
        public Task? Stopping { get; set; }

        public volatile bool Cancelled;
    }

    [LoggerMessage(EventId = 4100, Level = LogLevel.Information, Message = "Bot {BotId}: local process {Pid} started")]
    private static partial void LogStarted(ILogger logger, string botId, int pid);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Bot {BotId}: local process exited with code {ExitCode}")]
    private static partial void LogExited(ILogger logger, string botId, int exitCode);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Information, Message = "Bot {BotId}: killing local process {Pid}")]
    private static partial void LogKilled(ILogger logger, string botId, int pid);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Information, Message = "Bot {BotId}: sent SIGTERM to local process {Pid}; SIGKILL if it still runs after {GraceMs} ms")]
    private static partial void LogTerminating(ILogger logger, string botId, int pid, long graceMs);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Warning, Message = "Bot {BotId}: local process {Pid} did not exit within {GraceMs} ms of SIGTERM (LOCAL_BOT_STOP_GRACE_MS)")]
    private static partial void LogGraceExpired(ILogger logger, string botId, int pid, long graceMs);

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        public static extern int Kill(int pid, int signal);
    }
}
