using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Parley.WebRtc.Rtcp;
using Parley.WebRtc.Rtp;
using Parley.WebRtc.Sdp;
using Parley.WebRtc.Srtp;
using Parley.WebRtc.Transport;

namespace Parley.Sfu.Client;

/// <summary>RTP of a subscribed track: the track, the stream the packet was tagged with, the decrypted packet.</summary>
public delegate void SubscribedRtpHandler(SubscribedTrack track, ReadOnlySpan<byte> packet);

/// <summary>What to publish.</summary>
public sealed record PublishOptions
{
    public bool Audio { get; init; } = true;

    public bool Video { get; init; } = true;

    /// <summary>Simulcast layers of the video, lowest first (for example q, h, f); empty for one stream.</summary>
    public IReadOnlyList<string> SimulcastRids { get; init; } = [];

    public string AudioSource { get; init; } = "microphone";

    /// <summary>camera or screen.</summary>
    public string VideoSource { get; init; } = "camera";
}

/// <summary>
/// What the publish connection sends: mids, the SSRCs this client uses (one per simulcast layer), payload
/// types and the header extension ids the SFU accepted (0 when not negotiated). Extension ids follow the
/// interop notes: mid 1, rid 2, abs-send-time 4, transport-wide-cc 5, audio level 10.
/// </summary>
public sealed record LocalPublication
{
    public const int MidExtension = 1;
    public const int RidExtension = 2;
    public const int AbsSendTimeExtension = 4;
    public const int TransportCcExtension = 5;
    public const int AudioLevelExtension = 10;

    public string? AudioMid { get; init; }

    public string? VideoMid { get; init; }

    public uint AudioSsrc { get; init; }

    /// <summary>One SSRC per layer, lowest first (one entry without simulcast).</summary>
    public IReadOnlyList<uint> VideoSsrcs { get; init; } = [];

    public IReadOnlyList<string> Rids { get; init; } = [];

    public int AudioPayloadType { get; init; } = 111;

    public int VideoPayloadType { get; init; } = 96;

    public int AudioMidExtensionId { get; init; }

    public int AudioLevelExtensionId { get; init; }

    public int AudioTransportCcExtensionId { get; init; }

    public int AudioAbsSendTimeExtensionId { get; init; }

    public int VideoMidExtensionId { get; init; }

    public int VideoRidExtensionId { get; init; }

    public int VideoTransportCcExtensionId { get; init; }

    public int VideoAbsSendTimeExtensionId { get; init; }
}

/// <summary>The two peer connections of the participant (docs/signaling.md).</summary>
public sealed partial class MeetingClient
{
    private readonly Lock _mediaLock = new();
    private readonly TaskCompletionSource _subscribeConnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private UdpSocketLoop? _publishSocket;
    private UdpSocketLoop? _subscribeSocket;
    private volatile Dictionary<string, SubscribedTrack> _tracksByMid = new(StringComparer.Ordinal);
    private bool _subscribeConnecting;

    /// <summary>The publish connection once <see cref="PublishAsync"/> ran (this client offers).</summary>
    public PeerConnection? PublishConnection { get; private set; }

    /// <summary>The subscribe connection once the first subscribe_offer came (the SFU offers).</summary>
    public PeerConnection? SubscribeConnection { get; private set; }

    public LocalPublication? Publication { get; private set; }

    /// <summary>The tracks we receive now, by mid.</summary>
    public IReadOnlyCollection<SubscribedTrack> SubscribedTracks => _tracksByMid.Values;

    /// <summary>Completes when the subscribe connection is connected (ICE + DTLS); faults when it fails.</summary>
    public Task SubscribeConnected => _subscribeConnected.Task;

    /// <summary>RTP of a subscribed track, decrypted (socket thread; no allocation on the way).</summary>
    public event SubscribedRtpHandler? RtpReceived;

    /// <summary>RTP on the subscribe connection that no offered section names (should not happen).</summary>
    public event RtpPacketHandler? UnknownRtpReceived;

    /// <summary>RTCP from the SFU on the subscribe connection (sender reports).</summary>
    public event PacketHandler? SubscribeRtcpReceived;

    /// <summary>RTCP from the SFU on the publish connection (receiver reports, NACK, PLI, FIR, transport-cc, REMB).</summary>
    public event PacketHandler? PublishRtcpReceived;

    /// <summary>The SFU asks for a key frame of one of our SSRCs (PLI or FIR on the publish connection).</summary>
    public event Action<uint>? KeyframeRequested;

