using System.Text;
using Parley.WebRtc.Sdp;
using Parley.WebRtc.Tests.Sdp;

namespace Parley.WebRtc.Tests.Fuzz;

public class SdpFuzzTests
{
    [Fact]
    public void Sdp_parser_and_answerer_survive_fuzzing()
    {
        var options = new SdpAnswerOptions
        {
            IceUfrag = "srvA",
            IcePwd = "abcdefghijklmnopqrstuv",
            Fingerprint = "sha-256 00",
        };
        var corpus = new[] { Encoding.UTF8.GetBytes(ChromiumOffer.Text), Encoding.UTF8.GetBytes("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n") };
        Fuzzer.Run(8866, corpus, input =>
        {
            var text = Encoding.UTF8.GetString(input);
            if (!SessionDescription.TryParse(text, out var sdp, out _))
            {
                return;
            }

            // What parses must serialise and parse again to the same text.
            var printed = sdp!.ToString();
            Assert.True(SessionDescription.TryParse(printed, out var again, out _));
            Assert.Equal(printed, again!.ToString());
            foreach (var media in sdp.Media)
            {
                _ = (media.Mid, media.Direction, media.RtpMaps.Count(), media.Extmaps.Count(), media.Ssrcs.Count());
                _ = (media.SsrcGroups.Count(), media.Rids.Count(), media.GetFormatParameters(96), media.GetRtcpFeedback(96).Count());
            }

            _ = sdp.BundleMids;
            SdpNegotiation.TryCreateAnswer(sdp, options, out _, out _);
        }, "vmoatc"u8.ToArray());
    }
}
