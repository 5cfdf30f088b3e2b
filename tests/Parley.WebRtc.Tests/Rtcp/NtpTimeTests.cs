using Parley.WebRtc.Rtcp;

namespace Parley.WebRtc.Tests.Rtcp;

public class NtpTimeTests
{
    [Fact]
    public void Unix_epoch_is_2208988800_seconds_after_the_ntp_epoch()
    {
        // RFC 868 / RFC 5905: 70 years (17 leap days) between 1900 and 1970.
        Assert.Equal(2_208_988_800UL << 32, NtpTime.FromDateTime(DateTimeOffset.UnixEpoch));
    }

    [Fact]
    public void Half_a_second_is_half_the_fraction_and_conversions_round_trip()
    {
        var time = DateTimeOffset.UnixEpoch.AddSeconds(1.5);
        var ntp = NtpTime.FromDateTime(time);
        Assert.Equal(0x8000_0000UL, ntp & 0xFFFF_FFFF);
        Assert.Equal(time, NtpTime.ToDateTime(ntp));
        Assert.Equal((uint)((((2_208_988_801UL) & 0xFFFF) << 16) | 0x8000), NtpTime.Middle32(ntp));
    }
}
