using System.Buffers.Binary;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.WebRtc.Dtls;
using Parley.WebRtc.Ice;
using Parley.WebRtc.Rtcp;
using Parley.WebRtc.Rtp;
using Parley.WebRtc.Sdp;
using Parley.WebRtc.Srtp;

namespace Parley.WebRtc.Transport;

public enum PeerConnectionState
{
    New,
    Connecting,
    Connected,
    Disconnected,
    Failed,
    Closed,
}

/// <summary>
/// Which negotiated stream an SSRC carries: the transceiver's mid, and for simulcast the layer's rid
/// (RFC 8852); <see cref="IsRepair"/> when the SSRC carries retransmissions for that rid (repaired-rid).
/// </summary>
public sealed record RtpStreamInfo(string? Mid, string? Rid, bool IsRepair);

/// <summary>An incoming RTP packet and the stream it belongs to (null while nothing identifies it).</summary>
public delegate void RtpPacketHandler(RtpStreamInfo? stream, ReadOnlySpan<byte> packet);

public sealed record PeerConnectionOptions
{
    /// <summary>
    /// The socket. A server shares one among many peers (ICE-lite, routed by ufrag, then address); a
    /// client uses its own (full ICE, controlling).
    /// </summary>
    public required UdpSocketLoop Socket { get; init; }

    public required bool IsServer { get; init; }

    public DtlsCertificate? Certificate { get; init; }

    public IceCredentials? Ice { get; init; }

    public IReadOnlyList<SrtpProfile> Profiles { get; init; } = [SrtpProfile.AeadAes128Gcm, SrtpProfile.AesCm128HmacSha1_80];

    /// <summary>Codecs accepted when answering (RTX follows its codec).</summary>
    public IReadOnlyCollection<string> Codecs { get; init; } = ["opus", "VP8", "H264"];

    /// <summary>The address put in our host candidate (ANNOUNCED_IP); the socket's own address by default.</summary>
    public string? AnnouncedAddress { get; init; }

    /// <summary>
    /// The answer's direction for an offered sendrecv section: an SFU's publish connection only receives
    /// ("recvonly"); an endpoint that also sends answers "sendrecv".
    /// </summary>
    public string AnswerDirection { get; init; } = "sendrecv";

    /// <summary>Server: ICE consent timeout (RFC 7675); the connection goes Disconnected after it.</summary>
    public TimeSpan ConsentTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public ILogger Logger { get; init; } = NullLogger.Instance;
}

/// <summary>
/// One remote peer (issue 5 item 8): offer/answer on top of <see cref="WebRtcTransport"/>. A server
/// answers browser offers (ICE-lite, DTLS passive) or makes offers (ICE-lite, actpass) and takes the
/// answer; a client (the native bot, the load tool) does the same as a full ICE controlling agent and
/// DTLS client. The DTLS role chosen by the first negotiation is kept for every later one.
/// Incoming RTP is tagged with its transceiver's mid and simulcast rid (from the MID/RID extensions,
/// latched per SSRC, or from a=ssrc lines).
/// </summary>
public sealed class PeerConnection : IDisposable
{
    private readonly PeerConnectionOptions _options;
    private readonly DtlsCertificate _certificate;
    private IceCredentials _ice;
    private string? _remoteUfrag;
    private readonly Dictionary<uint, RtpStreamInfo> _streamBySsrc = [];
    private readonly Lock _midLock = new();
    private readonly byte[] _rtcpBuffer = new byte[64];
    private WebRtcTransport? _transport;
    private SessionDescription? _pendingOffer;
    private int _midExtensionId;
    private int _ridExtensionId;
    private int _repairedRidExtensionId;
    private DtlsRole _ownRole;
    private long _offerVersion;

    public PeerConnection(PeerConnectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _certificate = options.Certificate ?? DtlsCertificate.Generate();
        _ice = options.Ice ?? IceCredentials.Generate();
    }

    public PeerConnectionState State { get; private set; }

    public SessionDescription? LocalDescription { get; private set; }

    public SessionDescription? RemoteDescription { get; private set; }

    public SrtpProfile? Profile => _transport?.Profile;

