namespace Parley.Orchestration.Platforms;

/// <summary>What a platform needs to start one bot: its id, meeting platform and environment.</summary>
/// <param name="Environment">BOT_ID, PARLEY_API_URL, BOT_TOKEN and the storage settings.</param>
/// <param name="SecretNames">Entries of <paramref name="Environment"/> that are credentials; BOT_TOKEN always is.</param>
public sealed record BotDeploymentRequest(string BotId, string MeetingPlatform, IReadOnlyDictionary<string, string> Environment, IReadOnlySet<string>? SecretNames = null)
{
    /// <summary>Whether an environment entry is a credential, to be kept out of specs others can read.</summary>
    public bool IsSecret(string name) => name == BotEnvironment.BotTokenName || SecretNames?.Contains(name) == true;
}

/// <summary>A bot's resource on a platform (process, Job, task, pool slot).</summary>
public sealed record PlatformResource(string BotId, string Identifier);

/// <summary>A platform resource that stopped on its own (process exit, Job failed, task stopped).</summary>
/// <param name="Detail">For the bot's error message: exit code, signal, Job condition.</param>
public sealed record PlatformResourceEnded(string Platform, string BotId, string Identifier, bool Succeeded, string Detail);

/// <summary>
/// One way to run bots (local processes now; Kubernetes Jobs, ECS tasks and a Coolify pool to come). A
/// platform only starts and stops resources: capacity, fall-through, the global queue and bot statuses are
/// the orchestrator's, so every platform behaves the same in the chain.
/// </summary>
public interface IBotPlatform
{
    /// <summary>local, k8s, aws or coolify: the name in PLATFORM_PRIORITY and in `deployment.platform`.</summary>
    string Name { get; }

    /// <summary>
    /// Starts the bot and returns its identifier (pid, Job name, task ARN, slot id). Throws when the platform
    /// cannot start it; the orchestrator cancels the token at the platform's deployment timeout.
    /// </summary>
    Task<string> DeployAsync(BotDeploymentRequest request, CancellationToken cancellationToken);

    /// <summary>Stops and removes the bot's resource; no error when it is already gone.</summary>
    Task CancelAsync(string botId, string identifier, CancellationToken cancellationToken);

    /// <summary>The resources this platform (this replica's view of it) holds now: what reconciliation compares with the bots.</summary>
    Task<IReadOnlyList<PlatformResource>> ListAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Raised when a resource stops on its own. Platforms that can watch (a child process) raise it at once;
    /// the others raise it from <see cref="ListAsync"/> when they notice.
    /// </summary>
    event Action<PlatformResourceEnded>? ResourceEnded;
}
