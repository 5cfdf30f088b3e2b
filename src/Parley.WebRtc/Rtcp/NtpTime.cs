namespace Parley.WebRtc.Rtcp;

/// <summary>
/// 64-bit NTP timestamps as sender reports carry them (RFC 3550 §4): seconds since 1900-01-01 UTC in
/// the high 32 bits, the fraction of a second in the low 32 bits.
/// </summary>
public static class NtpTime
{
    private static readonly DateTimeOffset Epoch = new(1900, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static ulong FromDateTime(DateTimeOffset time)
    {
        var ticks = (time - Epoch).Ticks; // 100 ns
        var seconds = (ulong)(ticks / TimeSpan.TicksPerSecond);
        var fraction = (ulong)(ticks % TimeSpan.TicksPerSecond) * (1UL << 32) / TimeSpan.TicksPerSecond;
        return (seconds << 32) | fraction;
    }

    public static DateTimeOffset ToDateTime(ulong ntp)
    {
        var seconds = (long)(ntp >> 32);
        var ticks = (long)((ntp & 0xFFFFFFFF) * TimeSpan.TicksPerSecond >> 32);
        return Epoch.AddTicks((seconds * TimeSpan.TicksPerSecond) + ticks);
    }

    /// <summary>The middle 32 bits, as LSR in a report block and in round-trip calculations (RFC 3550 §6.4.1).</summary>
    public static uint Middle32(ulong ntp) => (uint)(ntp >> 16);
}
