using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Parley.Api.Internal;
using Parley.Bots;
using Parley.Bots.Adapters;
using Parley.Bots.Api;
using Parley.Bots.Logging;
using Parley.Bots.Runtime;
using Parley.Core.Bots;
using Parley.Core.Configuration;
using Parley.Core.Queues;
using Parley.Core.Storage;
using Parley.Data;
using Parley.Hosting;

namespace Parley.Cli;

/// <summary>
/// `parley bot run`: one bot, from its config to completed or failed, then exit (what a local process, a
/// Kubernetes Job, an ECS task or a pool slot runs). With --from-queue it first takes one job from the bot
/// queue and mints the bot's token itself (what a KEDA ScaledJob runs). The runtime lives in Parley.Bots,
/// which knows only the HTTP API; the queue and database wiring of --from-queue lives here, in the executable,
/// because Parley.Bots must not depend on Data or Api (DESIGN, "Dependencies point inward").
/// Exit codes: 0 the bot's terminal status was reported (or --from-queue found no job), 1 it could not be
/// (API unreachable past the retry budget, token refused), 2 bad configuration or command line.
/// </summary>
internal static partial class BotCommand
{
    public static Command Create()
    {
        var settings = new SettingsOptions();
        var botId = new Option<string?>("--bot-id") { Description = "Id of the bot to run (BOT_ID)." };
        var apiUrl = new Option<string?>("--api-url") { Description = "Base URL of the Parley API (PARLEY_API_URL)." };
        var token = new Option<string?>("--token") { Description = "The bot's token for the internal API (BOT_TOKEN)." };
        var fromQueue = new Option<bool>("--from-queue") { Description = "Take one job from the bot queue (embedded or SQS), mint its token, run it; the message is deleted only when the bot reached a terminal status." };
        var run = new Command("run", "Runs one bot to completion and exits: 0 terminal status reported, 1 could not report it, 2 bad configuration.");
        run.Options.Add(botId);
        run.Options.Add(apiUrl);
        run.Options.Add(token);
        run.Options.Add(fromQueue);
        settings.AddTo(run);
        run.SetAction((parse, cancellationToken) =>
        {
            KeyValuePair<string, string?>[] shortcuts =
            [
                new("BOT_ID", parse.GetValue(botId)),
                new("PARLEY_API_URL", parse.GetValue(apiUrl)),
                new("BOT_TOKEN", parse.GetValue(token)),
            ];
            if (!settings.TryLoad(parse, shortcuts, out var loaded))
            {
                return Task.FromResult(ExitCodes.ConfigurationError);
            }

            return parse.GetValue(fromQueue) ? RunFromQueueAsync(loaded, cancellationToken) : RunOneAsync(loaded);
        });

        var bot = new Command("bot", "Meeting bots.");
        bot.Subcommands.Add(run);
        return bot;
    }

    private static async Task<int> RunOneAsync(SettingsBindResult settings)
    {
        var options = settings.Get<BotOptions>();
        var missing = new List<string>();
        if (string.IsNullOrWhiteSpace(options.BotId))
        {
            missing.Add("BOT_ID (or --bot-id)");
        }

        if (options.ApiUrl is null)
        {
            missing.Add("PARLEY_API_URL (or --api-url)");
        }

        if (string.IsNullOrWhiteSpace(options.Token))
        {
            missing.Add("BOT_TOKEN (or --token)");
        }

        if (missing.Count > 0)
        {
            SettingsLoader.Report([.. missing.Select(m => new ConfigProblem(m, null, "required by `parley bot run`"))], Console.Error);
            return ExitCodes.ConfigurationError;
        }

        var result = await RunBotAsync(settings, options.BotId!, options.Token!);
        return result.TerminalReported ? ExitCodes.Success : ExitCodes.Failure;
    }