    internal WebRtcTransport? Transport => _transport;

    /// <summary>The SSRC our RTCP feedback is sent from.</summary>
    public uint RtcpSenderSsrc { get; init; } = 1;

    public event Action<PeerConnectionState>? StateChanged;

    public event RtpPacketHandler? RtpReceived;

    public event PacketHandler? RtcpReceived;

    /// <summary>Answers a remote offer; returns the answer SDP. Throws <see cref="ArgumentException"/> for an unusable offer.</summary>
    public string AcceptOffer(string offerSdp)
    {
        var offer = Parse(offerSdp);
        var first = offer.Media.FirstOrDefault(m => m.Port != 0) ?? throw new ArgumentException("The offer has no media.", nameof(offerSdp));
        // An answerer that already has a transport keeps its DTLS role; a fresh one picks RFC 5763's
        // default for its side: the server waits (passive), the client dials (active).
        // A new remote ufrag on a running transport is an ICE restart (RFC 8445 §9.1.1.1): we answer with
        // fresh credentials; a server keeps accepting the old ones until the browser moves over.
        var offeredUfrag = offer.IceUfragOf(first);
        var restart = _transport is not null && offeredUfrag != _remoteUfrag;
        if (restart)
        {
            _ice = IceCredentials.Generate();
        }

        var setup = _transport is null
            ? (_options.IsServer ? "passive" : "active")
            : (_ownRole == DtlsRole.Server ? "passive" : "active");
        if (!SdpNegotiation.TryCreateAnswer(offer, new SdpAnswerOptions
        {
            IceUfrag = _ice.Ufrag,
            IcePwd = _ice.Pwd,
            Fingerprint = _certificate.Fingerprint,
            Setup = setup,
            IceLite = _options.IsServer,
            Candidates = [SdpCandidate.Host(CandidateEndPoint).ToString()],
            Codecs = _options.Codecs,
            AnswerToSendRecv = _options.AnswerDirection,
        }, out var answer, out var error))
        {
            throw new ArgumentException(error, nameof(offerSdp));
        }

        RemoteDescription = offer;
        LocalDescription = answer;
        EnsureTransport(offer, first, setup == "passive" ? DtlsRole.Server : DtlsRole.Client);
        if (restart)
        {
            var remotePwd = offer.IcePwdOf(first);
            _transport!.RestartIce(
                _ice,
                offeredUfrag,
                offeredUfrag is null || remotePwd is null ? null : new IceCredentials(offeredUfrag, remotePwd),
                Candidates(first));
        }

        _remoteUfrag = offeredUfrag;
        return answer!.ToString();
    }

    /// <summary>
    /// Makes an offer with these sections (a=setup:actpass); complete it with <see cref="AcceptAnswer"/>.
    /// <paramref name="iceRestart"/> puts fresh ICE credentials in it (RFC 8445 §9); a server keeps
    /// answering the old ones until the peer moves over.
    /// </summary>
    public string CreateOffer(IReadOnlyList<SdpOfferSection> sections, bool iceRestart = false)
    {
        if (iceRestart && _transport is not null)
        {
            _ice = IceCredentials.Generate();
            if (_options.IsServer)
            {
                // The peer's new ufrag comes with its answer; until then any remote part is accepted.
                _transport.RestartIce(_ice, remoteUfrag: null);
            }
        }

        _pendingOffer = SdpOffer.Create(new SdpOfferOptions
        {
            IceUfrag = _ice.Ufrag,
            IcePwd = _ice.Pwd,
            Fingerprint = _certificate.Fingerprint,
            IceLite = _options.IsServer,
            Candidates = [SdpCandidate.Host(CandidateEndPoint).ToString()],
            // RFC 8866 §5.2 / JSEP §5.2.2: every new offer of the session increases the version.
            SessionVersion = (ulong)Interlocked.Increment(ref _offerVersion),
        }, sections);
        return _pendingOffer.ToString();
    }

