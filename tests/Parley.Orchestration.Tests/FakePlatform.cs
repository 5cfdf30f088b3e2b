using System.Collections.Concurrent;
using Parley.Orchestration.Platforms;

namespace Parley.Orchestration.Tests;

/// <summary>
/// Stands in for a platform that cannot run here (k8s, aws before their adapters land) in chain tests:
/// records the requests it receives, and can fail or hang to exercise fall-through.
/// </summary>
internal sealed class FakePlatform(string name, Func<BotDeploymentRequest, CancellationToken, Task>? behaviour = null) : IBotPlatform
{
    public ConcurrentBag<BotDeploymentRequest> Requests { get; } = [];

    public ConcurrentDictionary<string, string> Running { get; } = new();

    public string Name => name;

    public event Action<PlatformResourceEnded>? ResourceEnded;

    public async Task<string> DeployAsync(BotDeploymentRequest request, CancellationToken cancellationToken)
    {
        Requests.Add(request);
        if (behaviour is not null)
        {
            await behaviour(request, cancellationToken);
        }

        var identifier = $"{name}-{request.BotId}";
        Running[request.BotId] = identifier;
        return identifier;
    }

    public Task CancelAsync(string botId, string identifier, CancellationToken cancellationToken)
    {
        if (Running.TryRemove(botId, out var id))
        {
            ResourceEnded?.Invoke(new PlatformResourceEnded(name, botId, id, false, "cancelled"));
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<PlatformResource>> ListAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<PlatformResource>>(Running.Select(r => new PlatformResource(r.Key, r.Value)).ToList());
}
