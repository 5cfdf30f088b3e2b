using System.Security.Cryptography;

namespace Parley.Loadtest;

/// <summary>A failure of the target before any client ran (server unreachable, room not created).</summary>
internal sealed class LoadTargetException(string message) : Exception(message);

/// <summary>The server a load test drives: makes its participants.</summary>
internal interface ILoadTarget : IAsyncDisposable
{
    /// <summary>Checks the server answers and prepares rooms.</summary>
    Task PrepareAsync(CancellationToken cancellationToken);

    LoadParticipant CreateParticipant(int meeting, int index, bool audio, bool video);
}

internal static class LoadTargets
{
    public static ILoadTarget Create(LoadSettings settings) => settings.Target switch
    {
        "janus" => new JanusTarget(settings),
        _ => new ParleyTarget(settings),
    };

    /// <summary>A short random id so that runs do not share meetings.</summary>
    public static string RunId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
}

/// <summary>Parley: guest tokens for ad-hoc meetings `lt-RUN-N`, then the signaling of docs/signaling.md.</summary>
internal sealed class ParleyTarget(LoadSettings settings) : ILoadTarget
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 64 })
    {
        BaseAddress = new Uri(settings.Url.ToString().TrimEnd('/') + "/"),
        Timeout = TimeSpan.FromSeconds(30),
    };

    private readonly string _run = LoadTargets.RunId();

    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync("liveness", cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new LoadTargetException($"{settings.Url} does not answer: {e.Message}");
        }
    }

    public LoadParticipant CreateParticipant(int meeting, int index, bool audio, bool video) =>
        new ParleyParticipant(meeting, index, audio, video, _http, $"lt-{_run}-{meeting}");

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}