    /// <summary>
    /// The subscribe connection was renegotiated (after our subscribe_answer): all tracks now, those
    /// added, those removed.
    /// </summary>
    public event Action<IReadOnlyCollection<SubscribedTrack>, IReadOnlyList<SubscribedTrack>, IReadOnlyList<SubscribedTrack>>? SubscriptionChanged;

    /// <summary>
    /// Publishes audio (Opus) and/or video (VP8, simulcast when rids are given) on the publish connection:
    /// offer, `publish` with the tracks, `publish_answer`, then ICE + DTLS. A second call renegotiates.
    /// Send media afterwards with <see cref="SendRtp"/>.
    /// </summary>
    public async Task<LocalPublication> PublishAsync(PublishOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (ParticipantId is null)
        {
            throw new InvalidOperationException("Join first.");
        }

        if (!options.Audio && !options.Video)
        {
            throw new ArgumentException("Publish audio, video or both.", nameof(options));
        }

        var connection = PublishConnection;
        if (connection is null)
        {
            _publishSocket = new UdpSocketLoop(new IPEndPoint(_options.LocalAddress, 0));
            _publishSocket.Start();
            connection = new PeerConnection(new PeerConnectionOptions { Socket = _publishSocket, IsServer = false, Logger = _options.Logger });
            connection.RtcpReceived += OnPublishRtcp;
            PublishConnection = connection;
        }

        var audioSsrc = Publication?.AudioSsrc ?? RandomSsrc();
        var layers = Math.Max(1, options.SimulcastRids.Count);
        var videoSsrcs = Publication?.VideoSsrcs.Count == layers ? Publication.VideoSsrcs : Enumerable.Range(0, layers).Select(_ => RandomSsrc()).ToList();
        var sections = new List<SdpOfferSection>();
        var tracks = new List<Dictionary<string, string>>();
        var cname = ParticipantId;
        // Mids stay "0" (audio) and "1" (video) for the session; a section not wanted now is inactive.
        sections.Add(new SdpOfferSection("audio", "0", options.Audio ? "sendonly" : "inactive", [SdpCodec.Opus()])
        {
            Extensions =
            [
                new SdpExtmap(LocalPublication.MidExtension, null, RtpExtensionUri.Mid, null),
                new SdpExtmap(LocalPublication.AbsSendTimeExtension, null, RtpExtensionUri.AbsSendTime, null),
                new SdpExtmap(LocalPublication.TransportCcExtension, null, RtpExtensionUri.TransportWideCc, null),
                new SdpExtmap(LocalPublication.AudioLevelExtension, null, RtpExtensionUri.AudioLevel, null),
            ],
            Sources = options.Audio ? [new SdpSource(audioSsrc, cname, cname, cname + "-audio")] : [],
        });
        if (options.Audio)
        {
            tracks.Add(new() { ["mid"] = "0", ["kind"] = "audio", ["source"] = options.AudioSource });
        }

        if (options.Video || Publication?.VideoMid is not null)
        {
            sections.Add(new SdpOfferSection("video", "1", options.Video ? "sendonly" : "inactive", [SdpCodec.Vp8()])
            {
                Extensions =
                [
                    new SdpExtmap(LocalPublication.MidExtension, null, RtpExtensionUri.Mid, null),
                    new SdpExtmap(LocalPublication.RidExtension, null, RtpExtensionUri.Rid, null),
                    new SdpExtmap(LocalPublication.AbsSendTimeExtension, null, RtpExtensionUri.AbsSendTime, null),
                    new SdpExtmap(LocalPublication.TransportCcExtension, null, RtpExtensionUri.TransportWideCc, null),
                ],
                Sources = options.Video && options.SimulcastRids.Count == 0 ? [new SdpSource(videoSsrcs[0], cname, cname, cname + "-video")] : [],
                SendRids = options.Video ? options.SimulcastRids : [],
            });
            if (options.Video)
            {
                tracks.Add(new() { ["mid"] = "1", ["kind"] = "video", ["source"] = options.VideoSource });
            }
        }

        var offer = connection.CreateOffer(sections);
        var answer = await RequestAsync(new Dictionary<string, object?> { ["type"] = "publish", ["sdp"] = offer, ["tracks"] = tracks }, cancellationToken).ConfigureAwait(false)
            ?? throw new MeetingClientException("INVALID_SDP", "publish_answer without sdp.");
        try
        {
            connection.AcceptAnswer(answer);
        }
        catch (ArgumentException e)
        {
            throw new MeetingClientException("INVALID_SDP", "The SFU's publish answer does not fit our offer: " + e.Message);
        }

        var remote = connection.RemoteDescription!;
        int Extension(string mid, string uri) =>
            remote.Media.FirstOrDefault(m => m.Mid == mid && m.Port != 0)?.Extmaps.FirstOrDefault(e => e.Uri == uri)?.Id ?? 0;
        Publication = new LocalPublication
        {
            AudioMid = options.Audio ? "0" : null,
            VideoMid = options.Video ? "1" : null,
            AudioSsrc = audioSsrc,
            VideoSsrcs = videoSsrcs,
            Rids = options.SimulcastRids,
            AudioMidExtensionId = Extension("0", RtpExtensionUri.Mid),
            AudioLevelExtensionId = Extension("0", RtpExtensionUri.AudioLevel),
            AudioTransportCcExtensionId = Extension("0", RtpExtensionUri.TransportWideCc),
            AudioAbsSendTimeExtensionId = Extension("0", RtpExtensionUri.AbsSendTime),
            VideoMidExtensionId = Extension("1", RtpExtensionUri.Mid),
            VideoRidExtensionId = Extension("1", RtpExtensionUri.Rid),
            VideoTransportCcExtensionId = Extension("1", RtpExtensionUri.TransportWideCc),
            VideoAbsSendTimeExtensionId = Extension("1", RtpExtensionUri.AbsSendTime),
        };
        if (connection.State == PeerConnectionState.New)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.Timeout);
            try
            {
                await connection.ConnectAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException or Parley.WebRtc.Dtls.DtlsHandshakeException)
            {
                throw new MeetingClientException("CONNECT_FAILED", "The publish connection did not connect: " + e.Message);
            }
        }

        return Publication;
    }

    /// <summary>
    /// Protects and sends one RTP packet on the publish connection. The buffer needs room for the SRTP tag
    /// (16 bytes past <paramref name="length"/>); it is encrypted in place. Thread-safe.
    /// </summary>
    public SrtpResult SendRtp(Span<byte> buffer, int length) => PublishConnection?.SendRtp(buffer, length) ?? SrtpResult.Malformed;

    /// <summary>Sends RTCP (for example sender reports) on the publish connection; encrypted in place like RTP.</summary>
    public SrtpResult SendPublishRtcp(Span<byte> buffer, int length) => PublishConnection?.SendRtcp(buffer, length) ?? SrtpResult.Malformed;

    /// <summary>Sends RTCP (receiver reports, NACK, REMB) on the subscribe connection; encrypted in place.</summary>
    public SrtpResult SendSubscribeRtcp(Span<byte> buffer, int length) => SubscribeConnection?.SendRtcp(buffer, length) ?? SrtpResult.Malformed;

    /// <summary>Asks the SFU for a key frame of a subscribed video track (PLI).</summary>
    public SrtpResult RequestKeyframe(uint mediaSsrc) => SubscribeConnection?.RequestKeyframe(mediaSsrc) ?? SrtpResult.Malformed;

    private static uint RandomSsrc() => (uint)Random.Shared.NextInt64(1, uint.MaxValue);

    private void OnPublishRtcp(ReadOnlySpan<byte> compound)
    {
        PublishRtcpReceived?.Invoke(compound);
        if (KeyframeRequested is not { } handler)
        {
            return;
        }

        foreach (var packet in new RtcpCompoundEnumerator(compound))
        {
            if (RtcpPli.TryParse(packet, out var pli))
            {
                handler(pli.MediaSsrc);
            }
            else if (RtcpFir.TryParse(packet, out var fir))
            {
                for (var i = 0; i < fir.EntryCount; i++)
                {
                    handler(fir.GetEntry(i).Ssrc);
                }
            }
        }
    }

    /// <summary>
    /// A subscribe_offer: answer it on the subscribe connection (created on the first one), map each mid to
    /// its track from the offer's `tracks`, send `subscribe_answer`, and connect once.
    /// </summary>
    private void OnSubscribeOffer(JsonElement root)
    {
        var sdp = root.GetProperty("sdp").GetString() ?? throw new FormatException("subscribe_offer without sdp");
        long? offerId = root.TryGetProperty("offer_id", out var id) && id.TryGetInt64(out var number) ? number : null;
        var offered = root.TryGetProperty("tracks", out var array)
            ? array.Deserialize<List<SubscribeTrackInfo>>(ClientJson.Options) ?? []
            : [];
        string answer;
        Dictionary<string, SubscribedTrack> next;
        List<SubscribedTrack> added, removed;
        lock (_mediaLock)
        {
            if (_disposed != 0)
            {
                return;
            }

            var connection = SubscribeConnection;
            if (connection is null)
            {
                _subscribeSocket = new UdpSocketLoop(new IPEndPoint(_options.LocalAddress, 0));
                _subscribeSocket.Start();
                connection = new PeerConnection(new PeerConnectionOptions
                {
                    Socket = _subscribeSocket,
                    IsServer = false,
                    AnswerDirection = "recvonly",
                    Logger = _options.Logger,
                });
                connection.RtpReceived += OnSubscribedRtp;
                connection.RtcpReceived += packet => SubscribeRtcpReceived?.Invoke(packet);
                SubscribeConnection = connection;
            }

            try
            {
                answer = connection.AcceptOffer(sdp);
            }
            catch (ArgumentException e)
            {
                LogOfferRefused(_options.Logger, e.Message);
                return;
            }

            var description = connection.RemoteDescription!;
            var previous = _tracksByMid;
            next = new Dictionary<string, SubscribedTrack>(StringComparer.Ordinal);
            foreach (var track in offered)
            {
                if (track.TrackId is null || track.ParticipantId is null)
                {
                    continue;
                }

                if (previous.TryGetValue(track.Mid, out var known) && known.TrackId == track.TrackId)
                {
                    next[track.Mid] = known;
                    continue;
                }

                var media = description.Media.FirstOrDefault(m => m.Mid == track.Mid);
                var ssrc = media?.Ssrcs.Select(s => (uint?)s.Ssrc).FirstOrDefault();
                var rtpMap = media?.RtpMaps.FirstOrDefault();
                next[track.Mid] = new SubscribedTrack(track.Mid, track.TrackId, track.ParticipantId, track.Kind, track.Source, ssrc,
                    rtpMap?.ClockRate ?? (track.Kind == "audio" ? 48000 : 90000), rtpMap?.Encoding);
            }

            added = next.Values.Where(t => !previous.TryGetValue(t.Mid, out var p) || !ReferenceEquals(p, t)).ToList();
            removed = previous.Values.Where(t => !next.TryGetValue(t.Mid, out var n) || !ReferenceEquals(n, t)).ToList();
            _tracksByMid = next;
        }

        _ = AnswerAsync(answer, offerId);
        SubscriptionChanged?.Invoke(next.Values, added, removed);
    }

    private async Task AnswerAsync(string answer, long? offerId)
    {
        try
        {
            // offer_id lets the SFU drop this answer if it already replaced the offer (we answer that one too).
            await SendAsync(new Dictionary<string, object?> { ["type"] = "subscribe_answer", ["sdp"] = answer, ["offer_id"] = offerId }, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MeetingClientException or OperationCanceledException or ObjectDisposedException)
        {
            _subscribeConnected.TrySetException(new MeetingClientException("CONNECTION_CLOSED", "Could not answer the subscribe offer: " + e.Message));
            return;
        }

        PeerConnection? connection;
        lock (_mediaLock)
        {
            connection = SubscribeConnection;
            if (connection is null || _subscribeConnecting)
            {
                return;
            }

            _subscribeConnecting = true;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(_options.Timeout);
        try
        {
            await connection.ConnectAsync(timeout.Token).ConfigureAwait(false);
            _subscribeConnected.TrySetResult();
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException or Parley.WebRtc.Dtls.DtlsHandshakeException or ObjectDisposedException)
        {
            _subscribeConnected.TrySetException(new MeetingClientException("CONNECT_FAILED", "The subscribe connection did not connect: " + e.Message));
        }
    }

    private void OnSubscribedRtp(RtpStreamInfo? stream, ReadOnlySpan<byte> packet)
    {
        if (stream?.Mid is { } mid && _tracksByMid.TryGetValue(mid, out var track))
        {
            RtpReceived?.Invoke(track, packet);
        }
        else
        {
            UnknownRtpReceived?.Invoke(stream, packet);
        }
    }

    private void DisposeMedia()
    {
        lock (_mediaLock)
        {
            PublishConnection?.Dispose();
            SubscribeConnection?.Dispose();
            _publishSocket?.Dispose();
            _subscribeSocket?.Dispose();
        }

        _subscribeConnected.TrySetException(new MeetingClientException("CONNECTION_CLOSED", "The client was disposed."));
        _ = _subscribeConnected.Task.Exception; // observed: nobody may be waiting
    }

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Meeting client: the subscribe offer was refused: {Error}")]
    private static partial void LogOfferRefused(ILogger logger, string error);
}
