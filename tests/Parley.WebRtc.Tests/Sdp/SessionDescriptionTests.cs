using Parley.WebRtc.Sdp;

namespace Parley.WebRtc.Tests.Sdp;

public class SessionDescriptionTests
{
    [Fact]
    public void Chromium_offer_round_trips_byte_for_byte()
    {
        Assert.True(SessionDescription.TryParse(ChromiumOffer.Text, out var sdp, out var error), error);
        Assert.Equal(ChromiumOffer.Text, sdp!.ToString());
    }

    [Fact]
    public void Chromium_offer_reads_through_the_typed_views()
    {
        Assert.True(SessionDescription.TryParse(ChromiumOffer.Text, out var sdp, out _));
        Assert.Equal(["0", "1"], sdp!.BundleMids);
        Assert.False(sdp.IceLite);
        Assert.Equal(2, sdp.Media.Count);

        var audio = sdp.Media[0];
        Assert.Equal(("audio", 9, "UDP/TLS/RTP/SAVPF"), (audio.Media, audio.Port, audio.Protocol));
        Assert.Equal("0", audio.Mid);
        Assert.Equal("sendrecv", audio.Direction);
        Assert.True(audio.RtcpMux);
        Assert.Equal("EsAw", sdp.IceUfragOf(audio));
        Assert.Equal("bP+XJMM09aR8AiX1jdukzR6Y", sdp.IcePwdOf(audio));
        Assert.Equal("actpass", sdp.SetupOf(audio));
        Assert.StartsWith("sha-256 DA:39:", sdp.FingerprintOf(audio), StringComparison.Ordinal);
        Assert.Equal(new SdpRtpMap(111, "opus", 48000, 2), audio.RtpMaps.First());
        Assert.Equal("minptime=10;useinbandfec=1", audio.GetFormatParameters(111));
        Assert.Equal(["transport-cc"], audio.GetRtcpFeedback(111));
        Assert.Contains(new SdpExtmap(1, null, "urn:ietf:params:rtp-hdrext:ssrc-audio-level", null), audio.Extmaps);
        Assert.Equal([new SdpSsrc(3735928559, "cname", "k3Yb0mPq6zXa9Lr2"), new SdpSsrc(3735928559, "msid", "7c7b6f0e-5d4f-4b5e-9d9a-2f1d8c0a1b2c 0d9a6f7e-1111-2222-3333-444455556666")], audio.Ssrcs);
        Assert.Single(audio.Candidates);

        var video = sdp.Media[1];
        Assert.Equal("sendonly", video.Direction);
        Assert.Equal(["96", "97", "102", "103"], video.Formats);
        Assert.Equal("apt=96", video.GetFormatParameters(97));
        Assert.Contains("packetization-mode=1", video.GetFormatParameters(102), StringComparison.Ordinal);
        Assert.Equal(["goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"], video.GetRtcpFeedback(96));
        Assert.Equal([new SdpRid("q", "send", null), new SdpRid("h", "send", null), new SdpRid("f", "send", null)], video.Rids);
        Assert.Equal("send q;h;f", video.Simulcast);
        Assert.Contains(video.Extmaps, e => e.Id == 10 && e.Uri == "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id");
    }

    [Fact]
    public void Lf_only_input_parses_and_serialises_with_crlf()
    {
        var lf = ChromiumOffer.Text.Replace("\r\n", "\n", StringComparison.Ordinal);
        Assert.True(SessionDescription.TryParse(lf, out var sdp, out _));
        Assert.Equal(ChromiumOffer.Text, sdp!.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("o=- 1 1 IN IP4 0.0.0.0\r\n")]                         // v= missing
    [InlineData("v=1\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n")]           // wrong version
    [InlineData("v=0\r\ns=-\r\n")]                                     // o= missing
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=audio\r\n")] // short m= line
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=audio x RTP/AVP 0\r\n")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nbogus\r\n")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\na=\r\n")]
    public void Malformed_sdp_is_rejected_with_an_error(string text)
    {
        Assert.False(SessionDescription.TryParse(text, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Theory]
    [InlineData("97 rtx/90000", 97, "rtx", 90000, null)]
    [InlineData("111 opus/48000/2", 111, "opus", 48000, 2)]
    public void Rtpmap_parses_and_prints(string value, int pt, string encoding, int clock, int? channels)
    {
        var map = SdpRtpMap.TryParse(value);
        Assert.Equal(new SdpRtpMap(pt, encoding, clock, channels), map);
        Assert.Equal(value, map!.ToString());
    }

    [Theory]
    [InlineData("x opus/48000")]
    [InlineData("111 opus")]
    [InlineData("111 /48000")]
    [InlineData("111 opus/x/2")]
    public void Bad_rtpmaps_are_null(string value) => Assert.Null(SdpRtpMap.TryParse(value));

    [Fact]
    public void Extmap_ssrc_group_and_rid_round_trip()
    {
        Assert.Equal("3/sendonly urn:x attr", SdpExtmap.TryParse("3/sendonly urn:x attr")!.ToString());
        Assert.Null(SdpExtmap.TryParse("0 urn:x"));
        Assert.Equal(new List<uint> { 1, 2 }, SdpSsrcGroup.TryParse("FID 1 2")!.Ssrcs);
        Assert.Null(SdpSsrcGroup.TryParse("FID x"));
        Assert.Equal("h recv max-width=640", SdpRid.TryParse("h recv max-width=640")!.ToString());
        Assert.Null(SdpRid.TryParse("h both"));
    }
}
