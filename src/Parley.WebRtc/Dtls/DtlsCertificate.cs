using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

namespace Parley.WebRtc.Dtls;

/// <summary>
/// The self-signed ECDSA P-256 certificate a DTLS endpoint presents, and its SDP fingerprint
/// (RFC 8122 §5, "sha-256 AB:CD:..."). P-256 keeps handshake records small (an RSA chain fragments
/// badly, interop notes) and SHA-256 signatures are what Chrome accepts.
/// </summary>
public sealed class DtlsCertificate
{
    private DtlsCertificate(byte[] der, AsymmetricKeyParameter privateKey)
    {
        Der = der;
        PrivateKey = privateKey;
        Fingerprint = ComputeFingerprint(der);
    }

    /// <summary>The certificate in DER.</summary>
    public byte[] Der { get; }

    /// <summary>"sha-256 " and the colon-separated upper-case hex of SHA-256(DER), as a=fingerprint carries it.</summary>
    public string Fingerprint { get; }

    internal AsymmetricKeyParameter PrivateKey { get; }

    /// <summary>Creates a fresh key pair and a certificate valid from yesterday for <paramref name="validity"/>.</summary>
    public static DtlsCertificate Generate(TimeSpan? validity = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=parley", key, HashAlgorithmName.SHA256);
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now + (validity ?? TimeSpan.FromDays(30)));
        var d = key.ExportParameters(includePrivateParameters: true).D!;
        var curve = ECNamedCurveTable.GetByName("P-256");
        var domain = new ECDomainParameters(curve.Curve, curve.G, curve.N, curve.H, curve.GetSeed());
        return new DtlsCertificate(certificate.RawData, new ECPrivateKeyParameters(new BigInteger(1, d), domain));
    }

    /// <summary>The a=fingerprint value of a DER certificate.</summary>
    public static string ComputeFingerprint(ReadOnlySpan<byte> der)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(der, hash);
        return "sha-256 " + Convert.ToHexString(hash).Chunk(2).Aggregate(new System.Text.StringBuilder(), (sb, pair) =>
            (sb.Length > 0 ? sb.Append(':') : sb).Append(pair)).ToString();
    }

    /// <summary>True when two a=fingerprint values name the same hash (case and spacing of the hex ignored).</summary>
    public static bool FingerprintsMatch(string expected, string actual)
    {
        static string Normalise(string value) => new string(value.Trim().Where(c => !char.IsWhiteSpace(c)).ToArray()).ToUpperInvariant();
        return Normalise(expected) == Normalise(actual);
    }

    internal Certificate ToTlsCertificate(BcTlsCrypto crypto) =>
        new([crypto.CreateCertificate(CertificateType.X509, Der)]);
}
