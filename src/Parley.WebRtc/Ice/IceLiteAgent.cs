using System.Net;
using Parley.WebRtc.Stun;

namespace Parley.WebRtc.Ice;

public enum IceConnectionState
{
    New,

    /// <summary>A check was answered, none nominated yet.</summary>
    Checking,

    /// <summary>A tuple was nominated by USE-CANDIDATE and consent is fresh.</summary>
    Connected,

    /// <summary>No valid check for the consent timeout (RFC 7675 §5.1).</summary>
    Disconnected,

    Closed,
}

/// <summary>What <see cref="IceLiteAgent.ProcessStun"/> did with a datagram.</summary>
public enum IceCheckOutcome
{
    /// <summary>Not a STUN message; route it elsewhere.</summary>
    NotStun,

    /// <summary>A STUN indication or response, or another method: nothing to answer (RFC 8445 §11 keepalives).</summary>
    Ignored,

    /// <summary>Dropped without an answer: bad FINGERPRINT, or the agent is closed.</summary>
    Dropped,

    /// <summary>A 400 error response was written (no FINGERPRINT, USERNAME or MESSAGE-INTEGRITY).</summary>
    BadRequest,

    /// <summary>A 401 error response was written (unknown username or wrong MESSAGE-INTEGRITY).</summary>
    Unauthorized,

    /// <summary>A success response was written; the sender's address is validated.</summary>
    Success,
}

/// <summary>
/// The ICE-lite side a server runs (RFC 8445 §2.5, §7.3): it never sends checks, answers the browser's
/// Binding requests after verifying FINGERPRINT, USERNAME and MESSAGE-INTEGRITY, learns the browser's
/// address from them, and uses the tuple the browser nominates with USE-CANDIDATE (a later nomination
/// switches). During an ICE restart the previous credentials stay valid until a check arrives with the
/// new ones. Consent (RFC 7675): no valid check within <see cref="ConsentTimeout"/> means disconnected.
/// Not thread-safe: the socket loop that owns the transport drives it.
/// </summary>
public sealed class IceLiteAgent
{
    /// <summary>Response buffers must hold a success with an IPv6 XOR-MAPPED-ADDRESS (20+24+24+8 bytes) or an error.</summary>
    public const int MaxResponseLength = 128;

    private readonly TimeProvider _time;
    private readonly HashSet<IPEndPoint> _validated = [];
    private IceCredentials? _previous;
    private string? _previousRemoteUfrag;
    private long _lastConsent;

    public IceLiteAgent(IceCredentials local, string? remoteUfrag = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(local);
        Local = local;
        RemoteUfrag = remoteUfrag;
        _time = time ?? TimeProvider.System;
    }

    public IceCredentials Local { get; private set; }

    /// <summary>The browser's ufrag from its SDP; when null, any remote part of USERNAME is accepted.</summary>
    public string? RemoteUfrag { get; private set; }

    /// <summary>30 s, mediasoup's default and RFC 7675's recommendation.</summary>
    public TimeSpan ConsentTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public IceConnectionState State { get; private set; }

    /// <summary>The nominated remote address: where to send DTLS, RTP and RTCP.</summary>
    public IPEndPoint? SelectedEndPoint { get; private set; }

    /// <summary>Every address that passed a check; media from these is accepted.</summary>
    public IReadOnlyCollection<IPEndPoint> ValidatedEndPoints => _validated;

    public event Action<IceConnectionState>? StateChanged;

