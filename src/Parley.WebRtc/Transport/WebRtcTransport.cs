using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.WebRtc.Dtls;
using Parley.WebRtc.Ice;
using Parley.WebRtc.Srtp;

namespace Parley.WebRtc.Transport;

/// <summary>A decrypted RTP or RTCP packet; the span is valid only during the call.</summary>
public delegate void PacketHandler(ReadOnlySpan<byte> packet);

/// <summary>Settings of one transport. Server side: <see cref="RemoteUfrag"/>; client side: <see cref="RemoteIce"/> and candidates.</summary>
public sealed record WebRtcTransportOptions
{
    public required IceCredentials LocalIce { get; init; }

    public required DtlsCertificate Certificate { get; init; }

    /// <summary>The peer's a=fingerprint.</summary>
    public required string RemoteFingerprint { get; init; }

    /// <summary>Server: the browser's ice-ufrag from its offer (null accepts any).</summary>
    public string? RemoteUfrag { get; init; }

    /// <summary>Client: the server's ice-ufrag and ice-pwd.</summary>
    public IceCredentials? RemoteIce { get; init; }

    /// <summary>Client: the server's host candidates.</summary>
    public IReadOnlyList<IPEndPoint> RemoteCandidates { get; init; } = [];

    public DtlsOptions Dtls { get; init; } = new();

    /// <summary>
    /// Our DTLS role when it differs from the default (ICE-lite server = DTLS server, client = DTLS client):
    /// a browser answering our offer with a=setup:passive makes us the DTLS client on a server transport.
    /// </summary>
    public DtlsRole? DtlsRole { get; init; }

    /// <summary>Where ICE/DTLS state changes and failures are logged; nothing by default.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>Server: how long without a valid check before consent is lost (RFC 7675 §5.1; 30 s).</summary>
    public TimeSpan ConsentTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// One peer's ICE + DTLS-SRTP transport over a (possibly shared) <see cref="UdpSocketLoop"/>: the server
/// side answers checks as ICE-lite and is DTLS server; the client side checks as controlling agent and
/// is DTLS client. After <see cref="ConnectAsync"/>, <see cref="SendRtp"/> and <see cref="SendRtcp"/>
/// protect in place and send, and incoming SRTP/SRTCP is unprotected in the socket buffer and raised
/// through <see cref="RtpReceived"/> and <see cref="RtcpReceived"/> without allocating.
/// </summary>
public sealed class WebRtcTransport : IDatagramHandler, IDisposable
{
    private readonly UdpSocketLoop _socket;
    private readonly WebRtcTransportOptions _options;
    private readonly bool _isServer;
    private readonly DtlsRole _dtlsRole;
    private readonly IceLiteAgent? _lite;
    private readonly IceControllingAgent? _controlling;
    private readonly DtlsEndpoint _dtls;
    private readonly Lock _iceLock = new();
    private readonly Lock _sendLock = new();
    private readonly TaskCompletionSource _iceConnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile SocketAddress? _remote;
    private SrtpContext? _sendContext;
    private volatile SrtpContext? _receiveContext;
    private long _srtpDrops;
    private volatile bool _disposed;

    private WebRtcTransport(UdpSocketLoop socket, WebRtcTransportOptions options, bool isServer)
    {
        _socket = socket;
        _options = options;
        _isServer = isServer;
        if (isServer)
        {
            _lite = new IceLiteAgent(options.LocalIce, options.RemoteUfrag) { ConsentTimeout = options.ConsentTimeout };
            _lite.StateChanged += OnIceState;
        }
        else
        {
            _controlling = new IceControllingAgent(options.LocalIce, options.RemoteIce!, options.RemoteCandidates);
            _controlling.StateChanged += OnIceState;
        }

        _dtlsRole = options.DtlsRole ?? (isServer ? Dtls.DtlsRole.Server : Dtls.DtlsRole.Client);
        _dtls = new DtlsEndpoint(_dtlsRole, options.Certificate, options.RemoteFingerprint, SendDtls, options.Dtls);
    }

    public IceConnectionState IceState => _lite?.State ?? _controlling!.State;

    public DtlsState DtlsState => _dtls.State;

    public SrtpProfile? Profile { get; private set; }

    internal int DtlsClientHelloFragments => _dtls.ClientHelloFragments;

    internal IceLiteAgent? LiteAgent => _lite;

    internal IceControllingAgent? ControllingAgent => _controlling;

    /// <summary>SRTP/SRTCP packets dropped: failed authentication, replays, malformed.</summary>
    public long SrtpDrops => Interlocked.Read(ref _srtpDrops);

    public event PacketHandler? RtpReceived;

    /// <summary>ICE state changes, including Disconnected when consent expires (raised under the ICE lock).</summary>
    public event Action<IceConnectionState>? IceStateChanged;

