using System.Globalization;
using Parley.WebRtc.Rtp;

namespace Parley.WebRtc.Sdp;

/// <summary>What an ICE-lite server puts in its answers.</summary>
public sealed record SdpAnswerOptions
{
    public required string IceUfrag { get; init; }

    public required string IcePwd { get; init; }

    /// <summary>"sha-256 AB:CD:..." of the DTLS certificate (RFC 8122 §5).</summary>
    public required string Fingerprint { get; init; }

    /// <summary>
    /// "passive" (the browser is the DTLS client) or "active". Keep the value chosen for the first
    /// answer for every renegotiation: flipping it breaks the DTLS transport (interop notes).
    /// </summary>
    public string Setup { get; init; } = "passive";

    public bool IceLite { get; init; } = true;

    /// <summary>Values of a=candidate lines, for example "1 1 udp 2130706431 127.0.0.1 10000 typ host".</summary>
    public IReadOnlyList<string> Candidates { get; init; } = [];

    /// <summary>Codec encoding names accepted, compared case-insensitively; RTX follows its codec.</summary>
    public IReadOnlyCollection<string> Codecs { get; init; } = ["opus", "VP8", "H264"];

    public IReadOnlyCollection<string> HeaderExtensions { get; init; } =
    [
        RtpExtensionUri.Mid, RtpExtensionUri.Rid, RtpExtensionUri.RepairedRid,
        RtpExtensionUri.AbsSendTime, RtpExtensionUri.TransportWideCc, RtpExtensionUri.AudioLevel,
    ];

    /// <summary>The answer's direction for an offered sendrecv section (an SFU publish answer receives only).</summary>
    public string AnswerToSendRecv { get; init; } = "recvonly";

    public ulong SessionId { get; init; } = 1;
}

/// <summary>
/// Offer/answer rules (RFC 3264, JSEP RFC 9429 §5.3) for what Parley's SFU answers to a browser offer,
/// and the checks Chromium applies to what it receives.
/// </summary>
public static class SdpNegotiation
{
    /// <summary>
    /// ICE credentials Chromium accepts (RFC 8839 §5.4): ufrag 4..256 and pwd 22..256 characters of
    /// ALPHA / DIGIT / "+" / "/". Returns an error text, or null when valid.
    /// </summary>
    public static string? ValidateIceCredentials(string? ufrag, string? pwd)
    {
        if (ufrag is null || ufrag.Length is < 4 or > 256 || !ufrag.All(IsIceChar))
        {
            return "ICE ufrag must be 4..256 characters of A-Z a-z 0-9 + /";
        }

        return pwd is null || pwd.Length is < 22 or > 256 || !pwd.All(IsIceChar)
            ? "ICE pwd must be 22..256 characters of A-Z a-z 0-9 + /"
            : null;
    }

    /// <summary>
    /// Builds the answer to <paramref name="offer"/>: every offered section gets a section with the same
    /// mid (rejected ones with port 0, RFC 3264 §6); accepted sections keep the offer's payload type
    /// numbers and extension ids, and answer send simulcast with receive simulcast (RFC 8853 §5.3).
    /// </summary>
    public static bool TryCreateAnswer(SessionDescription offer, SdpAnswerOptions options, out SessionDescription? answer, out string? error)
    {
        ArgumentNullException.ThrowIfNull(offer);
        ArgumentNullException.ThrowIfNull(options);
        answer = null;
        error = ValidateIceCredentials(options.IceUfrag, options.IcePwd);
        if (error is not null)
        {
            return false;
        }

        if (options.Setup is not ("active" or "passive"))
        {
            error = "Answerer must use either active or passive value for setup attribute";
            return false;
        }

        var result = new SessionDescription
        {
            Origin = string.Create(CultureInfo.InvariantCulture, $"- {options.SessionId} 2 IN IP4 127.0.0.1"),
        };
        result.Lines.Add(new SdpLine('t', "0 0"));
        if (options.IceLite)
        {
            result.Attributes.Add(new SdpAttribute("ice-lite", null));
        }

        var bundle = new List<string>();
        foreach (var offered in offer.Media)
        {
            if (offer.SetupOf(offered) is { } setup && setup != "actpass")
            {
                error = "Offerer must use actpass value for setup attribute";
                return false;
            }

            var section = AnswerSection(offered, options);
            if (section.Port != 0 && section.Mid is { } mid)
            {
                bundle.Add(mid);
            }

            result.Media.Add(section);
        }

        if (bundle.Count > 0)
        {
            result.Attributes.Add(new SdpAttribute("group", "BUNDLE " + string.Join(' ', bundle)));
        }

        if (offer.Attributes.Exists(a => a.Name == "extmap-allow-mixed"))
        {
            result.Attributes.Add(new SdpAttribute("extmap-allow-mixed", null));
        }

        answer = result;
        return true;
    }

