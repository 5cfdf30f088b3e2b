using System.Buffers.Binary;

namespace Parley.WebRtc.Rtp;

/// <summary>Key frame detection in H.264 RTP payloads (RFC 6184).</summary>
public static class H264Keyframe
{
    private const int NalIdr = 5;
    private const int NalSps = 7;
    private const int StapA = 24;
    private const int FuA = 28;

    /// <summary>
    /// True when the payload starts a key frame: an IDR slice or an SPS, sent as a single NAL unit
    /// (types 1..23), inside a STAP-A aggregate (type 24), or as the first fragment of an FU-A (type 28).
    /// A receiver that sees this can start decoding; an SFU uses it to finish a layer switch. Never throws.
    /// <code>
    /// NAL header (RFC 6184 §1.3):       STAP-A (§5.7.1): header, then repeated
    /// +---------------+                  +-------------------------------+----------+
    /// |0|1|2|3|4|5|6|7|                  |       NALU size (16 bits)     | NAL unit |
    /// +-+-+-+-+-+-+-+-+                  +-------------------------------+----------+
    /// |F|NRI|  Type   |                  FU-A (§5.8): FU indicator, then FU header
    /// +---------------+                  +---------------+  |S|E|R|  Type   |
    /// </code>
    /// </summary>
    public static bool IsKeyframe(ReadOnlySpan<byte> payload)
    {
        if (payload.IsEmpty)
        {
            return false;
        }

        var type = payload[0] & 0x1F;
        switch (type)
        {
            case NalIdr:
            case NalSps:
                return true;
            case StapA:
                var offset = 1;
                while (offset + 2 <= payload.Length)
                {
                    var size = BinaryPrimitives.ReadUInt16BigEndian(payload[offset..]);
                    offset += 2;
                    if (size == 0 || offset + size > payload.Length)
                    {
                        return false;
                    }

                    var inner = payload[offset] & 0x1F;
                    if (inner is NalIdr or NalSps)
                    {
                        return true;
                    }

                    offset += size;
                }

                return false;
            case FuA:
                if (payload.Length < 2)
                {
                    return false;
                }

                var fuHeader = payload[1];
                var start = (fuHeader & 0x80) != 0;
                var fuType = fuHeader & 0x1F;
                return start && fuType is NalIdr or NalSps;
            default:
                return false;
        }
    }
}
