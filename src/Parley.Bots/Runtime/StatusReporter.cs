using System.Net;
using Microsoft.Extensions.Logging;
using Parley.Bots.Api;
using Parley.Core.Bots;

namespace Parley.Bots.Runtime;

/// <summary>
/// Reports status changes in an order the API accepts. It tracks the status the API holds and skips a change
/// that BotStatus forbids from there (for example call_ended for a bot that never got in), so that whatever
/// path a bot takes to its end, every report it sends is a legal transition and the terminal one lands.
/// </summary>
public sealed partial class StatusReporter(BotApiClient api, string initial, ILogger logger)
{
    public string Current { get; private set; } = initial;

    public bool IsTerminal => BotStatus.IsTerminal(Current);

    /// <summary>Reports <paramref name="code"/> when it may follow the current status; returns whether it was sent.</summary>
    public async Task<bool> ReportAsync(string code, string? errorCode, string? errorMessage, CancellationToken cancellationToken)
    {
        if (code == Current)
        {
            return false;
        }

        if (!BotStatus.CanTransition(Current, code))
        {
            LogSkipped(logger, Current, code);
            return false;
        }

        try
        {
            Current = await api.ReportStatusAsync(code, errorCode, errorMessage, cancellationToken);
            LogReported(logger, code, errorCode ?? "-");
            return true;
        }
        catch (BotApiException ex) when (ex.Status == HttpStatusCode.Conflict)
        {
            // The API holds another status than we think (it was changed from outside): keep going, the
            // terminal report is checked against the same rules on the server.
            LogRefused(logger, Current, code, ex.Message);
            return false;
        }
    }

    [LoggerMessage(EventId = 6010, Level = LogLevel.Information, Message = "Status reported: {Code} (error code {ErrorCode})")]
    private static partial void LogReported(ILogger logger, string code, string errorCode);

    [LoggerMessage(EventId = 6011, Level = LogLevel.Debug, Message = "Status {To} skipped: not a transition from {From}")]
    private static partial void LogSkipped(ILogger logger, string from, string to);

    [LoggerMessage(EventId = 6012, Level = LogLevel.Warning, Message = "The API refused {From} -> {To}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string from, string to, string reason);
}
