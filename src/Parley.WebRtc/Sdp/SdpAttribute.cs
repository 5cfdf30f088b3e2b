namespace Parley.WebRtc.Sdp;

/// <summary>One "a=" line (RFC 8866 §5.13): a name and, for value attributes, the text after the colon.</summary>
public sealed record SdpAttribute(string Name, string? Value)
{
    public override string ToString() => Value is null ? Name : $"{Name}:{Value}";

    /// <summary>Splits "name:value" or a bare "name" (property attribute).</summary>
    public static SdpAttribute Parse(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? new SdpAttribute(text, null) : new SdpAttribute(text[..colon], text[(colon + 1)..]);
    }
}

/// <summary>a=rtpmap (RFC 8866 §6.6): payload type, encoding name, clock rate, optional channels.</summary>
public sealed record SdpRtpMap(int PayloadType, string Encoding, int ClockRate, int? Channels)
{
    public override string ToString() => Channels is null
        ? $"{PayloadType} {Encoding}/{ClockRate}"
        : $"{PayloadType} {Encoding}/{ClockRate}/{Channels}";

    public static SdpRtpMap? TryParse(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var space = value.IndexOf(' ', StringComparison.Ordinal);
        if (space < 0 || !int.TryParse(value.AsSpan(0, space), out var pt))
        {
            return null;
        }

        var parts = value[(space + 1)..].Split('/');
        if (parts.Length is < 2 or > 3 || parts[0].Length == 0 || !int.TryParse(parts[1], out var clock))
        {
            return null;
        }

        int? channels = null;
        if (parts.Length == 3)
        {
            if (!int.TryParse(parts[2], out var c))
            {
                return null;
            }

            channels = c;
        }

        return new SdpRtpMap(pt, parts[0], clock, channels);
    }
}

/// <summary>a=extmap (RFC 8285 §8): local id, optional direction, URI, optional attributes.</summary>
public sealed record SdpExtmap(int Id, string? Direction, string Uri, string? Attributes)
{
    public override string ToString() =>
        (Direction is null ? $"{Id}" : $"{Id}/{Direction}") + $" {Uri}" + (Attributes is null ? string.Empty : $" {Attributes}");

    public static SdpExtmap? TryParse(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var parts = value.Split(' ', 3);
        if (parts.Length < 2)
        {
            return null;
        }

        var idPart = parts[0];
        string? direction = null;
        var slash = idPart.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            direction = idPart[(slash + 1)..];
            idPart = idPart[..slash];
        }

        return int.TryParse(idPart, out var id) && id is >= 1 and <= 255
            ? new SdpExtmap(id, direction, parts[1], parts.Length == 3 ? parts[2] : null)
            : null;
    }
}

/// <summary>a=ssrc (RFC 5576 §4.1): SSRC, attribute name, optional value (cname, msid).</summary>
public sealed record SdpSsrc(uint Ssrc, string Attribute, string? Value)
{
    public override string ToString() => Value is null ? $"{Ssrc} {Attribute}" : $"{Ssrc} {Attribute}:{Value}";

    public static SdpSsrc? TryParse(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var space = value.IndexOf(' ', StringComparison.Ordinal);
        if (space < 0 || !uint.TryParse(value.AsSpan(0, space), out var ssrc))
        {
            return null;
        }

        var attribute = SdpAttribute.Parse(value[(space + 1)..]);
        return new SdpSsrc(ssrc, attribute.Name, attribute.Value);
    }
}

/// <summary>a=ssrc-group (RFC 5576 §4.2), for example FID (RTX) or SIM.</summary>
public sealed record SdpSsrcGroup(string Semantics, IReadOnlyList<uint> Ssrcs)
{
    public override string ToString() => $"{Semantics} {string.Join(' ', Ssrcs)}";

    public static SdpSsrcGroup? TryParse(string? value)
    {
        var parts = value?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts is null || parts.Length < 2)
        {
            return null;
        }

        var ssrcs = new List<uint>();
        foreach (var part in parts.Skip(1))
        {
            if (!uint.TryParse(part, out var ssrc))
            {
                return null;
            }

            ssrcs.Add(ssrc);
        }

        return new SdpSsrcGroup(parts[0], ssrcs);
    }
}

/// <summary>a=rid (RFC 8851 §4): stream id, direction (send/recv), optional restrictions.</summary>
public sealed record SdpRid(string Id, string Direction, string? Restrictions)
{
    public override string ToString() => Restrictions is null ? $"{Id} {Direction}" : $"{Id} {Direction} {Restrictions}";

    public static SdpRid? TryParse(string? value)
    {
        var parts = value?.Split(' ', 3);
        return parts is null || parts.Length < 2 || parts[1] is not ("send" or "recv")
            ? null
            : new SdpRid(parts[0], parts[1], parts.Length == 3 ? parts[2] : null);
    }
}
