namespace Parley.WebRtc.Srtp;

/// <summary>
/// SRTP protection profiles, numbered as DTLS-SRTP negotiates them in use_srtp
/// (RFC 5764 §4.1.2 and RFC 7714 §14.2).
/// </summary>
public enum SrtpProfile
{
    /// <summary>SRTP_AES128_CM_HMAC_SHA1_80: mandatory for WebRTC (RFC 8827 §6.5).</summary>
    AesCm128HmacSha1_80 = 0x0001,

    /// <summary>SRTP_AEAD_AES_128_GCM (RFC 7714).</summary>
    AeadAes128Gcm = 0x0007,
}

/// <summary>Outcome of protecting or unprotecting one packet.</summary>
public enum SrtpResult
{
    Ok = 0,

    /// <summary>Not an RTP/RTCP packet, or too short for its header and tag.</summary>
    Malformed,

    /// <summary>The caller's buffer has no room for the authentication tag (protect only).</summary>
    BufferTooSmall,

    /// <summary>The tag did not verify: forged, damaged, or keyed differently.</summary>
    AuthenticationFailed,

    /// <summary>Already received, or older than the replay window (RFC 3711 §3.3.2).</summary>
    Replayed,
}

/// <summary>Key and overhead sizes of each profile.</summary>
public static class SrtpProfiles
{
    public static int MasterKeyLength(SrtpProfile profile) => 16;

    /// <summary>112 bits for AES-CM (RFC 3711 §8.2), 96 bits for AES-GCM (RFC 7714 §12).</summary>
    public static int MasterSaltLength(SrtpProfile profile) => profile == SrtpProfile.AeadAes128Gcm ? 12 : 14;

    /// <summary>Bytes SRTP adds to an RTP packet: the 80-bit HMAC tag or the 128-bit GCM tag.</summary>
    public static int RtpOverhead(SrtpProfile profile) => profile == SrtpProfile.AeadAes128Gcm ? 16 : 10;

    /// <summary>Bytes SRTCP adds: the tag plus the 4-byte E flag and SRTCP index.</summary>
    public static int RtcpOverhead(SrtpProfile profile) => RtpOverhead(profile) + 4;

    /// <summary>Whether this implementation supports <paramref name="profile"/>.</summary>
    public static bool IsSupported(SrtpProfile profile) => profile is SrtpProfile.AesCm128HmacSha1_80 or SrtpProfile.AeadAes128Gcm;
}