    /// <summary>
    /// Handles one datagram from <paramref name="remote"/>. When the outcome is BadRequest, Unauthorized
    /// or Success, <paramref name="response"/>[..<paramref name="responseLength"/>] is to be sent back to
    /// <paramref name="remote"/>. Never throws on datagram content.
    /// </summary>
    public IceCheckOutcome ProcessStun(ReadOnlySpan<byte> datagram, IPEndPoint remote, Span<byte> response, out int responseLength)
    {
        ArgumentNullException.ThrowIfNull(remote);
        responseLength = 0;
        if (!StunMessage.TryParse(datagram, out var request))
        {
            return IceCheckOutcome.NotStun;
        }

        if (request.Method != StunMethod.Binding || request.Class != StunClass.Request)
        {
            return IceCheckOutcome.Ignored;
        }

        if (State == IceConnectionState.Closed)
        {
            return IceCheckOutcome.Dropped;
        }

        if (!request.HasFingerprint)
        {
            responseLength = IceCheckAnswer.WriteError(response, request, 400, "Bad Request");
            return IceCheckOutcome.BadRequest;
        }

        if (!request.VerifyFingerprint())
        {
            return IceCheckOutcome.Dropped; // RFC 8489 §7.3: not a STUN message after all
        }

        if (!request.HasUsername || !request.HasMessageIntegrity)
        {
            responseLength = IceCheckAnswer.WriteError(response, request, 400, "Bad Request");
            return IceCheckOutcome.BadRequest;
        }

        var credentials = Match(request.Username, out var usedPrevious);
        if (credentials is null || !request.VerifyMessageIntegrity(credentials.PwdBytes))
        {
            responseLength = IceCheckAnswer.WriteError(response, request, 401, "Unauthorized");
            return IceCheckOutcome.Unauthorized;
        }

        if (!usedPrevious && _previous is not null)
        {
            // The browser moved to the restarted credentials: the old ones end here.
            _previous = null;
            _previousRemoteUfrag = null;
        }

        // An ICE-lite agent is always controlled. A request carrying ICE-CONTROLLED would be a role
        // conflict (RFC 8445 §7.3.1.1), but Chrome sends it at times (libwebrtc bug 7478): answer anyway.
        responseLength = IceCheckAnswer.WriteSuccess(response, request, remote, credentials);

        _lastConsent = _time.GetTimestamp();
        _validated.Add(remote);
        if (request.UseCandidate)
        {
            SelectedEndPoint = remote;
            SetState(IceConnectionState.Connected);
        }
        else if (State is IceConnectionState.New)
        {
            SetState(IceConnectionState.Checking);
        }
        else if (State is IceConnectionState.Disconnected && SelectedEndPoint is not null)
        {
            SetState(IceConnectionState.Connected); // consent came back on the nominated tuple
        }

        return IceCheckOutcome.Success;
    }

    /// <summary>True when media from <paramref name="remote"/> may be accepted (it passed a check).</summary>
    public bool IsValidated(IPEndPoint remote) => _validated.Contains(remote);

    /// <summary>
    /// ICE restart (RFC 8445 §9): new local credentials (and the browser's new ufrag), keeping the old
    /// ones valid until the browser checks with the new ones.
    /// </summary>
    public void Restart(IceCredentials local, string? remoteUfrag)
    {
        ArgumentNullException.ThrowIfNull(local);
        _previous = Local;
        _previousRemoteUfrag = RemoteUfrag;
        Local = local;
        RemoteUfrag = remoteUfrag;
    }

    /// <summary>
    /// Learns the peer's ufrag for the current credentials: after our own restart offer, the answer
    /// brings it (until then any remote part was accepted).
    /// </summary>
    public void SetRemoteUfrag(string? remoteUfrag) => RemoteUfrag = remoteUfrag;

    /// <summary>Call periodically (every second or so): moves to Disconnected when consent has expired.</summary>
    public void CheckConsent()
    {
        if (State is IceConnectionState.Checking or IceConnectionState.Connected
            && _time.GetElapsedTime(_lastConsent) > ConsentTimeout)
        {
            SetState(IceConnectionState.Disconnected);
        }
    }

    public void Close() => SetState(IceConnectionState.Closed);

    /// <summary>USERNAME is "localUfrag:remoteUfrag" from our side (RFC 8445 §7.2.2).</summary>
    private IceCredentials? Match(ReadOnlySpan<byte> username, out bool usedPrevious)
    {
        usedPrevious = false;
        if (IceCheckAnswer.Matches(username, Local, RemoteUfrag))
        {
            return Local;
        }

        if (_previous is not null && IceCheckAnswer.Matches(username, _previous, _previousRemoteUfrag))
        {
            usedPrevious = true;
            return _previous;
        }

        return null;
    }

    private void SetState(IceConnectionState state)
    {
        if (State == state || State == IceConnectionState.Closed)
        {
            return;
        }

        State = state;
        StateChanged?.Invoke(state);
    }
}
