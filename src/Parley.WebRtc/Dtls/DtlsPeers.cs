using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;
using Parley.WebRtc.Srtp;

namespace Parley.WebRtc.Dtls;

/// <summary>What both DTLS roles share: cipher suites, the certificate, SRTP export, fingerprint check.</summary>
internal static class DtlsPeerSettings
{
    // ECDHE with ECDSA, AEAD only: what Chrome and Firefox offer first; P-256 certificates.
    public static readonly int[] CipherSuites =
    [
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ];

    public static TlsCredentialedSigner Signer(TlsContext context, BcTlsCrypto crypto, DtlsCertificate certificate) =>
        new BcDefaultTlsCredentialedSigner(
            new TlsCryptoParameters(context), crypto, certificate.PrivateKey, certificate.ToTlsCertificate(crypto),
            new SignatureAndHashAlgorithm(HashAlgorithm.sha256, SignatureAlgorithm.ecdsa));

    /// <summary>RFC 5763 §5: the peer's certificate must hash to the fingerprint its SDP announced.</summary>
    public static void CheckFingerprint(Certificate? certificate, string expected)
    {
        if (certificate is null || certificate.IsEmpty)
        {
            throw new TlsFatalAlert(AlertDescription.handshake_failure, "The peer sent no certificate.");
        }

        var actual = DtlsCertificate.ComputeFingerprint(certificate.GetCertificateAt(0).GetEncoded());
        if (!DtlsCertificate.FingerprintsMatch(expected, actual))
        {
            throw new TlsFatalAlert(AlertDescription.bad_certificate, "The certificate does not match the SDP fingerprint.");
        }
    }

    public static SrtpKeyingMaterial Export(TlsContext context, SrtpProfile profile, bool isServer)
    {
        var material = context.ExportKeyingMaterial(ExporterLabel.dtls_srtp, null, SrtpKeyingMaterial.ExportLength(profile));
        return SrtpKeyingMaterial.FromExport(profile, material, isServer);
    }
}

/// <summary>The server role (browser = DTLS client, a=setup:passive on our side).</summary>
internal sealed class DtlsServerPeer : DefaultTlsServer
{
    private readonly DtlsCertificate _certificate;
    private readonly string _remoteFingerprint;
    private readonly IReadOnlyList<SrtpProfile> _profiles;
    private readonly int _timeoutMillis;
    private SrtpProfile? _selected;

    public DtlsServerPeer(BcTlsCrypto crypto, DtlsCertificate certificate, string remoteFingerprint, IReadOnlyList<SrtpProfile> profiles, int timeoutMillis)
        : base(crypto)
    {
        _certificate = certificate;
        _remoteFingerprint = remoteFingerprint;
        _profiles = profiles;
        _timeoutMillis = timeoutMillis;
    }

    public SrtpKeyingMaterial? Keys { get; private set; }

    public short? AlertDescription { get; private set; }

    public override int GetHandshakeTimeoutMillis() => _timeoutMillis;

    public override bool RequiresExtendedMasterSecret() => true;

    protected override ProtocolVersion[] GetSupportedVersions() => ProtocolVersion.DTLSv12.Only();

    protected override int[] GetSupportedCipherSuites() => DtlsPeerSettings.CipherSuites;

    protected override TlsCredentialedSigner GetECDsaSignerCredentials() =>
        DtlsPeerSettings.Signer(m_context, (BcTlsCrypto)Crypto, _certificate);

    /// <summary>WebRTC authenticates both sides (RFC 8827 §6.5): always ask for the client's certificate.</summary>
    public override CertificateRequest GetCertificateRequest() =>
        new([ClientCertificateType.ecdsa_sign, ClientCertificateType.rsa_sign],
            TlsUtilities.GetDefaultSupportedSignatureAlgorithms(m_context), null);

    public override void NotifyClientCertificate(Certificate clientCertificate) =>
        DtlsPeerSettings.CheckFingerprint(clientCertificate, _remoteFingerprint);

    /// <summary>use_srtp (RFC 5764 §4.1.1): pick our first preferred profile the client offers.</summary>
    public override void ProcessClientExtensions(IDictionary<int, byte[]> clientExtensions)
    {
        base.ProcessClientExtensions(clientExtensions);
        var offered = TlsSrtpUtilities.GetUseSrtpExtension(clientExtensions)?.ProtectionProfiles ?? [];
        _selected = _profiles.Cast<SrtpProfile?>().FirstOrDefault(p => offered.Contains((int)p!.Value));
        if (_selected is null)
        {
            throw new TlsFatalAlert(Org.BouncyCastle.Tls.AlertDescription.handshake_failure, "No common SRTP protection profile.");
        }
    }

