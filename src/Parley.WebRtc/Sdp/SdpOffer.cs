using System.Globalization;

namespace Parley.WebRtc.Sdp;

/// <summary>A codec to offer: payload type, rtpmap, fmtp and rtcp-fb values, and its RTX payload type if any.</summary>
public sealed record SdpCodec(int PayloadType, string Name, int ClockRate, int? Channels = null, string? FormatParameters = null, IReadOnlyList<string>? Feedback = null, int? RtxPayloadType = null)
{
    public static SdpCodec Opus(int pt = 111) => new(pt, "opus", 48000, 2, "minptime=10;useinbandfec=1", ["transport-cc"]);

    public static SdpCodec Vp8(int pt = 96, int rtx = 97) => new(pt, "VP8", 90000, null, null, VideoFeedback, rtx);

    /// <summary>Constrained baseline, packetization-mode=1: what Safari needs (interop notes).</summary>
    public static SdpCodec H264(int pt = 102, int rtx = 103) =>
        new(pt, "H264", 90000, null, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f", VideoFeedback, rtx);

    private static readonly string[] VideoFeedback = ["goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"];
}

/// <summary>A sending source in an offered section: SSRC, optional RTX SSRC (ssrc-group FID), cname and msid.</summary>
public sealed record SdpSource(uint Ssrc, string Cname, string StreamId, string TrackId, uint? RtxSsrc = null);

/// <summary>One m= section to offer.</summary>
public sealed record SdpOfferSection(string Kind, string Mid, string Direction, IReadOnlyList<SdpCodec> Codecs)
{
    /// <summary>Extension id → URI; keep ids stable for the session (interop notes).</summary>
    public IReadOnlyList<SdpExtmap> Extensions { get; init; } = [];

    public IReadOnlyList<SdpSource> Sources { get; init; } = [];

    /// <summary>Simulcast layers this section sends, lowest first (RFC 8851 a=rid, RFC 8853 a=simulcast:send).</summary>
    public IReadOnlyList<string> SendRids { get; init; } = [];
}

/// <summary>What an offer carries besides its sections.</summary>
public sealed record SdpOfferOptions
{
    public required string IceUfrag { get; init; }

    public required string IcePwd { get; init; }

    public required string Fingerprint { get; init; }

    public bool IceLite { get; init; }

    public IReadOnlyList<string> Candidates { get; init; } = [];

    public ulong SessionId { get; init; } = 1;

    /// <summary>Increase on every renegotiation (RFC 8866 §5.2, JSEP §5.2.2).</summary>
    public ulong SessionVersion { get; init; } = 1;
}

/// <summary>Building offers and checking the answers to them (JSEP RFC 9429 §5.2, §5.3).</summary>
public static class SdpOffer
{
    /// <summary>
    /// An offer for the SFU's subscribe direction or a native client: Unified Plan, BUNDLE over every
    /// section, rtcp-mux, a=setup:actpass (an offer must say actpass; Chrome refuses anything else).
    /// </summary>
    public static SessionDescription Create(SdpOfferOptions options, IReadOnlyList<SdpOfferSection> sections)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(sections);
        if (SdpNegotiation.ValidateIceCredentials(options.IceUfrag, options.IcePwd) is { } error)
        {
            throw new ArgumentException(error, nameof(options));
        }

        var sdp = new SessionDescription
        {
            Origin = string.Create(CultureInfo.InvariantCulture, $"- {options.SessionId} {options.SessionVersion} IN IP4 127.0.0.1"),
        };
        sdp.Lines.Add(new SdpLine('t', "0 0"));
        if (options.IceLite)
        {
            sdp.Attributes.Add(new SdpAttribute("ice-lite", null));
        }

