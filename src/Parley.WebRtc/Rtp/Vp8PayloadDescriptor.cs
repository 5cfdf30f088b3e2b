using System.Buffers.Binary;

namespace Parley.WebRtc.Rtp;

/// <summary>The VP8 payload descriptor (RFC 7741 §4.2) of one RTP packet.</summary>
public readonly record struct Vp8PayloadDescriptor(
    int Length,
    bool StartOfPartition,
    int PartitionIndex,
    bool NonReference,
    bool HasPictureId,
    int PictureId,
    bool PictureIdIs15Bit,
    bool HasTl0PicIdx,
    byte Tl0PicIdx,
    bool HasTemporalLayer,
    byte TemporalLayerId,
    bool LayerSync,
    bool HasKeyIndex,
    byte KeyIndex,
    bool IsKeyframe)
{
    /// <summary>
    /// Parses the descriptor at the start of a VP8 RTP payload. <see cref="IsKeyframe"/> is true on the
    /// first packet of a key frame: S=1, partition 0, and the P bit of the VP8 payload header is 0
    /// (RFC 7741 §4.3, RFC 6386 §9.1). Never throws.
    /// <code>
    ///       0 1 2 3 4 5 6 7
    ///      +-+-+-+-+-+-+-+-+
    ///      |X|R|N|S|R| PID | (REQUIRED)
    ///      +-+-+-+-+-+-+-+-+
    /// X:   |I|L|T|K| RSV   | (OPTIONAL)
    ///      +-+-+-+-+-+-+-+-+
    /// I:   |M| PictureID   | (OPTIONAL, M=1: 15-bit picture id in two bytes)
    ///      +-+-+-+-+-+-+-+-+
    ///      |   PictureID   |
    ///      +-+-+-+-+-+-+-+-+
    /// L:   |   TL0PICIDX   | (OPTIONAL)
    ///      +-+-+-+-+-+-+-+-+
    /// T/K: |TID|Y| KEYIDX  | (OPTIONAL)
    ///      +-+-+-+-+-+-+-+-+
    /// </code>
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> payload, out Vp8PayloadDescriptor descriptor)
    {
        descriptor = default;
        if (payload.IsEmpty)
        {
            return false;
        }

        var b0 = payload[0];
        var offset = 1;
        bool hasPictureId = false, is15 = false, hasTl0 = false, hasT = false, hasK = false, sync = false;
        int pictureId = 0;
        byte tl0 = 0, tid = 0, keyIdx = 0;
        if ((b0 & 0x80) != 0)
        {
            if (payload.Length < 2)
            {
                return false;
            }

            var x = payload[1];
            offset = 2;
            hasPictureId = (x & 0x80) != 0;
            hasTl0 = (x & 0x40) != 0;
            hasT = (x & 0x20) != 0;
            hasK = (x & 0x10) != 0;
            if (hasPictureId)
            {
                if (payload.Length < offset + 1)
                {
                    return false;
                }

                if ((payload[offset] & 0x80) != 0)
                {
                    if (payload.Length < offset + 2)
                    {
                        return false;
                    }

                    is15 = true;
                    pictureId = BinaryPrimitives.ReadUInt16BigEndian(payload[offset..]) & 0x7FFF;
                    offset += 2;
                }
                else
                {
                    pictureId = payload[offset] & 0x7F;
                    offset++;
                }
            }

            if (hasTl0)
            {
                if (payload.Length < offset + 1)
                {
                    return false;
                }

                tl0 = payload[offset++];
            }

            if (hasT || hasK)
            {
                if (payload.Length < offset + 1)
                {
                    return false;
                }

                var tk = payload[offset++];
                tid = (byte)(tk >> 6);
                sync = (tk & 0x20) != 0;
                keyIdx = (byte)(tk & 0x1F);
            }
        }

        var start = (b0 & 0x10) != 0;
        var partition = b0 & 0x07;
        // The VP8 payload header follows the descriptor; its lowest bit is the inverse key frame flag.
        var keyframe = start && partition == 0 && payload.Length > offset && (payload[offset] & 0x01) == 0;
        descriptor = new Vp8PayloadDescriptor(
            offset, start, partition, (b0 & 0x20) != 0, hasPictureId, pictureId, is15, hasTl0, tl0,
            hasT, tid, sync, hasK, keyIdx, keyframe);
        return true;
    }
}
