using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Parley.Core.Bots;
using Parley.Orchestration.Platforms;

namespace Parley.Orchestration;

public enum DeployOutcome
{
    Deployed,

    /// <summary>Nothing to do: the bot is missing, ended, or on a platform already.</summary>
    NotDeployable,

    /// <summary>Every platform is at its limit (or none is configured): the bot waits in the global queue.</summary>
    AllFull,

    /// <summary>Every platform with room failed or timed out; the bot has been failed with DEPLOYMENT_FAILED.</summary>
    Failed,
}

/// <summary>
/// Deploys one bot down the platform chain: reserve capacity, mint the bot's token, start it with the
/// platform's deployment timeout; a failure or timeout gives the reservation back and tries the next one.
/// </summary>
public sealed partial class BotDeployer(
    PlatformChain chain, CapacityLedger ledger, IBotTokenIssuer tokens, IBotStatusChanges statuses, BotEnvironment environment, ILogger<BotDeployer> logger)
{
    public async Task<DeployOutcome> DeployAsync(string botId, string meetingPlatform, CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        foreach (var link in chain.Links)
        {
            var reservation = await ledger.TryReserveAsync(botId, link.Name, link.Limit, cancellationToken);
            if (reservation == ReservationResult.NotDeployable)
            {
                return DeployOutcome.NotDeployable;
            }

            if (reservation == ReservationResult.Full)
            {
                continue;
            }

            var token = await tokens.IssueAsync(botId, link.Name, null, cancellationToken);
            if (token is null)
            {
                // Ended between the reservation and now (a leave or delete): nothing to start.
                await ledger.ReleaseAsync(botId, link.Name, cancellationToken);
                return DeployOutcome.NotDeployable;
            }

            var started = Stopwatch.GetTimestamp();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(link.DeploymentTimeout);
            try
            {
                var identifier = await link.Platform.DeployAsync(new BotDeploymentRequest(botId, meetingPlatform, environment.For(botId, token), environment.SecretNames), timeout.Token)
                    .WaitAsync(timeout.Token);
                await ledger.SetIdentifierAsync(botId, link.Name, identifier, cancellationToken);
                OrchestrationMetrics.Deployments.WithLabels(link.Name, "success").Inc();
                OrchestrationMetrics.DeploymentDuration.WithLabels(link.Name).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
                LogDeployed(logger, botId, link.Name, identifier);
                return DeployOutcome.Deployed;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                var timedOut = ex is OperationCanceledException or TimeoutException;
                OrchestrationMetrics.Deployments.WithLabels(link.Name, timedOut ? "timeout" : "failed").Inc();
                var reason = timedOut ? $"timed out after {link.DeploymentTimeout.TotalMilliseconds:0} ms" : ex.Message;
                failures.Add($"{link.Name}: {reason}");
                LogDeploymentFailed(logger, botId, link.Name, reason);
                // A timed-out start may still complete later: remove whatever it left before moving on.
                await link.Platform.CancelAsync(botId, "", CancellationToken.None);
                await ledger.ReleaseAsync(botId, link.Name, CancellationToken.None);
            }
        }

        if (failures.Count == 0)
        {
            return DeployOutcome.AllFull;
        }

        // Only failures, no platform merely full: waiting would not help.
        if (failures.Count == chain.Links.Count)
        {
            await statuses.ChangeStatusAsync(botId, BotStatus.Failed, BotErrorCode.DeploymentFailed, "No platform could start the bot: " + string.Join("; ", failures), cancellationToken);
            return DeployOutcome.Failed;
        }

        return DeployOutcome.AllFull;
    }

    [LoggerMessage(EventId = 4000, Level = LogLevel.Information, Message = "Bot {BotId}: deployed on {Platform} as {Identifier}")]
    private static partial void LogDeployed(ILogger logger, string botId, string platform, string identifier);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Bot {BotId}: deployment on {Platform} failed ({Reason}); trying the next platform")]
    private static partial void LogDeploymentFailed(ILogger logger, string botId, string platform, string reason);
}
