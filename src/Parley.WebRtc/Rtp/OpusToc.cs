namespace Parley.WebRtc.Rtp;

public enum OpusMode
{
    Silk,
    Hybrid,
    Celt,
}

/// <summary>The table-of-contents byte of an Opus packet (RFC 6716 §3.1).</summary>
public readonly record struct OpusToc(int Config, bool Stereo, int FrameCountCode, int FrameCount, OpusMode Mode, int FrameDurationMicroseconds)
{
    /// <summary>Duration of the whole packet: frames × frame duration.</summary>
    public int PacketDurationMicroseconds => FrameCount * FrameDurationMicroseconds;

    /// <summary>
    /// Reads the TOC byte and, for code 3, the frame count byte. Never throws.
    /// <code>
    ///  0 1 2 3 4 5 6 7
    /// +-+-+-+-+-+-+-+-+
    /// | config  |s| c |     c = 0: 1 frame, 1 or 2: 2 frames, 3: count in the next byte
    /// +-+-+-+-+-+-+-+-+
    /// code 3 frame count byte:  |v|p|     M     |   (M = 1..48)
    /// </code>
    /// Config 0..11 are SILK (10/20/40/60 ms), 12..15 Hybrid (10/20 ms), 16..31 CELT (2.5/5/10/20 ms).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> payload, out OpusToc toc)
    {
        toc = default;
        if (payload.IsEmpty)
        {
            return false;
        }

        var config = payload[0] >> 3;
        var stereo = (payload[0] & 0x04) != 0;
        var code = payload[0] & 0x03;
        int frames;
        switch (code)
        {
            case 0:
                frames = 1;
                break;
            case 1:
            case 2:
                frames = 2;
                break;
            default:
                if (payload.Length < 2)
                {
                    return false;
                }

                frames = payload[1] & 0x3F;
                if (frames == 0)
                {
                    return false; // RFC 6716 §3.2.5: M must not be zero.
                }

                break;
        }

        OpusMode mode;
        int duration;
        if (config < 12)
        {
            mode = OpusMode.Silk;
            duration = (config & 3) switch { 0 => 10_000, 1 => 20_000, 2 => 40_000, _ => 60_000 };
        }
        else if (config < 16)
        {
            mode = OpusMode.Hybrid;
            duration = (config & 1) == 0 ? 10_000 : 20_000;
        }
        else
        {
            mode = OpusMode.Celt;
            duration = (config & 3) switch { 0 => 2_500, 1 => 5_000, 2 => 10_000, _ => 20_000 };
        }

        // RFC 6716 §3.2.5: a packet carries at most 120 ms of audio.
        if (frames * duration > 120_000)
        {
            return false;
        }

        toc = new OpusToc(config, stereo, code, frames, mode, duration);
        return true;
    }
}
