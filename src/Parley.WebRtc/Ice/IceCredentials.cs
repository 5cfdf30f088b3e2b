using System.Security.Cryptography;
using System.Text;

namespace Parley.WebRtc.Ice;

/// <summary>
/// An ICE username fragment and password (RFC 8445 §5.3, syntax RFC 8839 §5.4). The password, as UTF-8,
/// is the MESSAGE-INTEGRITY key of short-term credentials (RFC 8489 §9.1.1).
/// </summary>
public sealed class IceCredentials
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    public IceCredentials(string ufrag, string pwd)
    {
        if (Sdp.SdpNegotiation.ValidateIceCredentials(ufrag, pwd) is { } error)
        {
            throw new ArgumentException(error, nameof(pwd));
        }

        Ufrag = ufrag;
        Pwd = pwd;
        UfragBytes = Encoding.ASCII.GetBytes(ufrag);
        PwdBytes = Encoding.ASCII.GetBytes(pwd);
    }

    public string Ufrag { get; }

    public string Pwd { get; }

    internal byte[] UfragBytes { get; }

    internal byte[] PwdBytes { get; }

    /// <summary>
    /// Random credentials: 8-character ufrag (48 bits) and 24-character pwd (144 bits), above the 24 and
    /// 128 bits of randomness RFC 8445 §5.3 asks for.
    /// </summary>
    public static IceCredentials Generate() =>
        new(RandomNumberGenerator.GetString(Alphabet, 8), RandomNumberGenerator.GetString(Alphabet, 24));
}