        sdp.Attributes.Add(new SdpAttribute("group", "BUNDLE " + string.Join(' ', sections.Select(s => s.Mid))));
        sdp.Attributes.Add(new SdpAttribute("extmap-allow-mixed", null));
        sdp.Attributes.Add(new SdpAttribute("msid-semantic", " WMS *"));
        foreach (var section in sections)
        {
            var formats = section.Codecs.SelectMany(c => c.RtxPayloadType is { } rtx ? new[] { c.PayloadType, rtx } : [c.PayloadType]);
            var media = new SdpMediaDescription(section.Kind, 9, "UDP/TLS/RTP/SAVPF", formats.Select(pt => pt.ToString(CultureInfo.InvariantCulture)));
            media.Lines.Add(new SdpLine('c', "IN IP4 0.0.0.0"));
            media.Add("mid", section.Mid).Add("ice-ufrag", options.IceUfrag).Add("ice-pwd", options.IcePwd)
                .Add("fingerprint", options.Fingerprint).Add("setup", "actpass");
            foreach (var extension in section.Extensions)
            {
                media.Add("extmap", extension.ToString());
            }

            media.Add(section.Direction);
            foreach (var source in section.Sources.Take(1))
            {
                media.Add("msid", $"{source.StreamId} {source.TrackId}");
            }

            media.Add("rtcp-mux").Add("rtcp-rsize");
            foreach (var codec in section.Codecs)
            {
                media.Add("rtpmap", new SdpRtpMap(codec.PayloadType, codec.Name, codec.ClockRate, codec.Channels).ToString());
                foreach (var feedback in codec.Feedback ?? [])
                {
                    media.Add("rtcp-fb", string.Create(CultureInfo.InvariantCulture, $"{codec.PayloadType} {feedback}"));
                }

                if (codec.FormatParameters is { } fmtp)
                {
                    media.Add("fmtp", string.Create(CultureInfo.InvariantCulture, $"{codec.PayloadType} {fmtp}"));
                }

                if (codec.RtxPayloadType is { } rtx)
                {
                    media.Add("rtpmap", new SdpRtpMap(rtx, "rtx", codec.ClockRate, null).ToString());
                    media.Add("fmtp", string.Create(CultureInfo.InvariantCulture, $"{rtx} apt={codec.PayloadType}"));
                }
            }

            foreach (var rid in section.SendRids)
            {
                media.Add("rid", $"{rid} send");
            }

            if (section.SendRids.Count > 0)
            {
                media.Add("simulcast", "send " + string.Join(';', section.SendRids));
            }

            foreach (var source in section.Sources)
            {
                if (source.RtxSsrc is { } rtxSsrc)
                {
                    media.Add("ssrc-group", new SdpSsrcGroup("FID", [source.Ssrc, rtxSsrc]).ToString());
                }

                foreach (var ssrc in source.RtxSsrc is { } r ? new[] { source.Ssrc, r } : [source.Ssrc])
                {
                    media.Add("ssrc", new SdpSsrc(ssrc, "cname", source.Cname).ToString());
                    media.Add("ssrc", new SdpSsrc(ssrc, "msid", $"{source.StreamId} {source.TrackId}").ToString());
                }
            }

            foreach (var candidate in options.Candidates)
            {
                media.Add("candidate", candidate);
            }

            if (options.Candidates.Count > 0)
            {
                media.Add("end-of-candidates");
            }

            sdp.Media.Add(media);
        }

        return sdp;
    }

    /// <summary>
    /// Checks an answer against our offer: same sections in the same order with the same mids, ICE
    /// credentials in the ICE alphabet, a fingerprint, and a=setup active or passive (Chrome's own error
    /// text when not). Returns null when acceptable, else what is wrong.
    /// </summary>
    public static string? ValidateAnswer(SessionDescription offer, SessionDescription answer)
    {
        ArgumentNullException.ThrowIfNull(offer);
        ArgumentNullException.ThrowIfNull(answer);
        if (answer.Media.Count != offer.Media.Count)
        {
            return $"the answer has {answer.Media.Count} media sections, the offer {offer.Media.Count}";
        }

        for (var i = 0; i < offer.Media.Count; i++)
        {
            var offered = offer.Media[i];
            var answered = answer.Media[i];
            if (answered.Media != offered.Media || answered.Mid != offered.Mid)
            {
                return $"section {i}: expected {offered.Media} mid {offered.Mid}, got {answered.Media} mid {answered.Mid}";
            }

            if (answered.Port == 0)
            {
                continue; // rejected
            }

            if (answer.SetupOf(answered) is not ("active" or "passive"))
            {
                return "Answerer must use either active or passive value for setup attribute";
            }

            if (SdpNegotiation.ValidateIceCredentials(answer.IceUfragOf(answered), answer.IcePwdOf(answered)) is { } iceError)
            {
                return iceError;
            }

            if (answer.FingerprintOf(answered) is null)
            {
                return $"section {i}: no a=fingerprint";
            }
        }

        return null;
    }
}
