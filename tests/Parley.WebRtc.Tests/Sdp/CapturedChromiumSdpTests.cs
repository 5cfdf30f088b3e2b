using Parley.WebRtc.Sdp;

namespace Parley.WebRtc.Tests.Sdp;

/// <summary>
/// An offer and an answer that Debian's Chromium 156 produced in the interop test (publish offer for
/// camera + microphone; answer to Parley's ICE-lite subscribe offer), kept as fixtures so the SDP code
/// is checked against real browser output without a browser.
/// </summary>
public class CapturedChromiumSdpTests
{
    private static string Fixture(string name)
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Sdp", "Fixtures", name));
        // Keep the comparison independent of how git checked the file out.
        return text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("chromium-156-publish-offer.sdp")]
    [InlineData("chromium-156-subscribe-answer.sdp")]
    public void Captured_chromium_sdp_round_trips_byte_for_byte(string name)
    {
        var text = Fixture(name);
        Assert.True(SessionDescription.TryParse(text, out var sdp, out var error), error);
        Assert.Equal(text, sdp!.ToString());
    }

    [Fact]
    public void Captured_offer_reads_through_the_typed_views()
    {
        Assert.True(SessionDescription.TryParse(Fixture("chromium-156-publish-offer.sdp"), out var offer, out _));
        Assert.Equal(["0", "1"], offer!.BundleMids);
        var audio = offer.Media[0];
        var video = offer.Media[1];
        Assert.Equal("sendonly", audio.Direction);
        Assert.Equal("actpass", offer.SetupOf(video));
        Assert.Null(SdpNegotiation.ValidateIceCredentials(offer.IceUfragOf(audio), offer.IcePwdOf(audio)));
        Assert.Equal(new SdpRtpMap(111, "opus", 48000, 2), audio.RtpMaps.First());
        Assert.Equal(23, video.Formats.Count);
        Assert.Equal(video.Formats.Count, video.RtpMaps.Count());
        Assert.Equal("FID", video.SsrcGroups.Single().Semantics);
        Assert.Equal(2, video.SsrcGroups.Single().Ssrcs.Count);
        Assert.Contains(video.Extmaps, e => e.Uri == "urn:ietf:params:rtp-hdrext:sdes:mid");
    }

    [Fact]
    public void Captured_offer_gets_an_answer_with_opus_vp8_h264_and_their_rtx()
    {
        Assert.True(SessionDescription.TryParse(Fixture("chromium-156-publish-offer.sdp"), out var offer, out _));
        Assert.True(SdpNegotiation.TryCreateAnswer(offer!, new SdpAnswerOptions
        {
            IceUfrag = "srvA",
            IcePwd = "abcdefghijklmnopqrstuvwx",
            Fingerprint = "sha-256 00",
        }, out var answer, out var error), error);
        Assert.Equal(["111"], answer!.Media[0].Formats);
        var video = answer.Media[1];
        var names = video.RtpMaps.Select(m => m.Encoding).Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["H264", "VP8", "rtx"], names);
        Assert.All(video.RtpMaps.Where(m => m.Encoding == "H264"), m =>
            Assert.Contains("packetization-mode=1", video.GetFormatParameters(m.PayloadType), StringComparison.Ordinal));
        Assert.All(video.RtpMaps.Where(m => m.Encoding == "rtx"), m =>
            Assert.Contains(video.GetFormatParameters(m.PayloadType)![4..], video.Formats));
    }

    [Fact]
    public void Captured_answer_is_a_valid_answer_to_the_shape_of_offer_parley_sends()
    {
        Assert.True(SessionDescription.TryParse(Fixture("chromium-156-subscribe-answer.sdp"), out var answer, out _));
        Assert.Equal("active", answer!.SetupOf(answer.Media[0]));
        Assert.Equal("recvonly", answer.Media[1].Direction);
        Assert.Equal(["96", "97", "102", "103"], answer.Media[1].Formats);
    }
}