    private static SdpMediaDescription AnswerSection(SdpMediaDescription offered, SdpAnswerOptions options)
    {
        var accepted = AcceptedPayloadTypes(offered, options);
        if (offered.Media is not ("audio" or "video") || accepted.Count == 0 || offered.Port == 0)
        {
            var rejected = new SdpMediaDescription(offered.Media, 0, offered.Protocol, offered.Formats.Take(1));
            if (offered.Mid is { } rejectedMid)
            {
                rejected.Add("mid", rejectedMid);
            }

            return rejected;
        }

        var section = new SdpMediaDescription(offered.Media, 9, offered.Protocol, accepted.Select(pt => pt.ToString(CultureInfo.InvariantCulture)));
        section.Lines.Add(new SdpLine('c', "IN IP4 0.0.0.0"));
        if (offered.Mid is { } mid)
        {
            section.Add("mid", mid);
        }

        section.Add("ice-ufrag", options.IceUfrag).Add("ice-pwd", options.IcePwd)
            .Add("fingerprint", options.Fingerprint).Add("setup", options.Setup);
        foreach (var extmap in offered.Extmaps.Where(e => options.HeaderExtensions.Contains(e.Uri)))
        {
            section.Add("extmap", new SdpExtmap(extmap.Id, null, extmap.Uri, null).ToString());
        }

        section.Add(offered.Direction switch
        {
            "sendonly" => "recvonly",
            "recvonly" => "sendonly",
            "inactive" => "inactive",
            _ => options.AnswerToSendRecv,
        });
        section.Add("rtcp-mux");
        if (offered.HasAttribute("rtcp-rsize"))
        {
            section.Add("rtcp-rsize");
        }

        foreach (var pt in accepted)
        {
            var map = offered.RtpMaps.First(m => m.PayloadType == pt); // present: accepted types come from rtpmaps
            section.Add("rtpmap", map.ToString());
            foreach (var feedback in offered.GetRtcpFeedback(pt))
            {
                section.Add("rtcp-fb", $"{pt} {feedback}");
            }

            if (offered.GetFormatParameters(pt) is { } fmtp)
            {
                section.Add("fmtp", $"{pt} {fmtp}");
            }
        }

        var sendRids = offered.Rids.Where(r => r.Direction == "send").ToList();
        if (sendRids.Count > 0 && offered.Simulcast is { } simulcast && simulcast.StartsWith("send ", StringComparison.Ordinal))
        {
            foreach (var rid in sendRids)
            {
                section.Add("rid", $"{rid.Id} recv");
            }

            section.Add("simulcast", "recv " + simulcast["send ".Length..]);
        }

        foreach (var candidate in options.Candidates)
        {
            section.Add("candidate", candidate);
        }

        if (options.Candidates.Count > 0)
        {
            section.Add("end-of-candidates");
        }

        return section;
    }

    /// <summary>Offered payload types whose codec is accepted, then RTX types whose apt= names one of them.</summary>
    private static List<int> AcceptedPayloadTypes(SdpMediaDescription offered, SdpAnswerOptions options)
    {
        var maps = new Dictionary<int, SdpRtpMap>();
        foreach (var map in offered.RtpMaps)
        {
            maps.TryAdd(map.PayloadType, map); // a repeated rtpmap keeps its first meaning
        }

        var accepted = new List<int>();
        foreach (var format in offered.Formats)
        {
            if (!int.TryParse(format, NumberStyles.None, CultureInfo.InvariantCulture, out var pt) || !maps.TryGetValue(pt, out var map))
            {
                continue;
            }

            var codecAccepted = options.Codecs.Any(c => string.Equals(c, map.Encoding, StringComparison.OrdinalIgnoreCase));
            // H.264 only in packetization-mode=1 (non-interleaved), the mode browsers and Safari share.
            if (codecAccepted && string.Equals(map.Encoding, "H264", StringComparison.OrdinalIgnoreCase)
                && offered.GetFormatParameters(pt)?.Contains("packetization-mode=1", StringComparison.Ordinal) != true)
            {
                codecAccepted = false;
            }

            if (codecAccepted)
            {
                accepted.Add(pt);
            }
        }

        foreach (var format in offered.Formats)
        {
            if (int.TryParse(format, NumberStyles.None, CultureInfo.InvariantCulture, out var pt)
                && maps.TryGetValue(pt, out var map)
                && string.Equals(map.Encoding, "rtx", StringComparison.OrdinalIgnoreCase)
                && offered.GetFormatParameters(pt) is { } fmtp
                && fmtp.StartsWith("apt=", StringComparison.Ordinal)
                && int.TryParse(fmtp.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var apt)
                && accepted.Contains(apt))
            {
                accepted.Add(pt);
            }
        }

        return accepted;
    }

    private static bool IsIceChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '+' or '/';
}
