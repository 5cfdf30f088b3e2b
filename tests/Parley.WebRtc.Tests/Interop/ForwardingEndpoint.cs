using System.Globalization;
using System.Net;
using Parley.WebRtc.Dtls;
using Parley.WebRtc.Ice;
using Parley.WebRtc.Rtcp;
using Parley.WebRtc.Rtp;
using Parley.WebRtc.Sdp;
using Parley.WebRtc.Srtp;
using Parley.WebRtc.Transport;

namespace Parley.WebRtc.Tests.Interop;

/// <summary>
/// What an SFU does, in miniature and on one shared UDP socket: a publish transport answers the
/// browser's offer; a subscribe transport sends the browser our own offer (ICE-lite, actpass) and takes
/// its answer; RTP from the publisher is rewritten (payload type, SSRC, header extensions) onto the
/// subscriber's negotiated streams; a PLI from the subscriber goes back to the publisher.
/// </summary>
internal sealed class ForwardingEndpoint : IDisposable
{
    private const uint AudioSsrc = 1111;
    private const uint VideoSsrc = 2222;
    private readonly UdpSocketLoop _socket;
    private readonly DtlsCertificate _certificate = DtlsCertificate.Generate();
    private readonly IceCredentials _publishIce = IceCredentials.Generate();
    private readonly IceCredentials _subscribeIce = IceCredentials.Generate();
    private readonly SrtpProfile _profile;
    private readonly byte[] _forwardBuffer = new byte[1600];
    private readonly byte[] _rtcpBuffer = new byte[256];
    private readonly Dictionary<int, string> _publisherCodecs = [];
    private SessionDescription? _subscribeOffer;
    private WebRtcTransport? _publisher;
    private WebRtcTransport? _subscriber;
    private uint _publisherVideoSsrc;

    public ForwardingEndpoint(SrtpProfile profile)
    {
        _profile = profile;
        _socket = new UdpSocketLoop(new IPEndPoint(IPAddress.Loopback, 0));
        _socket.Start();
    }

    public long ForwardedPackets { get; private set; }

    /// <summary>Whether Chromium's offer (publish) and answer (subscribe) serialised back byte for byte.</summary>
    public bool ChromiumSdpRoundTripped { get; private set; } = true;

    public WebRtcTransport? Subscriber => _subscriber;

    private string Candidate => string.Create(CultureInfo.InvariantCulture, $"1 1 udp 2130706431 127.0.0.1 {_socket.LocalEndPoint.Port} typ host");

    public string Publish(string offerText)
    {
        if (!SessionDescription.TryParse(offerText, out var offer, out var error))
        {
            throw new InvalidOperationException(error);
        }

        ChromiumSdpRoundTripped &= offer!.ToString() == offerText;
        foreach (var map in offer.Media.SelectMany(m => m.RtpMaps))
        {
            _publisherCodecs.TryAdd(map.PayloadType, map.Encoding.ToUpperInvariant());
        }

        if (!SdpNegotiation.TryCreateAnswer(offer, new SdpAnswerOptions
        {
            IceUfrag = _publishIce.Ufrag,
            IcePwd = _publishIce.Pwd,
            Fingerprint = _certificate.Fingerprint,
            Candidates = [Candidate],
        }, out var answer, out error))
        {
            throw new InvalidOperationException(error);
        }

        _publisher = WebRtcTransport.CreateServer(_socket, new WebRtcTransportOptions
        {
            LocalIce = _publishIce,
            RemoteUfrag = offer.IceUfragOf(offer.Media[0]),
            Certificate = _certificate,
            RemoteFingerprint = offer.FingerprintOf(offer.Media[0])!,
            Dtls = new DtlsOptions { Profiles = [_profile] },
        });
        _publisher.RtpReceived += Forward;
        _ = _publisher.ConnectAsync();
        return answer!.ToString();
    }

