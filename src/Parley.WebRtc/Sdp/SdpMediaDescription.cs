using System.Globalization;
using System.Text;

namespace Parley.WebRtc.Sdp;

/// <summary>
/// One media section (RFC 8866 §5.14): the m= line, the c=/b= lines kept in order, and the attributes
/// in order. Typed views read from the attribute list, so what is parsed serialises back unchanged.
/// </summary>
public sealed class SdpMediaDescription
{
    public SdpMediaDescription(string media, int port, string protocol, IEnumerable<string> formats)
    {
        Media = media;
        Port = port;
        Protocol = protocol;
        Formats = [.. formats];
    }

    /// <summary>"audio", "video" or "application".</summary>
    public string Media { get; set; }

    /// <summary>9 (the discard port) in WebRTC; 0 rejects the section (RFC 8866 §5.14, JSEP §5.3.1).</summary>
    public int Port { get; set; }

    public string Protocol { get; set; }

    /// <summary>Payload types, in preference order.</summary>
    public List<string> Formats { get; }

    /// <summary>Non-attribute lines after m= (i=, c=, b=, k=), without their "x=" prefix but with it in <see cref="SdpLine"/>.</summary>
    public List<SdpLine> Lines { get; } = [];

    public List<SdpAttribute> Attributes { get; } = [];

    public string? Mid => GetAttribute("mid");

    /// <summary>sendrecv, sendonly, recvonly or inactive (RFC 8866 §6.7); sendrecv when absent.</summary>
    public string Direction => Attributes.FirstOrDefault(a => a.Value is null && a.Name is "sendrecv" or "sendonly" or "recvonly" or "inactive")?.Name ?? "sendrecv";

    public bool RtcpMux => HasAttribute("rtcp-mux");

    public string? IceUfrag => GetAttribute("ice-ufrag");

    public string? IcePwd => GetAttribute("ice-pwd");

    public string? Fingerprint => GetAttribute("fingerprint");

    public string? Setup => GetAttribute("setup");

    public string? Msid => GetAttribute("msid");

    public string? Simulcast => GetAttribute("simulcast");

    public bool EndOfCandidates => HasAttribute("end-of-candidates");

    public IEnumerable<string> Candidates => GetAttributes("candidate");

    public IEnumerable<SdpRtpMap> RtpMaps => GetAttributes("rtpmap").Select(SdpRtpMap.TryParse).OfType<SdpRtpMap>();

    public IEnumerable<SdpExtmap> Extmaps => GetAttributes("extmap").Select(SdpExtmap.TryParse).OfType<SdpExtmap>();

    public IEnumerable<SdpSsrc> Ssrcs => GetAttributes("ssrc").Select(SdpSsrc.TryParse).OfType<SdpSsrc>();

    public IEnumerable<SdpSsrcGroup> SsrcGroups => GetAttributes("ssrc-group").Select(SdpSsrcGroup.TryParse).OfType<SdpSsrcGroup>();

    public IEnumerable<SdpRid> Rids => GetAttributes("rid").Select(SdpRid.TryParse).OfType<SdpRid>();

    /// <summary>a=fmtp parameters of one payload type (RFC 8866 §6.15), or null.</summary>
    public string? GetFormatParameters(int payloadType) => ForPayloadType("fmtp", payloadType).FirstOrDefault();

    /// <summary>a=rtcp-fb values of one payload type (RFC 4585 §4.2), including "*" wildcard entries.</summary>
    public IEnumerable<string> GetRtcpFeedback(int payloadType) =>
        ForPayloadType("rtcp-fb", payloadType).Concat(ForPayloadType("rtcp-fb", null));

    public string? GetAttribute(string name) => Attributes.FirstOrDefault(a => a.Name == name)?.Value;

    public IEnumerable<string> GetAttributes(string name) => Attributes.Where(a => a.Name == name && a.Value is not null).Select(a => a.Value!);

    public bool HasAttribute(string name) => Attributes.Exists(a => a.Name == name);

    public SdpMediaDescription Add(string name, string? value = null)
    {
        Attributes.Add(new SdpAttribute(name, value));
        return this;
    }

    internal void Write(StringBuilder sdp)
    {
        sdp.Append(CultureInfo.InvariantCulture, $"m={Media} {Port} {Protocol}");
        foreach (var format in Formats)
        {
            sdp.Append(' ').Append(format);
        }

        sdp.Append("\r\n");
        foreach (var line in Lines)
        {
            sdp.Append(line.Type).Append('=').Append(line.Value).Append("\r\n");
        }

        foreach (var attribute in Attributes)
        {
            sdp.Append("a=").Append(attribute.ToString()).Append("\r\n");
        }
    }

    private IEnumerable<string> ForPayloadType(string name, int? payloadType)
    {
        var prefix = payloadType is null ? "* " : payloadType.Value.ToString(CultureInfo.InvariantCulture) + " ";
        return GetAttributes(name).Where(v => v.StartsWith(prefix, StringComparison.Ordinal)).Select(v => v[prefix.Length..]);
    }
}

/// <summary>A non-attribute SDP line: its one-letter type and its value.</summary>
public sealed record SdpLine(char Type, string Value);
