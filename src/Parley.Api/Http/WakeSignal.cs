namespace Parley.Api.Http;

/// <summary>
/// Wakes a background loop of this process when work was committed (new deliveries, outbox rows, scheduled
/// bots), so it need not wait for its next poll; other processes' work is still found by polling. Releases
/// are capped so that a burst of commits does not pile up wake-ups.
/// </summary>
public class WakeSignal
{
    private const int MaxPending = 16;

    private readonly SemaphoreSlim _signal = new(0, int.MaxValue);

    public void Notify()
    {
        if (_signal.CurrentCount < MaxPending)
        {
            _signal.Release();
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);
}