    /// <summary>Takes the answer to our last offer. Throws <see cref="ArgumentException"/> when it does not fit.</summary>
    public void AcceptAnswer(string answerSdp)
    {
        var offer = _pendingOffer ?? throw new InvalidOperationException("No offer is pending.");
        var answer = Parse(answerSdp);
        if (SdpOffer.ValidateAnswer(offer, answer) is { } error)
        {
            throw new ArgumentException(error, nameof(answerSdp));
        }

        var first = answer.Media.First(m => m.Port != 0);
        var role = answer.SetupOf(first) == "active" ? DtlsRole.Server : DtlsRole.Client;
        var answeredUfrag = answer.IceUfragOf(first);
        if (_transport is not null && answeredUfrag != _remoteUfrag)
        {
            if (_options.IsServer)
            {
                _transport.SetRemoteUfrag(answeredUfrag);
            }
            else
            {
                // The answer to our ICE-restart offer: check again with both new credential sets.
                var pwd = answer.IcePwdOf(first);
                _transport.RestartIce(_ice, answeredUfrag, answeredUfrag is null || pwd is null ? null : new IceCredentials(answeredUfrag, pwd), Candidates(first));
            }
        }

        if (_transport is not null && role != _ownRole)
        {
            throw new ArgumentException("The answer flips the DTLS role of an established transport.", nameof(answerSdp));
        }

        LocalDescription = offer;
        RemoteDescription = answer;
        _pendingOffer = null;
        _remoteUfrag = answeredUfrag;
        EnsureTransport(answer, first, role);
    }

