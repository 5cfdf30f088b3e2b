using System.Buffers.Binary;
using System.Globalization;
using Parley.WebRtc.Rtp;
using Parley.WebRtc.Sdp;

namespace Parley.Bots.Adapters.Native;

/// <summary>
/// Unwraps RTX retransmissions (RFC 4588 §4) on the subscribe connection before they reach a
/// <see cref="Recording.TrackRecorder"/>. When the publisher (Chromium) negotiated RTX, the SFU offers it to
/// subscribers too (a=rtpmap rtx + fmtp apt, a=ssrc-group:FID media rtx) and answers the bot's NACKs on the RTX
/// SSRC with the RTX payload type. Handed to the jitter buffer as is, such a packet looks like a new stream
/// (another SSRC, a sequence number from another space) and resets the track; unwrapped it fills the gap.
/// Built from the SFU's subscribe offer (the remote description), rebuilt on every renegotiation.
/// </summary>
internal sealed class SubscribeRtxRepair
{
    private readonly Dictionary<string, Section> _byMid;

    private SubscribeRtxRepair(Dictionary<string, Section> byMid)
    {
        _byMid = byMid;
    }

    public static SubscribeRtxRepair Empty { get; } = new([]);

    /// <summary>Mids that carry RTX.</summary>
    public IReadOnlyCollection<string> Mids => _byMid.Keys;

    public static SubscribeRtxRepair FromOffer(SessionDescription? offer)
    {
        var byMid = new Dictionary<string, Section>(StringComparer.Ordinal);
        foreach (var media in offer?.Media ?? [])
        {
            if (media.Mid is not { } mid)
            {
                continue;
            }

            var apt = new Dictionary<byte, byte>();
            foreach (var map in media.RtpMaps)
            {
                if (map.Encoding.Equals("rtx", StringComparison.OrdinalIgnoreCase)
                    && media.GetFormatParameters(map.PayloadType) is { } fmtp
                    && fmtp.Split(';').Select(p => p.Trim()).FirstOrDefault(p => p.StartsWith("apt=", StringComparison.Ordinal)) is { } text
                    && byte.TryParse(text.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var original)
                    && map.PayloadType is >= 0 and < 128)
                {
                    apt[(byte)map.PayloadType] = original;
                }
            }

            if (apt.Count == 0)
            {
                continue;
            }

            // RFC 4588 §8.3 / RFC 5576 §4.2: "a=ssrc-group:FID media rtx".
            var mediaByRtx = new Dictionary<uint, uint>();
            foreach (var group in media.SsrcGroups)
            {
                if (group.Semantics == "FID" && group.Ssrcs.Count == 2)
                {
                    mediaByRtx[group.Ssrcs[1]] = group.Ssrcs[0];
                }
            }

            byMid[mid] = new Section(apt, mediaByRtx);
        }

        return new SubscribeRtxRepair(byMid);
    }

    /// <summary>
    /// Whether <paramref name="packet"/> (of the section <paramref name="mid"/>) is RTX: then <paramref name="length"/>
    /// bytes of <paramref name="destination"/> hold the original packet (payload type, SSRC and sequence number
    /// restored), or 0 when it carries nothing to restore (a padding-only probe, a malformed packet): drop it.
    /// </summary>
    /// <param name="fallbackMediaSsrc">The media SSRC when the offer had no FID group (the track's SSRC), 0 if unknown.</param>
    public bool TryUnwrap(string mid, ReadOnlySpan<byte> packet, uint fallbackMediaSsrc, Span<byte> destination, out int length)
    {
        length = 0;
        if (packet.Length < 12 || !_byMid.TryGetValue(mid, out var section))
        {
            return false;
        }

        var payloadType = (byte)(packet[1] & 0x7F);
        if (!section.Apt.TryGetValue(payloadType, out var original))
        {
            return false;
        }

        var ssrc = BinaryPrimitives.ReadUInt32BigEndian(packet[8..]);
        var mediaSsrc = section.MediaSsrcByRtxSsrc.TryGetValue(ssrc, out var known) ? known : fallbackMediaSsrc;
        if (mediaSsrc == 0 || !Rtx.TryDecapsulate(packet, destination, original, mediaSsrc, out length))
        {
            length = 0;
        }

        return true;
    }

    private sealed record Section(Dictionary<byte, byte> Apt, Dictionary<uint, uint> MediaSsrcByRtxSsrc);
}
