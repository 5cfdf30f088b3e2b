using System.Buffers.Binary;

namespace Parley.WebRtc.Rtp;

/// <summary>URIs of the header extensions Parley negotiates (RFC 8285 §5 extmap).</summary>
public static class RtpExtensionUri
{
    public const string Mid = "urn:ietf:params:rtp-hdrext:sdes:mid";
    public const string Rid = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
    public const string RepairedRid = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
    public const string AbsSendTime = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
    public const string TransportWideCc = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
    public const string AudioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
}

/// <summary>
/// Encodings of individual extension values. mid (RFC 9143 §15), rid and repaired-rid (RFC 8852 §3) are
/// the identifier's ASCII bytes and need no helper beyond the span itself.
/// </summary>
public static class RtpExtensionValues
{
    /// <summary>
    /// abs-send-time: 24-bit fixed point 6.18 seconds (WebRTC abs-send-time spec): the low 6 bits of the
    /// seconds and 18 fraction bits. Returns the value in units of 1/2^18 s.
    /// </summary>
    public static bool TryReadAbsSendTime(ReadOnlySpan<byte> value, out uint sendTime24)
    {
        sendTime24 = 0;
        if (value.Length != 3)
        {
            return false;
        }

        sendTime24 = (uint)((value[0] << 16) | (value[1] << 8) | value[2]);
        return true;
    }

    /// <summary>Converts a time in microseconds to the 6.18 wire value (wrapping every 64 s).</summary>
    public static uint ToAbsSendTime(long microseconds) => (uint)(((microseconds << 18) + 500_000) / 1_000_000) & 0xFFFFFF;

    public static void WriteAbsSendTime(Span<byte> destination, uint sendTime24)
    {
        destination[0] = (byte)(sendTime24 >> 16);
        destination[1] = (byte)(sendTime24 >> 8);
        destination[2] = (byte)sendTime24;
    }

    /// <summary>transport-wide-cc: a 16-bit transport sequence number (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2).</summary>
    public static bool TryReadTransportSequenceNumber(ReadOnlySpan<byte> value, out ushort sequenceNumber)
    {
        sequenceNumber = 0;
        if (value.Length != 2)
        {
            return false;
        }

        sequenceNumber = BinaryPrimitives.ReadUInt16BigEndian(value);
        return true;
    }

    public static void WriteTransportSequenceNumber(Span<byte> destination, ushort sequenceNumber) =>
        BinaryPrimitives.WriteUInt16BigEndian(destination, sequenceNumber);

    /// <summary>
    /// ssrc-audio-level (RFC 6464 §3): one byte, voice-activity flag then the level in -dBov (0..127).
    /// <code>
    ///  0 1 2 3 4 5 6 7
    /// +-+-+-+-+-+-+-+-+
    /// |V|    level    |
    /// +-+-+-+-+-+-+-+-+
    /// </code>
    /// </summary>
    public static bool TryReadAudioLevel(ReadOnlySpan<byte> value, out bool voiceActivity, out byte level)
    {
        voiceActivity = false;
        level = 0;
        if (value.IsEmpty)
        {
            return false;
        }

        voiceActivity = (value[0] & 0x80) != 0;
        level = (byte)(value[0] & 0x7F);
        return true;
    }

    /// <summary>RFC 6464 §3: level 127 is -127 dBov, the value of digital silence.</summary>
    public const byte SilenceLevel = 127;

    public static byte EncodeAudioLevel(bool voiceActivity, byte level) => (byte)((voiceActivity ? 0x80 : 0) | (level & 0x7F));
}
