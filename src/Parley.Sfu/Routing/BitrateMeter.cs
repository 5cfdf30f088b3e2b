namespace Parley.Sfu.Routing;

/// <summary>
/// Bitrate of a stream over a sliding window, kept as ten buckets of a tenth of the window each (a ring of
/// counters tagged with their bucket number, so no timer has to clear them). The rate counts the bytes of
/// the buckets inside the window, the current partly filled one included, over the whole window: it reads
/// low during the first window of a stream and drops to 0 one window after the stream stops. No allocation.
/// Not thread-safe: owned by the worker thread of the stream.
/// </summary>
public sealed class BitrateMeter
{
    private const int Buckets = 10;

    private readonly long _bucketMilliseconds;
    private readonly long[] _epochs = new long[Buckets];
    private readonly long[] _bytes = new long[Buckets];

    /// <param name="window">The averaging window, 1 s by default, at least 10 ms; split into ten buckets of a whole number of milliseconds each (window / 10, rounded down).</param>
    public BitrateMeter(TimeSpan? window = null)
    {
        var windowMilliseconds = (long)(window ?? TimeSpan.FromSeconds(1)).TotalMilliseconds;
        ArgumentOutOfRangeException.ThrowIfLessThan(windowMilliseconds, Buckets, nameof(window));
        _bucketMilliseconds = windowMilliseconds / Buckets;
        Array.Fill(_epochs, long.MinValue);
    }

    /// <summary>The window actually used: ten whole buckets.</summary>
    public TimeSpan Window => TimeSpan.FromMilliseconds(_bucketMilliseconds * Buckets);

    /// <summary>Counts <paramref name="bytes"/> at <paramref name="nowMilliseconds"/>; a count ≤ 0, or a time whose bucket already holds newer data, is ignored.</summary>
    public void Add(int bytes, long nowMilliseconds)
    {
        if (bytes <= 0)
        {
            return;
        }

        var epoch = Epoch(nowMilliseconds);
        var slot = Slot(epoch);
        if (_epochs[slot] != epoch)
        {
            if (_epochs[slot] > epoch)
            {
                return; // late: that bucket already holds a newer tenth of the window
            }

            _epochs[slot] = epoch;
            _bytes[slot] = 0;
        }

        _bytes[slot] += bytes;
    }

    /// <summary>Bits per second over the window ending at <paramref name="nowMilliseconds"/>.</summary>
    public long BitsPerSecond(long nowMilliseconds)
    {
        var now = Epoch(nowMilliseconds);
        long bytes = 0;
        for (var i = 0; i < Buckets; i++)
        {
            if (_epochs[i] <= now && _epochs[i] > now - Buckets)
            {
                bytes += _bytes[i];
            }
        }

        return bytes * 8 * 1000 / (_bucketMilliseconds * Buckets);
    }

    public void Reset()
    {
        Array.Fill(_epochs, long.MinValue);
        Array.Clear(_bytes);
    }

    private long Epoch(long nowMilliseconds)
    {
        var epoch = nowMilliseconds / _bucketMilliseconds;
        return nowMilliseconds % _bucketMilliseconds < 0 ? epoch - 1 : epoch;
    }

    private static int Slot(long epoch) => (int)(((epoch % Buckets) + Buckets) % Buckets);
}