    /// <summary>Runs ICE and DTLS; completes when media can flow.</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        var transport = _transport ?? throw new InvalidOperationException("Negotiate first (AcceptOffer or CreateOffer + AcceptAnswer).");
        SetState(PeerConnectionState.Connecting);
        try
        {
            await transport.ConnectAsync(cancellationToken).ConfigureAwait(false);
            SetState(PeerConnectionState.Connected);
        }
        catch (Exception e) when (e is DtlsHandshakeException or TimeoutException or OperationCanceledException)
        {
            SetState(PeerConnectionState.Failed);
            throw;
        }
    }

    public SrtpResult SendRtp(Span<byte> buffer, int length) => _transport?.SendRtp(buffer, length) ?? SrtpResult.Malformed;

    public SrtpResult SendRtcp(Span<byte> buffer, int length) => _transport?.SendRtcp(buffer, length) ?? SrtpResult.Malformed;

    /// <summary>Asks the sender of <paramref name="mediaSsrc"/> for a key frame with a PLI (RFC 4585 §6.3.1).</summary>
    public SrtpResult RequestKeyframe(uint mediaSsrc)
    {
        lock (_rtcpBuffer)
        {
            var length = RtcpPli.Write(_rtcpBuffer, RtcpSenderSsrc, mediaSsrc);
            return SendRtcp(_rtcpBuffer, length);
        }
    }

    public void Dispose()
    {
        _transport?.Dispose();
        SetState(PeerConnectionState.Closed);
    }

    private System.Net.IPEndPoint CandidateEndPoint => _options.AnnouncedAddress is { } announced
        ? new System.Net.IPEndPoint(System.Net.IPAddress.Parse(announced), _options.Socket.LocalEndPoint.Port)
        : _options.Socket.LocalEndPoint;

    /// <summary>UDP component-1 candidates with an IP address, highest priority first.</summary>
    private static List<System.Net.IPEndPoint> Candidates(SdpMediaDescription media) =>
        media.Candidates.Select(SdpCandidate.TryParse)
            .Where(c => c is { Transport: "udp", Component: 1 }).OrderByDescending(c => c!.Priority)
            .Select(c => c!.EndPoint).OfType<System.Net.IPEndPoint>().ToList();

    private static SessionDescription Parse(string sdp) =>
        SessionDescription.TryParse(sdp, out var description, out var error)
            ? description!
            : throw new ArgumentException("Bad SDP: " + error, nameof(sdp));

    private void EnsureTransport(SessionDescription remote, SdpMediaDescription first, DtlsRole role)
    {
        LearnMids(remote);
        if (_transport is not null)
        {
            return; // renegotiation: same transport, same role
        }

        var remoteFingerprint = remote.FingerprintOf(first) ?? throw new ArgumentException("The remote description has no fingerprint.");
        var remoteUfrag = remote.IceUfragOf(first);
        var remotePwd = remote.IcePwdOf(first);
        _ownRole = role;
        var transportOptions = new WebRtcTransportOptions
        {
            LocalIce = _ice,
            Certificate = _certificate,
            RemoteFingerprint = remoteFingerprint,
            RemoteUfrag = remoteUfrag,
            RemoteIce = _options.IsServer || remoteUfrag is null || remotePwd is null ? null : new IceCredentials(remoteUfrag, remotePwd),
            RemoteCandidates = Candidates(first),
            Dtls = new DtlsOptions { Profiles = _options.Profiles },
            DtlsRole = role,
            Logger = _options.Logger,
            ConsentTimeout = _options.ConsentTimeout,
        };
        _transport = _options.IsServer
            ? WebRtcTransport.CreateServer(_options.Socket, transportOptions)
            : WebRtcTransport.CreateClient(_options.Socket, transportOptions);
        _transport.RtpReceived += OnRtp;
        _transport.RtcpReceived += packet => RtcpReceived?.Invoke(packet);
        _transport.IceStateChanged += state =>
        {
            if (state == IceConnectionState.Disconnected && State == PeerConnectionState.Connected)
            {
                SetState(PeerConnectionState.Disconnected);
            }
            else if (state == IceConnectionState.Connected && State == PeerConnectionState.Disconnected)
            {
                SetState(PeerConnectionState.Connected);
            }
        };
    }

    /// <summary>The negotiated MID/RID extension ids and the SSRCs the remote side announced per mid.</summary>
    private void LearnMids(SessionDescription remote)
    {
        lock (_midLock)
        {
            foreach (var media in remote.Media)
            {
                if (media.Mid is not { } mid)
                {
                    continue;
                }

                var rtx = media.SsrcGroups.Where(g => g.Semantics == "FID" && g.Ssrcs.Count == 2).Select(g => g.Ssrcs[1]).ToHashSet();
                foreach (var ssrc in media.Ssrcs)
                {
                    _streamBySsrc[ssrc.Ssrc] = new RtpStreamInfo(mid, null, rtx.Contains(ssrc.Ssrc));
                }

                foreach (var extmap in media.Extmaps)
                {
                    switch (extmap.Uri)
                    {
                        case RtpExtensionUri.Mid:
                            _midExtensionId = extmap.Id;
                            break;
                        case RtpExtensionUri.Rid:
                            _ridExtensionId = extmap.Id;
                            break;
                        case RtpExtensionUri.RepairedRid:
                            _repairedRidExtensionId = extmap.Id;
                            break;
                    }
                }
            }
        }
    }

    private void OnRtp(ReadOnlySpan<byte> packet)
    {
        RtpStreamInfo? stream;
        var ssrc = BinaryPrimitives.ReadUInt32BigEndian(packet[8..]);
        lock (_midLock)
        {
            if ((!_streamBySsrc.TryGetValue(ssrc, out stream) || stream.Mid is null) && RtpPacket.TryParse(packet, out var rtp))
            {
                // Latch on the first packet that names its stream: libwebrtc stops sending MID and RID
                // once it gets receiver reports for the SSRC (interop notes).
                var mid = Extension(rtp, _midExtensionId);
                var rid = Extension(rtp, _ridExtensionId);
                var repaired = Extension(rtp, _repairedRidExtensionId);
                if (mid is not null)
                {
                    stream = new RtpStreamInfo(mid, rid ?? repaired, repaired is not null);
                    _streamBySsrc[ssrc] = stream;
                }
            }
        }

        RtpReceived?.Invoke(stream, packet);
    }

    private static string? Extension(RtpPacket rtp, int id) =>
        id != 0 && rtp.TryGetExtension(id, out var value) && !value.IsEmpty ? Encoding.ASCII.GetString(value) : null;

    private void SetState(PeerConnectionState state)
    {
        if (State != state && State != PeerConnectionState.Closed)
        {
            State = state;
            StateChanged?.Invoke(state);
        }
    }
}
