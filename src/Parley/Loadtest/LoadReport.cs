using System.Text.Json;
using System.Text.Json.Serialization;

namespace Parley.Loadtest;

/// <summary>The final figures of a load test run (`--json` prints this object, snake_case).</summary>
internal sealed record LoadReport
{
    public required string Target { get; init; }

    public required string Url { get; init; }

    public int Meetings { get; init; }

    public required string Publishers { get; init; }

    public int Subscribers { get; init; }

    public double DurationSeconds { get; init; }

    /// <summary>Wall time of the whole run: ramp, steady duration, drain.</summary>
    public double ElapsedSeconds { get; init; }

    public int VideoBitrateKbps { get; init; }

    public bool Simulcast { get; init; }

    /// <summary>Publishers per meeting with an open microphone; null: all of them.</summary>
    public int? Talkers { get; init; }

    public double Ramp { get; init; }

    public required ClientCounts Clients { get; init; }

    /// <summary>Start of the join (token request included) to `joined`.</summary>
    public required Percentiles JoinMs { get; init; }

    /// <summary>Start of the join to the first connected media connection (ICE + DTLS done).</summary>
    public required Percentiles MediaConnectMs { get; init; }

    public required Totals Packets { get; init; }

    public required Totals Bytes { get; init; }

    /// <summary>Expected minus received over expected (RFC 3550 A.3, summed over every received stream), in %.</summary>
    public double LossPercent { get; init; }

    public long PacketsExpected { get; init; }

    public long PacketsLost { get; init; }

    public long NacksSent { get; init; }

    public required JitterFigures JitterMs { get; init; }

    /// <summary>Publisher send stamp to subscriber arrival, over every received packet.</summary>
    public required Percentiles DelayMs { get; init; }

    public required IReadOnlyDictionary<string, long> Errors { get; init; }

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>
    /// Loss in % of expected packets; 0 when nothing was expected. Negative counts (duplicates, RFC 3550
    /// A.3) are reported as 0 loss.
    /// </summary>
    public static double LossPercentOf(long expected, long received) =>
        expected <= 0 ? 0 : Math.Round(Math.Max(0, expected - received) * 100.0 / expected, 3);
}

internal sealed record ClientCounts(int Planned, int Connected, int Failed, int Streams);

internal sealed record Totals(long Sent, long Received);

internal sealed record JitterFigures(double Mean, double Max);

internal sealed record Percentiles(double P50, double P95, double P99, double Max, long Count)
{
    /// <summary>Nearest-rank percentiles of a sample (ms).</summary>
    public static Percentiles Of(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0)
        {
            return new Percentiles(0, 0, 0, 0, 0);
        }

        var sorted = values.Order().ToArray();
        double At(double p) => sorted[Math.Clamp((int)Math.Ceiling(p / 100.0 * sorted.Length) - 1, 0, sorted.Length - 1)];
        return new Percentiles(Round(At(50)), Round(At(95)), Round(At(99)), Round(sorted[^1]), sorted.Length);
    }

    /// <summary>From a microsecond histogram, in ms.</summary>
    public static Percentiles Of(LatencyHistogram histogram)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        return new Percentiles(
            Round(histogram.Percentile(50) / 1000.0), Round(histogram.Percentile(95) / 1000.0), Round(histogram.Percentile(99) / 1000.0),
            Round(histogram.Max / 1000.0), histogram.Count);
    }

    private static double Round(double value) => Math.Round(value, 2);
}
