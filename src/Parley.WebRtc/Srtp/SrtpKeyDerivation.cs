namespace Parley.WebRtc.Srtp;

/// <summary>
/// The SRTP key derivation function (RFC 3711 §4.3) with a key derivation rate of 0, the only rate
/// DTLS-SRTP uses (RFC 5764 §4.1.2): keys are derived once per master key.
/// </summary>
internal static class SrtpKeyDerivation
{
    public const byte RtpEncryption = 0x00;
    public const byte RtpAuthentication = 0x01;
    public const byte RtpSalt = 0x02;
    public const byte RtcpEncryption = 0x03;
    public const byte RtcpAuthentication = 0x04;
    public const byte RtcpSalt = 0x05;

    /// <summary>
    /// Fills <paramref name="output"/> with AES-CM keystream under the master key, starting at
    /// x = (label × 2^48) XOR master_salt, shifted left 16 bits (RFC 3711 §4.3.1, §4.3.3). A 96-bit
    /// GCM salt is zero-extended to 112 bits first (RFC 7714 §11 reuses this KDF).
    /// </summary>
    public static void Derive(ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> masterSalt, byte label, Span<byte> output)
    {
        Span<byte> iv = stackalloc byte[16];
        iv.Clear();
        masterSalt.CopyTo(iv);
        iv[7] ^= label;
        output.Clear();
        using var ctr = new AesCounterMode(masterKey);
        ctr.Apply(iv, output);
    }
}
