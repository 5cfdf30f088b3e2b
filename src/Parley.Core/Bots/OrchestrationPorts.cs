namespace Parley.Core.Bots;

/// <summary>
/// Status changes as the API applies them (transition rules, history row, webhooks in one transaction).
/// The orchestrator needs this without depending on Parley.Api: the API implements it, the host registers it.
/// </summary>
public interface IBotStatusChanges
{
    Task<StatusChangeResult> ChangeStatusAsync(string botId, string code, string? errorCode, string? errorMessage, CancellationToken cancellationToken);
}

/// <summary>Mints the per-bot token handed to a deployment; null when the bot is missing or has ended.</summary>
public interface IBotTokenIssuer
{
    Task<string?> IssueAsync(string botId, string platform, string? identifier, CancellationToken cancellationToken);
}

/// <summary>One deployment platform as `GET /v2/platforms` reports it.</summary>
/// <param name="Enabled">False when the platform is listed in PLATFORM_PRIORITY but has no limit or is not in this build.</param>
/// <param name="Active">Bots on the platform that have not ended (deploying ones included): what the limit counts.</param>
/// <param name="Deploying">Of those, bots handed to the platform that have not reported joining yet.</param>
/// <param name="Queued">Bots waiting in the global queue for any platform.</param>
public sealed record PlatformSummary(string Platform, bool Enabled, int? Limit, int Active, int Deploying, int Queued, string? Note);

public sealed record PlatformsSnapshot(IReadOnlyList<PlatformSummary> Platforms, int Queued);

/// <summary>Figures of the deployment platforms, read from the database so any replica can answer.</summary>
public interface IPlatformStatusSource
{
    Task<PlatformsSnapshot> GetAsync(CancellationToken cancellationToken);
}
