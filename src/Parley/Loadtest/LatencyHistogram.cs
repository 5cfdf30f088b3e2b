namespace Parley.Loadtest;

/// <summary>
/// A histogram of microsecond values with about 1.6 % resolution (64 linear sub-buckets per power of two,
/// the HdrHistogram layout): recording is an index computation and an increment, no allocation. Not
/// thread-safe: each client records into its own, and the report merges them.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBucketBits = 6;
    private const int SubBuckets = 1 << SubBucketBits;
    private const int Magnitudes = 40; // up to 2^40 µs (12 days): nothing real overflows
    private readonly long[] _counts = new long[(Magnitudes + 1) * SubBuckets];

    public long Count { get; private set; }

    public long Max { get; private set; }

    public void Record(long microseconds)
    {
        if (microseconds < 0)
        {
            microseconds = 0;
        }

        _counts[Index(microseconds)]++;
        Count++;
        if (microseconds > Max)
        {
            Max = microseconds;
        }
    }

    public void Add(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>The value below which <paramref name="percentile"/> % of the recorded values lie (the bucket's upper end); 0 when empty.</summary>
    public long Percentile(double percentile)
    {
        if (Count == 0)
        {
            return 0;
        }

        var rank = (long)Math.Ceiling(percentile / 100.0 * Count);
        rank = Math.Clamp(rank, 1, Count);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Min(UpperBound(i), Max);
            }
        }

        return Max;
    }

    /// <summary>Values below 64 get a bucket each; above, bucket = (magnitude, top 6 bits below the leading one).</summary>
    internal static int Index(long value)
    {
        if (value < SubBuckets)
        {
            return (int)value;
        }

        var magnitude = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)value) - SubBucketBits + 1; // ≥ 1
        if (magnitude > Magnitudes)
        {
            return ((Magnitudes + 1) * SubBuckets) - 1;
        }

        return (magnitude * SubBuckets) + (int)(value >> magnitude); // value >> magnitude is 32..63
    }

    internal static long UpperBound(int index)
    {
        if (index < SubBuckets)
        {
            return index;
        }

        var magnitude = index / SubBuckets;
        var sub = index % SubBuckets;
        // Inverse of Index: value >> magnitude == sub (with the leading one at bit 5 of sub, sub in 32..63).
        return ((long)(sub + 1) << magnitude) - 1;
    }
}
