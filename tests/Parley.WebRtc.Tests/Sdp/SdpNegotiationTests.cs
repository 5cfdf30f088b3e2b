using Parley.WebRtc.Sdp;

namespace Parley.WebRtc.Tests.Sdp;

public class SdpNegotiationTests
{
    private static readonly SdpAnswerOptions Options = new()
    {
        IceUfrag = "srvA",
        IcePwd = "abcdefghijklmnopqrstuv+/",
        Fingerprint = "sha-256 01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F:20",
        Candidates = ["1 1 udp 2130706431 127.0.0.1 10000 typ host"],
    };

    private static SessionDescription Offer()
    {
        Assert.True(SessionDescription.TryParse(ChromiumOffer.Text, out var offer, out _));
        return offer!;
    }

    [Fact]
    public void Answer_to_the_chromium_offer_is_ice_lite_bundled_and_keeps_offer_numbering()
    {
        Assert.True(SdpNegotiation.TryCreateAnswer(Offer(), Options, out var answer, out var error), error);

        // The answer survives its own serialisation.
        Assert.True(SessionDescription.TryParse(answer!.ToString(), out var reparsed, out error), error);
        Assert.Equal(answer.ToString(), reparsed!.ToString());

        Assert.True(reparsed.IceLite);
        Assert.Equal(["0", "1"], reparsed.BundleMids);
        Assert.Equal(2, reparsed.Media.Count);

        var audio = reparsed.Media[0];
        Assert.Equal(["111"], audio.Formats);
        Assert.Equal("recvonly", audio.Direction); // offered sendrecv, SFU publish answer receives
        Assert.Equal("passive", audio.Setup);
        Assert.Equal("srvA", audio.IceUfrag);
        Assert.True(audio.RtcpMux);
        Assert.Equal("minptime=10;useinbandfec=1", audio.GetFormatParameters(111));
        Assert.Equal([1, 2, 3, 4], audio.Extmaps.Select(e => e.Id).Order());
        Assert.True(audio.EndOfCandidates);
        Assert.Single(audio.Candidates);

        var video = reparsed.Media[1];
        Assert.Equal(["96", "102", "97", "103"], video.Formats);
        Assert.Equal("recvonly", video.Direction);
        Assert.Equal("apt=96", video.GetFormatParameters(97));
        Assert.DoesNotContain(video.Extmaps, e => e.Uri == "urn:3gpp:video-orientation");
        Assert.Contains(video.Extmaps, e => e.Id == 10);
        Assert.Equal(["q", "h", "f"], video.Rids.Where(r => r.Direction == "recv").Select(r => r.Id));
        Assert.Equal("recv q;h;f", video.Simulcast);
        Assert.DoesNotContain(reparsed.Media.SelectMany(m => m.Attributes), a => a.Name == "crypto");
    }

    [Fact]
    public void Unsupported_sections_are_rejected_with_port_zero_and_left_out_of_bundle()
    {
        var offer = Offer();
        var data = new SdpMediaDescription("application", 9, "UDP/DTLS/SCTP", ["webrtc-datachannel"]);
        data.Add("mid", "2");
        offer.Media.Add(data);
        Assert.True(SdpNegotiation.TryCreateAnswer(offer, Options with { Codecs = ["VP8"] }, out var answer, out _));
        Assert.Equal(0, answer!.Media[0].Port);  // audio: no Opus accepted
        Assert.Equal("0", answer.Media[0].Mid);
        Assert.Equal(9, answer.Media[1].Port);
        Assert.Equal(["96", "97"], answer.Media[1].Formats);
        Assert.Equal(0, answer.Media[2].Port);
        Assert.Equal(["1"], answer.BundleMids);
    }

    [Fact]
    public void Setup_rules_follow_chromium()
    {
        Assert.False(SdpNegotiation.TryCreateAnswer(Offer(), Options with { Setup = "actpass" }, out _, out var error));
        Assert.Equal("Answerer must use either active or passive value for setup attribute", error);

        var offer = Offer();
        offer.Media[0].Attributes[offer.Media[0].Attributes.FindIndex(a => a.Name == "setup")] = new SdpAttribute("setup", "active");
        Assert.False(SdpNegotiation.TryCreateAnswer(offer, Options, out _, out error));
        Assert.Equal("Offerer must use actpass value for setup attribute", error);

        Assert.True(SdpNegotiation.TryCreateAnswer(Offer(), Options with { Setup = "active" }, out var answer, out _));
        Assert.All(answer!.Media, m => Assert.Equal("active", m.Setup));
    }

    [Theory]
    [InlineData("abcd", "abcdefghijklmnopqrstuv", true)]
    [InlineData("abc", "abcdefghijklmnopqrstuv", false)]
    [InlineData("abcd", "abcdefghijklmnopqrstu", false)]
    [InlineData("ab-d", "abcdefghijklmnopqrstuv", false)]
    [InlineData("abcd", "abcdefghijklmnopqrst=v", false)]
    [InlineData("a+/d", "ABCDEFGHIJKLMNOPQRST+/", true)]
    public void Ice_credentials_follow_the_ice_alphabet(string ufrag, string pwd, bool valid)
    {
        Assert.Equal(valid, SdpNegotiation.ValidateIceCredentials(ufrag, pwd) is null);
    }
}
