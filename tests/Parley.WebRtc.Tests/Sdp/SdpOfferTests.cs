using Parley.WebRtc.Rtp;
using Parley.WebRtc.Sdp;

namespace Parley.WebRtc.Tests.Sdp;

public class SdpOfferTests
{
    private static readonly SdpOfferOptions Options = new()
    {
        IceUfrag = "sfuA",
        IcePwd = "abcdefghijklmnopqrstuvwx",
        Fingerprint = "sha-256 AA:BB",
        IceLite = true,
        Candidates = ["1 1 udp 2130706431 127.0.0.1 10000 typ host"],
        SessionId = 42,
        SessionVersion = 3,
    };

    private static IReadOnlyList<SdpOfferSection> Sections() =>
    [
        new("audio", "0", "sendonly", [SdpCodec.Opus()])
        {
            Extensions = [new SdpExtmap(1, null, RtpExtensionUri.Mid, null), new SdpExtmap(10, null, RtpExtensionUri.AudioLevel, null)],
            Sources = [new SdpSource(1111, "parley", "stream-1", "audio-1")],
        },
        new("video", "1", "sendonly", [SdpCodec.Vp8(), SdpCodec.H264()])
        {
            Extensions = [new SdpExtmap(1, null, RtpExtensionUri.Mid, null), new SdpExtmap(5, null, RtpExtensionUri.TransportWideCc, null)],
            Sources = [new SdpSource(2222, "parley", "stream-1", "video-1", RtxSsrc: 3333)],
        },
    ];

    [Fact]
    public void Offer_round_trips_and_reads_back_what_was_put_in()
    {
        var offer = SdpOffer.Create(Options, Sections());
        var text = offer.ToString();
        Assert.True(SessionDescription.TryParse(text, out var parsed, out var error), error);
        Assert.Equal(text, parsed!.ToString());
        Assert.StartsWith("v=0\r\no=- 42 3 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n", text, StringComparison.Ordinal);

        Assert.True(parsed.IceLite);
        Assert.Equal(["0", "1"], parsed.BundleMids);
        var video = parsed.Media[1];
        Assert.Equal(["96", "97", "102", "103"], video.Formats);
        Assert.Equal("actpass", video.Setup);
        Assert.Equal("sendonly", video.Direction);
        Assert.Equal("apt=96", video.GetFormatParameters(97));
        Assert.Contains("packetization-mode=1", video.GetFormatParameters(102), StringComparison.Ordinal);
        Assert.Equal(new SdpSsrcGroup("FID", [2222, 3333]).ToString(), video.SsrcGroups.Single().ToString());
        Assert.Equal([2222u, 2222u, 3333u, 3333u], video.Ssrcs.Select(s => s.Ssrc));
        Assert.Equal("stream-1 video-1", video.Msid);
        Assert.True(video.RtcpMux);
        Assert.True(video.EndOfCandidates);
        Assert.Equal([1, 5], video.Extmaps.Select(e => e.Id));
        Assert.Equal(new SdpRtpMap(111, "opus", 48000, 2), parsed.Media[0].RtpMaps.Single());
    }

    [Fact]
    public void An_answer_to_our_offer_validates_and_a_broken_one_does_not()
    {
        var offer = SdpOffer.Create(Options with { IceLite = false }, Sections());
        var answerOptions = new SdpAnswerOptions
        {
            IceUfrag = "brwB",
            IcePwd = "zyxwvutsrqponmlkjihgfedc",
            Fingerprint = "sha-256 CC:DD",
            Setup = "active",
            IceLite = false,
        };
        Assert.True(SdpNegotiation.TryCreateAnswer(offer, answerOptions, out var answer, out _));
        Assert.Equal("recvonly", answer!.Media[1].Direction);
        Assert.Null(SdpOffer.ValidateAnswer(offer, answer));

        answer.Media[0].Attributes[answer.Media[0].Attributes.FindIndex(a => a.Name == "setup")] = new SdpAttribute("setup", "actpass");
        Assert.Equal("Answerer must use either active or passive value for setup attribute", SdpOffer.ValidateAnswer(offer, answer));

        answer.Media.RemoveAt(1);
        Assert.NotNull(SdpOffer.ValidateAnswer(offer, answer));
    }

    [Fact]
    public void Offer_with_bad_ice_credentials_is_refused()
    {
        Assert.Throws<ArgumentException>(() => SdpOffer.Create(Options with { IcePwd = "short" }, Sections()));
    }
}
