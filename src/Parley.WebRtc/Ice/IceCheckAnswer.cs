using System.Net;
using Parley.WebRtc.Stun;

namespace Parley.WebRtc.Ice;

/// <summary>
/// What both agents do with a peer's Binding request (RFC 8445 §7.3): match USERNAME against our
/// credentials and write the success or error response. Shared by the lite server agent and the
/// controlling client agent, which answers the checks of full-ICE servers.
/// </summary>
internal static class IceCheckAnswer
{
    /// <summary>USERNAME is "localUfrag:remoteUfrag" from our side (RFC 8445 §7.2.2); a null remote ufrag accepts any.</summary>
    public static bool Matches(ReadOnlySpan<byte> username, IceCredentials local, string? remoteUfrag)
    {
        var colon = username.IndexOf((byte)':');
        if (colon < 0 || !username[..colon].SequenceEqual(local.UfragBytes))
        {
            return false;
        }

        if (remoteUfrag is null)
        {
            return true;
        }

        var remote = username[(colon + 1)..];
        if (remote.Length != remoteUfrag.Length)
        {
            return false;
        }

        for (var i = 0; i < remote.Length; i++)
        {
            if (remote[i] != remoteUfrag[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>RFC 8445 §7.3.1.4: the success response reflects the source address, authenticated with our password.</summary>
    public static int WriteSuccess(Span<byte> response, StunMessage request, IPEndPoint remote, IceCredentials local)
    {
        var builder = new StunMessageBuilder(response, StunMessageType.BindingSuccessResponse, request.TransactionId);
        builder.AddXorMappedAddress(remote.Address, remote.Port);
        builder.AddMessageIntegrity(local.PwdBytes);
        builder.AddFingerprint();
        return builder.Length;
    }

    /// <summary>Error responses carry no MESSAGE-INTEGRITY: the request was not authenticated (RFC 8489 §9.1.3).</summary>
    public static int WriteError(Span<byte> response, StunMessage request, int code, string reason)
    {
        var builder = new StunMessageBuilder(response, StunMessageType.BindingErrorResponse, request.TransactionId);
        builder.AddErrorCode(code, reason);
        builder.AddFingerprint();
        return builder.Length;
    }
}
