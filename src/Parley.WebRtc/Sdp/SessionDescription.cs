using System.Globalization;
using System.Text;

namespace Parley.WebRtc.Sdp;

/// <summary>
/// A session description (RFC 8866) as WebRTC uses it (JSEP, RFC 9429): session-level lines and
/// attributes, then media sections. Parsing keeps every line in order, so an offer serialises back as
/// it came (line endings normalised to CRLF); typed properties read from those lines.
/// </summary>
public sealed class SessionDescription
{
    /// <summary>The o= line value, for example "- 4611731400430051336 2 IN IP4 127.0.0.1".</summary>
    public string Origin { get; set; } = "- 0 0 IN IP4 127.0.0.1";

    public string SessionName { get; set; } = "-";

    /// <summary>Session-level lines other than v=, o=, s= and a= (t=, c=, b= ...), in order.</summary>
    public List<SdpLine> Lines { get; } = [];

    public List<SdpAttribute> Attributes { get; } = [];

    public List<SdpMediaDescription> Media { get; } = [];

    /// <summary>The mids of a=group:BUNDLE (RFC 9143 §7), empty when there is none.</summary>
    public IReadOnlyList<string> BundleMids
    {
        get
        {
            var group = Attributes.FirstOrDefault(a => a.Name == "group" && a.Value?.StartsWith("BUNDLE", StringComparison.Ordinal) == true);
            return group?.Value is null ? [] : group.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..];
        }
    }

    public bool IceLite => Attributes.Exists(a => a.Name == "ice-lite");

    /// <summary>ICE credentials, fingerprint and setup role of a media section, falling back to session level.</summary>
    public string? IceUfragOf(SdpMediaDescription media) => media.IceUfrag ?? GetAttribute("ice-ufrag");

    public string? IcePwdOf(SdpMediaDescription media) => media.IcePwd ?? GetAttribute("ice-pwd");

    public string? FingerprintOf(SdpMediaDescription media) => media.Fingerprint ?? GetAttribute("fingerprint");

    public string? SetupOf(SdpMediaDescription media) => media.Setup ?? GetAttribute("setup");

    public string? GetAttribute(string name) => Attributes.FirstOrDefault(a => a.Name == name)?.Value;

    /// <summary>
    /// Parses SDP text (RFC 8866 §5): "&lt;type&gt;=&lt;value&gt;" lines, CRLF or LF; v=0 first, then o= and s=;
    /// every m= starts a media section. Never throws; on failure <paramref name="error"/> names the line.
    /// <code>
    /// v=0
    /// o=&lt;username&gt; &lt;sess-id&gt; &lt;sess-version&gt; IN IP4 &lt;address&gt;
    /// s=-
    /// t=0 0
    /// a=...                                 session attributes
    /// m=&lt;media&gt; &lt;port&gt; &lt;proto&gt; &lt;fmt&gt; ...     one per transceiver (Unified Plan)
    /// c=IN IP4 0.0.0.0
    /// a=...                                 media attributes
    /// </code>
    /// </summary>
    public static bool TryParse(string? text, out SessionDescription? description, out string? error)
    {
        description = null;
        error = null;
        if (string.IsNullOrEmpty(text))
        {
            error = "empty SDP";
            return false;
        }

        var sdp = new SessionDescription();
        SdpMediaDescription? media = null;
        var lineNumber = 0;
        bool sawOrigin = false, sawName = false;
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }

            if (line.Length < 2 || line[1] != '=' || !char.IsAsciiLetterLower(line[0]))
            {
                error = $"line {lineNumber}: expected <type>=<value>";
                return false;
            }

            var type = line[0];
            var value = line[2..];
            if (lineNumber == 1 && (type != 'v' || value != "0"))
            {
                error = "line 1: SDP must start with v=0";
                return false;
            }

            switch (type)
            {
                case 'v':
                    if (lineNumber != 1)
                    {
                        error = $"line {lineNumber}: v= may appear only first";
                        return false;
                    }

                    break;
                case 'o' when media is null:
                    sdp.Origin = value;
                    sawOrigin = true;
                    break;
                case 's' when media is null:
                    sdp.SessionName = value;
                    sawName = true;
                    break;
                case 'm':
                    var parts = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (parts.Length < 3 || !int.TryParse(parts[1].Split('/')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
                    {
                        error = $"line {lineNumber}: malformed m= line";
                        return false;
                    }

                    media = new SdpMediaDescription(parts[0], port, parts[2], parts[3..]);
                    sdp.Media.Add(media);
                    break;
                case 'a':
                    var attribute = SdpAttribute.Parse(value);
                    if (attribute.Name.Length == 0)
                    {
                        error = $"line {lineNumber}: empty attribute name";
                        return false;
                    }

                    (media?.Attributes ?? sdp.Attributes).Add(attribute);
                    break;
                default:
                    (media?.Lines ?? sdp.Lines).Add(new SdpLine(type, value));
                    break;
            }
        }

        if (!sawOrigin || !sawName)
        {
            error = "missing o= or s= line";
            return false;
        }

        description = sdp;
        return true;
    }

    /// <summary>Serialises with CRLF line endings (RFC 8866 §5).</summary>
    public override string ToString()
    {
        var sdp = new StringBuilder();
        sdp.Append("v=0\r\n");
        sdp.Append("o=").Append(Origin).Append("\r\n");
        sdp.Append("s=").Append(SessionName).Append("\r\n");
        foreach (var line in Lines)
        {
            sdp.Append(line.Type).Append('=').Append(line.Value).Append("\r\n");
        }

        foreach (var attribute in Attributes)
        {
            sdp.Append("a=").Append(attribute.ToString()).Append("\r\n");
        }

        foreach (var media in Media)
        {
            media.Write(sdp);
        }

        return sdp.ToString();
    }
}