    public event PacketHandler? RtcpReceived;

    /// <summary>A transport answering a browser (or Parley client) on a shared server socket.</summary>
    public static WebRtcTransport CreateServer(UdpSocketLoop socket, WebRtcTransportOptions options)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(options);
        var transport = new WebRtcTransport(socket, options, isServer: true);
        socket.Router.AddUfrag(options.LocalIce.Ufrag, transport);
        return transport;
    }

    /// <summary>A client transport; it takes every datagram its own socket receives.</summary>
    public static WebRtcTransport CreateClient(UdpSocketLoop socket, WebRtcTransportOptions options)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(options);
        if (options.RemoteIce is null || options.RemoteCandidates.Count == 0)
        {
            throw new ArgumentException("A client needs the server's ICE credentials and candidates.", nameof(options));
        }

        var transport = new WebRtcTransport(socket, options, isServer: false);
        socket.DefaultHandler = transport;
        return transport;
    }

    /// <summary>Completes when ICE is connected and DTLS has produced SRTP keys.</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        // A DTLS server waits for the ClientHello from the start: a browser may send it right after its
        // first successful check, before nominating.
        var handshake = _dtlsRole == Dtls.DtlsRole.Server ? _dtls.HandshakeAsync(cancellationToken) : null;
        if (_isServer)
        {
            _ = KeepConsentAsync(cancellationToken);
        }
        else
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
            while (!_iceConnected.Task.IsCompleted)
            {
                lock (_iceLock)
                {
                    _controlling!.Poll(SendStun);
                    if (_controlling.State == IceConnectionState.Disconnected)
                    {
                        WebRtcLog.ConnectFailed(_options.Logger, _options.LocalIce.Ufrag, "no ICE candidate answered");
                        throw new TimeoutException("ICE: no candidate answered.");
                    }
                }

                await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false);
            }

            _ = KeepConsentAsync(cancellationToken);
        }

        SrtpKeyingMaterial keys;
        try
        {
            await _iceConnected.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            handshake ??= _dtls.HandshakeAsync(cancellationToken);
            keys = await handshake.ConfigureAwait(false);
        }
        catch (Exception e) when (e is DtlsHandshakeException or TimeoutException or OperationCanceledException)
        {
            WebRtcLog.ConnectFailed(_options.Logger, _options.LocalIce.Ufrag, e.Message);
            throw;
        }

        WebRtcLog.DtlsConnected(_options.Logger, _options.LocalIce.Ufrag, keys.Profile);
        Profile = keys.Profile;
        lock (_sendLock)
        {
            _sendContext = keys.CreateSendContext();
        }

        _receiveContext = keys.CreateReceiveContext();
    }

    /// <summary>
    /// ICE restart (RFC 8445 §9), DTLS and SRTP untouched. Server (ICE-lite): answer checks with
    /// <paramref name="local"/> from now on and keep the old credentials until the peer uses the new
    /// ones. Client: check the server again with both sides' new credentials
    /// (<paramref name="remote"/> and <paramref name="remoteCandidates"/> required).
    /// </summary>
    public void RestartIce(IceCredentials local, string? remoteUfrag, IceCredentials? remote = null, IReadOnlyList<IPEndPoint>? remoteCandidates = null)
    {
        ArgumentNullException.ThrowIfNull(local);
        lock (_iceLock)
        {
            if (_lite is not null)
            {
                _lite.Restart(local, remoteUfrag);
            }
            else
            {
                ArgumentNullException.ThrowIfNull(remote);
                ArgumentNullException.ThrowIfNull(remoteCandidates);
                _controlling!.Restart(local, remote, remoteCandidates);
            }
        }

        if (_lite is not null)
        {
            _socket.Router.AddUfrag(local.Ufrag, this);
        }
    }

    /// <summary>Server: the peer's ufrag for the current credentials, from the answer to our restart offer.</summary>
    public void SetRemoteUfrag(string? remoteUfrag)
    {
        lock (_iceLock)
        {
            _lite?.SetRemoteUfrag(remoteUfrag);
        }
    }

    /// <summary>Protects the RTP packet in <paramref name="buffer"/>[..<paramref name="length"/>] in place and sends it.</summary>
    public SrtpResult SendRtp(Span<byte> buffer, int length) => Send(buffer, length, rtcp: false);

    public SrtpResult SendRtcp(Span<byte> buffer, int length) => Send(buffer, length, rtcp: true);

    public void HandleDatagram(Span<byte> datagram, SocketAddress from)
    {
        switch (PacketDemultiplexer.Inspect(datagram))
        {
            case PacketKind.Stun:
                HandleStun(datagram, from);
                break;
            case PacketKind.Dtls:
                if (_remote is { } remote && remote.Equals(from))
                {
                    _dtls.Deliver(datagram);
                }

                break;
            case PacketKind.Rtp:
            case PacketKind.Rtcp:
                HandleSrtp(datagram, from);
                break;
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _dtls.Dispose();
        _lite?.Close();
        _socket.Router.Remove(this);
        if (ReferenceEquals(_socket.DefaultHandler, this))
        {
            _socket.DefaultHandler = null;
        }

        lock (_sendLock)
        {
            _sendContext?.Dispose();
            _sendContext = null;
        }
    }

    private SrtpResult Send(Span<byte> buffer, int length, bool rtcp)
    {
        var remote = _remote;
        if (remote is null)
        {
            return SrtpResult.Malformed;
        }

        int protectedLength;
        SrtpResult result;
        lock (_sendLock)
        {
            if (_sendContext is null)
            {
                return SrtpResult.Malformed;
            }

            result = rtcp
                ? _sendContext.ProtectRtcp(buffer, length, out protectedLength)
                : _sendContext.ProtectRtp(buffer, length, out protectedLength);
        }

        if (result == SrtpResult.Ok)
        {
            _socket.Send(buffer[..protectedLength], remote);
        }

        return result;
    }

    private void HandleStun(Span<byte> datagram, SocketAddress from)
    {
        var endPoint = ToEndPoint(from);
        lock (_iceLock)
        {
            if (_lite is not null)
            {
                Span<byte> response = stackalloc byte[IceLiteAgent.MaxResponseLength];
                var outcome = _lite.ProcessStun(datagram, endPoint, response, out var length);
                if (length > 0)
                {
                    _socket.Send(response[..length], from);
                }

                if (outcome == IceCheckOutcome.Success)
                {
                    // Media from a checked address routes here by address from now on.
                    _socket.Router.AddAddress(from, this);
                    if (_lite.SelectedEndPoint is { } selected)
                    {
                        _remote = selected.Serialize();
                    }
                    else
                    {
                        _remote ??= endPoint.Serialize();
                    }
                }
            }
            else if (_controlling!.ProcessStun(datagram, endPoint))
            {
                if (_controlling.SelectedEndPoint is { } selected && (_remote is null || !_remote.Equals(from)))
                {
                    _remote = selected.Serialize(); // first nomination, or a restart that moved to another address
                }
            }
            else
            {
                // Not a response to us: perhaps the server's own check (full ICE, or Janus), which wants an answer.
                Span<byte> response = stackalloc byte[IceLiteAgent.MaxResponseLength];
                _controlling.AnswerCheck(datagram, endPoint, response, out var length);
                if (length > 0)
                {
                    _socket.Send(response[..length], from);
                }
            }
        }
    }

    private void HandleSrtp(Span<byte> datagram, SocketAddress from)
    {
        var context = _receiveContext;
        if (context is null || _remote is not { } remote || !remote.Equals(from))
        {
            Interlocked.Increment(ref _srtpDrops);
            return;
        }

        var isRtcp = PacketDemultiplexer.Inspect(datagram) == PacketKind.Rtcp;
        var result = isRtcp ? context.UnprotectRtcp(datagram, out var length) : context.UnprotectRtp(datagram, out length);
        if (result != SrtpResult.Ok)
        {
            var total = Interlocked.Increment(ref _srtpDrops);
            if (_options.Logger.IsEnabled(LogLevel.Debug))
            {
                WebRtcLog.SrtpDropped(_options.Logger, _options.LocalIce.Ufrag, result, total);
            }

            return;
        }

        (isRtcp ? RtcpReceived : RtpReceived)?.Invoke(datagram[..length]);
    }

    private void SendDtls(ReadOnlyMemory<byte> datagram)
    {
        if (_remote is { } remote)
        {
            _socket.Send(datagram.Span, remote);
        }
    }

    private void SendStun(ReadOnlyMemory<byte> request, IPEndPoint to) => _socket.Send(request.Span, to.Serialize());

    /// <summary>
    /// Consent (RFC 7675): the client keeps sending checks; the server notices when they stop
    /// (<see cref="IceLiteAgent.CheckConsent"/>, 30 s) and reports Disconnected through <see cref="IceStateChanged"/>.
    /// </summary>
    private async Task KeepConsentAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false) && !_disposed)
            {
                lock (_iceLock)
                {
                    if (_lite is not null)
                    {
                        _lite.CheckConsent();
                    }
                    else
                    {
                        _controlling!.Poll(SendStun);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void OnIceState(IceConnectionState state)
    {
        WebRtcLog.IceState(_options.Logger, _options.LocalIce.Ufrag, state);
        if (state == IceConnectionState.Connected)
        {
            _iceConnected.TrySetResult();
        }

        IceStateChanged?.Invoke(state);
    }

    private IPEndPoint ToEndPoint(SocketAddress address) =>
        (IPEndPoint)new IPEndPoint(address.Family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0).Create(address);
}