    public string SubscribeOffer()
    {
        IReadOnlyList<SdpExtmap> extensions = [new SdpExtmap(1, null, RtpExtensionUri.Mid, null)];
        _subscribeOffer = SdpOffer.Create(
            new SdpOfferOptions
            {
                IceUfrag = _subscribeIce.Ufrag,
                IcePwd = _subscribeIce.Pwd,
                Fingerprint = _certificate.Fingerprint,
                IceLite = true,
                Candidates = [Candidate],
            },
            [
                new SdpOfferSection("audio", "0", "sendonly", [SdpCodec.Opus()])
                {
                    Extensions = extensions,
                    Sources = [new SdpSource(AudioSsrc, "parley", "forwarded", "audio")],
                },
                new SdpOfferSection("video", "1", "sendonly", [SdpCodec.Vp8(), SdpCodec.H264()])
                {
                    Extensions = extensions,
                    Sources = [new SdpSource(VideoSsrc, "parley", "forwarded", "video")],
                },
            ]);
        return _subscribeOffer.ToString();
    }

    public void SubscribeAnswer(string answerText)
    {
        if (!SessionDescription.TryParse(answerText, out var answer, out var error)
            || (error = SdpOffer.ValidateAnswer(_subscribeOffer!, answer!)) is not null)
        {
            throw new InvalidOperationException(error);
        }

        ChromiumSdpRoundTripped &= answer!.ToString() == answerText;
        var media = answer.Media[0];
        _subscriber = WebRtcTransport.CreateServer(_socket, new WebRtcTransportOptions
        {
            LocalIce = _subscribeIce,
            RemoteUfrag = answer.IceUfragOf(media),
            Certificate = _certificate,
            RemoteFingerprint = answer.FingerprintOf(media)!,
            Dtls = new DtlsOptions { Profiles = [_profile] },
            // The browser answers active (it dials DTLS) or passive (we dial).
            DtlsRole = answer.SetupOf(media) == "passive" ? DtlsRole.Client : DtlsRole.Server,
        });
        _subscriber.RtcpReceived += ForwardKeyframeRequests;
        _ = _subscriber.ConnectAsync();
    }

    private void Forward(ReadOnlySpan<byte> packet)
    {
        if (_subscriber?.Profile is null || !RtpPacket.TryParse(packet, out var rtp)
            || !_publisherCodecs.TryGetValue(rtp.PayloadType, out var codec))
        {
            return;
        }

        (byte PayloadType, uint Ssrc, string Mid)? target = codec switch
        {
            "OPUS" => (111, AudioSsrc, "0"),
            "VP8" => (96, VideoSsrc, "1"),
            "H264" => (102, VideoSsrc, "1"),
            _ => null, // RTX, RED, comfort noise: not forwarded here
        };
        if (target is not { } t)
        {
            return;
        }

        if (t.Ssrc == VideoSsrc)
        {
            _publisherVideoSsrc = rtp.Ssrc;
        }

        // The publisher's extension ids mean nothing in the subscriber's session: rebuild the header.
        var builder = new RtpPacketBuilder(_forwardBuffer, t.PayloadType, rtp.SequenceNumber, rtp.Timestamp, t.Ssrc, rtp.Marker);
        builder.AddExtension(1, t.Mid == "0" ? "0"u8 : "1"u8);
        builder.AddPayload(rtp.Payload);
        if (_subscriber.SendRtp(_forwardBuffer, builder.Length) == SrtpResult.Ok)
        {
            ForwardedPackets++;
        }
    }

    private void ForwardKeyframeRequests(ReadOnlySpan<byte> compound)
    {
        foreach (var packet in new RtcpCompoundEnumerator(compound))
        {
            if ((RtcpPli.TryParse(packet, out _) || RtcpFir.TryParse(packet, out _)) && _publisherVideoSsrc != 0)
            {
                var length = RtcpPli.Write(_rtcpBuffer, 1, _publisherVideoSsrc);
                _publisher!.SendRtcp(_rtcpBuffer, length);
            }
        }
    }

    public void Dispose()
    {
        _subscriber?.Dispose();
        _publisher?.Dispose();
        _socket.Dispose();
    }
}
