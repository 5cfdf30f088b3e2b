using System.Buffers.Binary;
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
/// A C# endpoint built only on Parley.WebRtc that answers a browser's offer (ICE-lite, DTLS passive)
/// and sends every RTP packet it receives back on the same transceiver (same mid) with its own SSRC,
/// announced in the answer. A PLI from the browser for an echoed stream is passed to the browser's
/// sender, so video keeps decoding.
/// </summary>
internal sealed class EchoEndpoint : IDisposable
{
    private const uint EchoXor = 0x5A5A0000;
    private readonly UdpSocketLoop _socket;
    private readonly DtlsCertificate _certificate = DtlsCertificate.Generate();
    private readonly IceCredentials _ice = IceCredentials.Generate();
    private readonly SrtpProfile _profile;
    private readonly byte[] _echoBuffer = new byte[1600];
    private readonly byte[] _rtcpBuffer = new byte[1600];
    private WebRtcTransport? _transport;

    public EchoEndpoint(SrtpProfile profile)
    {
        _profile = profile;
        _socket = new UdpSocketLoop(new IPEndPoint(IPAddress.Loopback, 0));
        _socket.Start();
    }

    public long EchoedPackets { get; private set; }

    /// <summary>Whether Chromium's own offer serialised back byte for byte after parsing.</summary>
    public bool OfferRoundTripped { get; private set; }

    public WebRtcTransport? Transport => _transport;

    public Task? Connected { get; private set; }

    /// <summary>Builds the answer and starts the transport; returns the answer SDP or an error text.</summary>
    public string Answer(string offerText)
    {
        if (!SessionDescription.TryParse(offerText, out var offer, out var error))
        {
            throw new InvalidOperationException("bad offer: " + error);
        }

        OfferRoundTripped = offer!.ToString() == offerText;

        var media = offer!.Media[0];
        var options = new SdpAnswerOptions
        {
            IceUfrag = _ice.Ufrag,
            IcePwd = _ice.Pwd,
            Fingerprint = _certificate.Fingerprint,
            Setup = "passive",
            AnswerToSendRecv = "sendrecv",
            Candidates = [string.Create(CultureInfo.InvariantCulture, $"1 1 udp 2130706431 127.0.0.1 {_socket.LocalEndPoint.Port} typ host")],
        };
        if (!SdpNegotiation.TryCreateAnswer(offer, options, out var answer, out error))
        {
            throw new InvalidOperationException("no answer: " + error);
        }

        // Announce the echo SSRCs so the browser binds them to the right receiver from the first packet.
        for (var i = 0; i < offer.Media.Count; i++)
        {
            foreach (var ssrc in offer.Media[i].Ssrcs.Select(s => s.Ssrc).Distinct())
            {
                answer!.Media[i].Add("ssrc", $"{ssrc ^ EchoXor} cname:parley-echo");
            }
        }

        _transport = WebRtcTransport.CreateServer(_socket, new WebRtcTransportOptions
        {
            LocalIce = _ice,
            RemoteUfrag = offer.IceUfragOf(media),
            Certificate = _certificate,
            RemoteFingerprint = offer.FingerprintOf(media)!,
            Dtls = new DtlsOptions { Profiles = [_profile] },
        });
        _transport.RtpReceived += Echo;
        _transport.RtcpReceived += ForwardKeyframeRequests;
        Connected = _transport.ConnectAsync();
        return answer!.ToString();
    }

    private void Echo(ReadOnlySpan<byte> packet)
    {
        if (!RtpPacket.TryParse(packet, out var rtp))
        {
            return;
        }

        packet.CopyTo(_echoBuffer);
        RtpPacket.SetSsrc(_echoBuffer, rtp.Ssrc ^ EchoXor);
        if (_transport!.SendRtp(_echoBuffer, packet.Length) == SrtpResult.Ok)
        {
            EchoedPackets++;
        }
    }

    /// <summary>The browser asks the echo SSRC for a key frame; only its own sender can make one.</summary>
    private void ForwardKeyframeRequests(ReadOnlySpan<byte> compound)
    {
        foreach (var packet in new RtcpCompoundEnumerator(compound))
        {
            if (RtcpPli.TryParse(packet, out var pli))
            {
                var length = RtcpPli.Write(_rtcpBuffer, pli.SenderSsrc, pli.MediaSsrc ^ EchoXor);
                _transport!.SendRtcp(_rtcpBuffer, length);
            }
        }
    }

    public void Dispose()
    {
        _transport?.Dispose();
        _socket.Dispose();
    }
}