    /// <summary>Runs the runtime with console logging plus the in-memory copy that is uploaded as bot.log.</summary>
    private static async Task<BotRunResult> RunBotAsync(SettingsBindResult settings, string botId, string token)
    {
        var options = settings.Get<BotOptions>();
        options.FallbackStorageDirectory ??= settings.Get<FallbackStorageOptions>().ResolveDirectory(settings.Get<ServerOptions>().DataDirectory);
        var time = TimeProvider.System;
        using var buffer = new BotLogBuffer(time);
        using var loggers = LoggerFactory.Create(logging =>
        {
            LoggingSetup.Configure(logging, settings.Get<ServerOptions>());
            logging.AddProvider(buffer);
        });
        var logger = loggers.CreateLogger("Parley.Bots");

        // SIGTERM (Kubernetes, ECS, the local platform's cancel) and SIGINT: not an abort but a request to
        // leave, flush, report and exit. Cancelling the default action keeps the process alive for that.
        using var stop = new CancellationTokenSource();
        var signalName = "SIGTERM";
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            signalName = context.Signal == PosixSignal.SIGINT ? "SIGINT" : "SIGTERM";
            LogSignal(logger, signalName);
            stop.Cancel();
        }

        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);

        using var api = new BotApiClient(options.ApiUrl!, botId, token, TimeSpan.FromMilliseconds(options.ApiRetryBudgetMs), time, loggers.CreateLogger<BotApiClient>());
        var runtime = new BotRuntime(api, MeetingAdapterRegistry.CreateDefault(options), options, loggers, time, buffer.Snapshot);
        BotRunResult result;
        try
        {
            result = await runtime.RunAsync(signalName, stop.Token);
        }
        catch (Exception ex)
        {
            // The runtime reports its own failures; this is a bug in it. Exit 1 so that the platform fails the bot.
            result = new BotRunResult(false, null, null, ex.ToString());
        }

        if (result.TerminalReported)
        {
            LogDone(logger, botId, result.FinalStatus ?? "", result.ErrorCode ?? "-");
        }
        else
        {
            LogNotReported(logger, botId, result.Problem ?? "unknown");
        }

        return result;
    }

    private static async Task<int> RunFromQueueAsync(SettingsBindResult settings, CancellationToken cancellationToken)
    {
        var options = settings.Get<BotOptions>();
        if (options.ApiUrl is null)
        {
            SettingsLoader.Report([new ConfigProblem("PARLEY_API_URL (or --api-url)", null, "required by `parley bot run --from-queue`")], Console.Error);
            return ExitCodes.ConfigurationError;
        }

        using var host = CommandHost.Build(settings, out var database);
        if (host is null)
        {
            return ExitCodes.ConfigurationError;
        }

        var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Parley.Bots.Queue");
        var queue = host.Services.GetRequiredService<IBotJobQueue>();

        // Invisible for longer than a meeting lasts: redelivered while the bot still runs, it would be
        // started twice (the second token replacing the first).
        var received = await queue.ReceiveAsync(1, TimeSpan.FromSeconds(options.QueueVisibilitySeconds), TimeSpan.FromMilliseconds(options.QueueWaitMs), cancellationToken);
        if (received.Count == 0)
        {
            Console.Out.WriteLine($"parley bot run --from-queue: no job in the {queue.Kind} queue; nothing to do.");
            return ExitCodes.Success;
        }

        var message = received[0];
        var botId = message.Job.BotId;
        LogReceived(logger, botId, queue.Kind, message.ReceiveCount);
        var identifier = string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}/{Environment.ProcessId}");
        var token = await host.Services.GetRequiredService<BotTokens>().IssueAsync(botId, "queue", identifier, CancellationToken.None);
        if (token is null)
        {
            // Queues deliver at least once: a job whose bot has ended (or is gone) is done.
            LogAlreadyEnded(logger, botId);
            await queue.DeleteAsync(message, CancellationToken.None);
            return ExitCodes.Success;
        }

        await RunBotAsync(settings, botId, token);

        // The database is the truth: the bot may have reached its end even when its own last report was lost.
        await using var db = host.Services.GetRequiredService<ParleyDbContextFactory>().CreateDbContext();
        var status = await db.Bots.AsNoTracking().Where(b => b.Id == botId).Select(b => b.Status).FirstOrDefaultAsync(CancellationToken.None);
        if (status is null || BotStatus.IsTerminal(status))
        {
            await queue.DeleteAsync(message, CancellationToken.None);
            LogDeleted(logger, botId, status ?? "deleted");
            return ExitCodes.Success;
        }

        // Back to the queue at once for another consumer (the long visibility timeout was for a running bot).
        await queue.ReleaseAsync(message, TimeSpan.Zero, CancellationToken.None);
        LogReleased(logger, botId, status);
        return ExitCodes.Failure;
    }

    [LoggerMessage(EventId = 6200, Level = LogLevel.Information, Message = "Received {Signal}: leaving the meeting and reporting the end")]
    private static partial void LogSignal(ILogger logger, string signal);

    [LoggerMessage(EventId = 6201, Level = LogLevel.Information, Message = "Bot {BotId} ended: {Status} (error code {ErrorCode})")]
    private static partial void LogDone(ILogger logger, string botId, string status, string errorCode);

    [LoggerMessage(EventId = 6202, Level = LogLevel.Error, Message = "Bot {BotId}: the terminal status could not be reported: {Problem}")]
    private static partial void LogNotReported(ILogger logger, string botId, string problem);

    [LoggerMessage(EventId = 6203, Level = LogLevel.Information, Message = "Job for bot {BotId} received from the {Queue} queue (delivery {Count})")]
    private static partial void LogReceived(ILogger logger, string botId, string queue, int count);

    [LoggerMessage(EventId = 6204, Level = LogLevel.Information, Message = "Bot {BotId} has already ended or is gone; its job is deleted")]
    private static partial void LogAlreadyEnded(ILogger logger, string botId);

    [LoggerMessage(EventId = 6205, Level = LogLevel.Information, Message = "Bot {BotId} is {Status}; its job is deleted from the queue")]
    private static partial void LogDeleted(ILogger logger, string botId, string status);

    [LoggerMessage(EventId = 6206, Level = LogLevel.Warning, Message = "Bot {BotId} is still {Status}; its job is left in the queue for redelivery")]
    private static partial void LogReleased(ILogger logger, string botId, string status);
}