    public override IDictionary<int, byte[]> GetServerExtensions()
    {
        var extensions = base.GetServerExtensions() ?? new Dictionary<int, byte[]>();
        TlsSrtpUtilities.AddUseSrtpExtension(extensions, new UseSrtpData([(int)_selected!.Value], []));
        return extensions;
    }

    public override void NotifyHandshakeComplete()
    {
        base.NotifyHandshakeComplete();
        Keys = DtlsPeerSettings.Export(m_context, _selected!.Value, isServer: true);
    }

    public override void NotifyAlertRaised(short alertLevel, short alertDescription, string message, Exception cause) =>
        AlertDescription ??= alertDescription;

    public override void NotifyAlertReceived(short alertLevel, short alertDescription) =>
        AlertDescription ??= alertDescription;
}

/// <summary>The client role (a=setup:active on our side; what the native bot and load clients use).</summary>
internal sealed class DtlsClientPeer : DefaultTlsClient
{
    private readonly DtlsCertificate _certificate;
    private readonly string _remoteFingerprint;
    private readonly IReadOnlyList<SrtpProfile> _profiles;
    private readonly int _timeoutMillis;
    private SrtpProfile? _selected;

    public DtlsClientPeer(BcTlsCrypto crypto, DtlsCertificate certificate, string remoteFingerprint, IReadOnlyList<SrtpProfile> profiles, int timeoutMillis)
        : base(crypto)
    {
        _certificate = certificate;
        _remoteFingerprint = remoteFingerprint;
        _profiles = profiles;
        _timeoutMillis = timeoutMillis;
    }

    public SrtpKeyingMaterial? Keys { get; private set; }

    public short? AlertDescription { get; private set; }

    /// <summary>Grows the ClientHello with a padding extension (RFC 7685), to test fragmented ClientHellos.</summary>
    public int ClientHelloPadding { get; init; }

    public override int GetHandshakeTimeoutMillis() => _timeoutMillis;

    public override bool RequiresExtendedMasterSecret() => true;

    protected override ProtocolVersion[] GetSupportedVersions() => ProtocolVersion.DTLSv12.Only();

    protected override int[] GetSupportedCipherSuites() => DtlsPeerSettings.CipherSuites;

    public override IDictionary<int, byte[]> GetClientExtensions()
    {
        var extensions = base.GetClientExtensions() ?? new Dictionary<int, byte[]>();
        TlsSrtpUtilities.AddUseSrtpExtension(extensions, new UseSrtpData(_profiles.Select(p => (int)p).ToArray(), []));
        if (ClientHelloPadding > 0)
        {
            TlsExtensionsUtilities.AddPaddingExtension(extensions, ClientHelloPadding);
        }

        return extensions;
    }

    public override void ProcessServerExtensions(IDictionary<int, byte[]> serverExtensions)
    {
        base.ProcessServerExtensions(serverExtensions);
        var chosen = TlsSrtpUtilities.GetUseSrtpExtension(serverExtensions)?.ProtectionProfiles;
        if (chosen is not { Length: 1 } || !_profiles.Contains((SrtpProfile)chosen[0]))
        {
            throw new TlsFatalAlert(Org.BouncyCastle.Tls.AlertDescription.illegal_parameter, "The server chose no offered SRTP profile.");
        }

        _selected = (SrtpProfile)chosen[0];
    }

    public override TlsAuthentication GetAuthentication() => new Authentication(this);

    public override void NotifyHandshakeComplete()
    {
        base.NotifyHandshakeComplete();
        Keys = DtlsPeerSettings.Export(m_context, _selected!.Value, isServer: false);
    }

    public override void NotifyAlertRaised(short alertLevel, short alertDescription, string message, Exception cause) =>
        AlertDescription ??= alertDescription;

    public override void NotifyAlertReceived(short alertLevel, short alertDescription) =>
        AlertDescription ??= alertDescription;

    private sealed class Authentication(DtlsClientPeer owner) : TlsAuthentication
    {
        public void NotifyServerCertificate(TlsServerCertificate serverCertificate) =>
            DtlsPeerSettings.CheckFingerprint(serverCertificate.Certificate, owner._remoteFingerprint);

        public TlsCredentials GetClientCredentials(CertificateRequest certificateRequest) =>
            DtlsPeerSettings.Signer(owner.m_context, (BcTlsCrypto)owner.Crypto, owner._certificate);
    }
}
