using Parley.WebRtc.Srtp;

namespace Parley.WebRtc.Dtls;

/// <summary>
/// SRTP master keys exported from a DTLS handshake (RFC 5764 §4.2): the negotiated profile and each
/// side's key and salt, already assigned to "local" (what this endpoint sends with) and "remote".
/// </summary>
public sealed class SrtpKeyingMaterial
{
    internal SrtpKeyingMaterial(SrtpProfile profile, byte[] localKey, byte[] localSalt, byte[] remoteKey, byte[] remoteSalt)
    {
        Profile = profile;
        LocalMasterKey = localKey;
        LocalMasterSalt = localSalt;
        RemoteMasterKey = remoteKey;
        RemoteMasterSalt = remoteSalt;
    }

    public SrtpProfile Profile { get; }

    public byte[] LocalMasterKey { get; }

    public byte[] LocalMasterSalt { get; }

    public byte[] RemoteMasterKey { get; }

    public byte[] RemoteMasterSalt { get; }

    /// <summary>The context that protects what this endpoint sends.</summary>
    public SrtpContext CreateSendContext() => new(Profile, LocalMasterKey, LocalMasterSalt);

    /// <summary>The context that unprotects what the peer sends.</summary>
    public SrtpContext CreateReceiveContext() => new(Profile, RemoteMasterKey, RemoteMasterSalt);

    /// <summary>
    /// Splits the exporter output: client_write_key | server_write_key | client_write_salt |
    /// server_write_salt (RFC 5764 §4.2).
    /// </summary>
    internal static SrtpKeyingMaterial FromExport(SrtpProfile profile, byte[] material, bool isServer)
    {
        var keyLength = SrtpProfiles.MasterKeyLength(profile);
        var saltLength = SrtpProfiles.MasterSaltLength(profile);
        var clientKey = material.AsSpan(0, keyLength).ToArray();
        var serverKey = material.AsSpan(keyLength, keyLength).ToArray();
        var clientSalt = material.AsSpan(2 * keyLength, saltLength).ToArray();
        var serverSalt = material.AsSpan((2 * keyLength) + saltLength, saltLength).ToArray();
        return isServer
            ? new SrtpKeyingMaterial(profile, serverKey, serverSalt, clientKey, clientSalt)
            : new SrtpKeyingMaterial(profile, clientKey, clientSalt, serverKey, serverSalt);
    }

    internal static int ExportLength(SrtpProfile profile) =>
        2 * (SrtpProfiles.MasterKeyLength(profile) + SrtpProfiles.MasterSaltLength(profile));
}
