using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Parley.Core.Configuration;

namespace Parley.Api.Teams;

/// <summary>
/// Single-tenant start: makes sure the team STATIC_TEAM_ID exists, so that the team-scoped rows (bots,
/// webhook endpoints) have a team to belong to and the admin tooling can see it. Runs after the database
/// gate of `serve`; a PostgreSQL that is not reachable yet (serve starts anyway and /ready says 503) is
/// retried with back-off rather than stopping the process.
/// </summary>
public sealed partial class SelfHostedTeamBootstrap(TeamService teams, AuthOptions auth, TimeProvider time, ILogger<SelfHostedTeamBootstrap> logger)
    : BackgroundService
{
    public const string TeamName = "Self-hosted";

    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await teams.EnsureTeamAsync(auth.StaticTeamId, TeamName, stoppingToken))
                {
                    LogCreated(logger, auth.StaticTeamId);
                }

                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogRetry(logger, auth.StaticTeamId, delay.TotalSeconds, ex.GetBaseException().Message);
            }

            await Task.Delay(delay, time, stoppingToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));
        }
    }

    [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "Created the single-tenant team {TeamId}")]
    private static partial void LogCreated(ILogger logger, string teamId);

    [LoggerMessage(EventId = 601, Level = LogLevel.Warning, Message = "Cannot ensure the single-tenant team {TeamId} yet; retrying in {Seconds} s: {Reason}")]
    private static partial void LogRetry(ILogger logger, string teamId, double seconds, string reason);
}
