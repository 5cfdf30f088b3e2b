using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Parley.WebRtc.Rtp;
using Parley.WebRtc.Sdp;
using Parley.WebRtc.Srtp;
using Parley.WebRtc.Transport;

namespace Parley.Loadtest;

/// <summary>A request Janus refused (error in the reply or in the plugin's event).</summary>
internal sealed class JanusException(string message) : Exception(message);

/// <summary>
/// One Janus session over the HTTP API (interop notes, "Janus on loopback"): create, attach, messages
/// whose asynchronous results arrive on the long poll (GET /janus/S?maxev=N), matched by transaction;
/// unsolicited plugin events (new publishers, hangups) go to <see cref="EventReceived"/>. A keepalive every
/// 25 s keeps the session inside Janus's 60 s timeout.
/// </summary>
internal sealed class JanusSession : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly string _url;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonElement>> _pending = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private Task? _poll;
    private Task? _keepalive;
    private long _transactions;

    private JanusSession(HttpClient http, string url, long id)
    {
        _http = http;
        _url = url.TrimEnd('/');
        Id = id;
    }

    public long Id { get; }

    /// <summary>Handle id, the plugin data and the jsep (may be Undefined) of an event nobody waits for.</summary>
    public event Action<long, JsonElement, JsonElement>? EventReceived;

    /// <summary>Janus-level events (webrtcup, hangup, slowlink, media) with the handle they concern.</summary>
    public event Action<long, string>? StateReceived;

    public static async Task<JanusSession> CreateAsync(HttpClient http, string url, CancellationToken cancellationToken)
    {
        var reply = await PostAsync(http, url.TrimEnd('/'), new Dictionary<string, object?> { ["janus"] = "create", ["transaction"] = "c" }, cancellationToken).ConfigureAwait(false);
        var session = new JanusSession(http, url, reply.GetProperty("data").GetProperty("id").GetInt64());
        session._poll = Task.Run(session.PollAsync, CancellationToken.None);
        session._keepalive = Task.Run(session.KeepaliveAsync, CancellationToken.None);
        return session;
    }

    public async Task<long> AttachAsync(string plugin, CancellationToken cancellationToken)
    {
        var reply = await PostAsync(_http, $"{_url}/{Id}", new Dictionary<string, object?> { ["janus"] = "attach", ["plugin"] = plugin, ["transaction"] = NextTransaction() }, cancellationToken).ConfigureAwait(false);
        return reply.GetProperty("data").GetProperty("id").GetInt64();
    }

    /// <summary>
    /// A plugin message; returns the plugin's reply (synchronous requests) or its event (asynchronous ones),
    /// as the whole Janus message (plugindata.data and jsep inside).
    /// </summary>
    public async Task<JsonElement> MessageAsync(long handle, object body, string? jsepType, string? sdp, CancellationToken cancellationToken)
    {
        var transaction = NextTransaction();
        var message = new Dictionary<string, object?> { ["janus"] = "message", ["transaction"] = transaction, ["body"] = body };
        if (jsepType is not null)
        {
            message["jsep"] = new Dictionary<string, string?> { ["type"] = jsepType, ["sdp"] = sdp };
        }

        var waiter = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[transaction] = waiter;
        try
        {
            var reply = await PostAsync(_http, $"{_url}/{Id}/{handle}", message, cancellationToken).ConfigureAwait(false);
            var result = reply.GetProperty("janus").GetString() == "ack"
                ? await waiter.Task.WaitAsync(TimeSpan.FromSeconds(20), cancellationToken).ConfigureAwait(false)
                : reply;
            if (result.TryGetProperty("plugindata", out var plugin) && plugin.TryGetProperty("data", out var data) && data.TryGetProperty("error", out var error))
            {
                throw new JanusException($"{data.GetProperty("error_code")}: {error.GetString()}");
            }

            return result;
        }
        catch (TimeoutException)
        {
            throw new JanusException("no event for the request within 20 s");
        }
        finally
        {
            _pending.TryRemove(transaction, out _);
        }
    }

    /// <summary>Tells Janus our candidates are all in the SDP (no trickle).</summary>
    public Task TrickleCompletedAsync(long handle, CancellationToken cancellationToken) =>
        PostAsync(_http, $"{_url}/{Id}/{handle}", new Dictionary<string, object?>
        {
            ["janus"] = "trickle", ["transaction"] = NextTransaction(), ["candidate"] = new Dictionary<string, bool> { ["completed"] = true },
        }, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            await PostAsync(_http, $"{_url}/{Id}", new Dictionary<string, object?> { ["janus"] = "destroy", ["transaction"] = NextTransaction() }, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or JanusException or JsonException)
        {
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var task in new[] { _poll, _keepalive })
        {
            if (task is not null)
            {
                await task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        _stop.Dispose();
    }

    private string NextTransaction() => "t" + Interlocked.Increment(ref _transactions).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<JsonElement> PostAsync(HttpClient http, string url, object message, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync(url, message, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement.Clone();
        if (root.TryGetProperty("janus", out var kind) && kind.GetString() == "error")
        {
            throw new JanusException(root.TryGetProperty("error", out var e) ? e.ToString() : body);
        }

        return root;
    }

    private async Task PollAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var response = await _http.GetAsync($"{_url}/{Id}?maxev=10", _stop.Token).ConfigureAwait(false);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    await Task.Delay(200, _stop.Token).ConfigureAwait(false);
                    continue;
                }

                var body = await response.Content.ReadAsStringAsync(_stop.Token).ConfigureAwait(false);
                using var document = JsonDocument.Parse(body);
                var root = document.RootElement;
                if (root.ValueKind == JsonValueKind.Array)
                {
                    foreach (var item in root.EnumerateArray())
                    {
                        Dispatch(item);
                    }
                }
                else
                {
                    Dispatch(root);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or JsonException or IOException)
            {
                await Task.Delay(200, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private void Dispatch(JsonElement message)
    {
        var kind = message.TryGetProperty("janus", out var k) ? k.GetString() : null;
        var handle = message.TryGetProperty("sender", out var s) && s.TryGetInt64(out var h) ? h : 0;
        if (message.TryGetProperty("transaction", out var t) && t.GetString() is { } transaction && _pending.TryGetValue(transaction, out var waiter))
        {
            waiter.TrySetResult(message.Clone());
            return;
        }

        if (kind == "event" && message.TryGetProperty("plugindata", out var plugin) && plugin.TryGetProperty("data", out var data))
        {
            EventReceived?.Invoke(handle, data.Clone(), message.TryGetProperty("jsep", out var jsep) ? jsep.Clone() : default);
        }
        else if (kind is "webrtcup" or "hangup" or "slowlink" or "media" or "detached")
        {
            StateReceived?.Invoke(handle, kind);
        }
    }

    private async Task KeepaliveAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(25));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    await PostAsync(_http, $"{_url}/{Id}", new Dictionary<string, object?> { ["janus"] = "keepalive", ["transaction"] = NextTransaction() }, _stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is HttpRequestException or JanusException or JsonException)
                {
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}

/// <summary>
/// Janus VideoRoom as a load target: one room per meeting, created at the start through an admin session
/// and destroyed at the end; each participant is its own Janus session, like a browser.
/// </summary>
internal sealed class JanusTarget(LoadSettings settings) : ILoadTarget
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 4096, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
    {
        Timeout = TimeSpan.FromSeconds(90), // long polls last up to 30 s
    };

    private readonly long _roomBase = Random.Shared.NextInt64(1_000_000, 1_000_000_000) * 1000;
    private JanusSession? _admin;
    private long _adminHandle;

    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        try
        {
            _admin = await JanusSession.CreateAsync(_http, settings.Url.ToString(), cancellationToken).ConfigureAwait(false);
            _adminHandle = await _admin.AttachAsync("janus.plugin.videoroom", cancellationToken).ConfigureAwait(false);
            for (var meeting = 0; meeting < settings.Meetings; meeting++)
            {
                await _admin.MessageAsync(_adminHandle, new Dictionary<string, object>
                {
                    ["request"] = "create",
                    ["room"] = _roomBase + meeting,
                    ["publishers"] = settings.PublishersPerMeeting + 1,
                    ["bitrate"] = 0,
                    ["audiocodec"] = "opus",
                    ["videocodec"] = "vp8",
                    ["notify_joining"] = false,
                    ["permanent"] = false,
                }, null, null, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is HttpRequestException or JanusException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new LoadTargetException($"Janus at {settings.Url} could not prepare the rooms: {e.Message}");
        }
    }

    public LoadParticipant CreateParticipant(int meeting, int index, bool audio, bool video) =>
        new JanusParticipant(meeting, index, audio, video, _http, settings.Url.ToString(), _roomBase + meeting);

    public async ValueTask DisposeAsync()
    {
        if (_admin is not null)
        {
            for (var meeting = 0; meeting < settings.Meetings; meeting++)
            {
                try
                {
                    await _admin.MessageAsync(_adminHandle, new Dictionary<string, object> { ["request"] = "destroy", ["room"] = _roomBase + meeting }, null, null, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception e) when (e is HttpRequestException or JanusException or JsonException or OperationCanceledException)
                {
                }
            }

            await _admin.DisposeAsync().ConfigureAwait(false);
        }

        _http.Dispose();
    }
}

/// <summary>
/// A VideoRoom participant: joins as publisher (everyone does, to hear of new publishers), publishes if it
/// is one (our offer, Janus's answer on the long poll), and subscribes to every other feed on one
/// multistream subscriber handle (Janus offers, we answer with `start`), adding feeds as they appear.
/// </summary>
internal sealed class JanusParticipant(int meeting, int index, bool audio, bool video, HttpClient http, string url, long room) : LoadParticipant(meeting, index, audio, video)
{
    private readonly SemaphoreSlim _subscribeGate = new(1, 1);
    private readonly HashSet<long> _subscribed = [];
    private readonly List<long> _waitingFeeds = [];
    private readonly Lock _streamsLock = new();
    private volatile Dictionary<string, ReceivedStream> _streamsByMid = new(StringComparer.Ordinal);
    private JanusSession? _session;
    private long _publisherHandle;
    private long _subscriberHandle;
    private long _feedId;
    private long _privateId;
    private UdpSocketLoop? _publishSocket;
    private UdpSocketLoop? _subscribeSocket;
    private PeerConnection? _publish;
    private PeerConnection? _subscribe;
    private ErrorCounter? _errors;
    private long _started;
    private CancellationToken _cancellation;

    public override async Task RunJoinAsync(LoadSettings settings, ErrorCounter errors, CancellationToken cancellationToken)
    {
        _errors = errors;
        _cancellation = cancellationToken;
        _started = Stopwatch.GetTimestamp();
        try
        {
            _session = await JanusSession.CreateAsync(http, url, cancellationToken).ConfigureAwait(false);
            _session.EventReceived += OnEvent;
            _session.StateReceived += (_, state) =>
            {
                if (state == "hangup" && !cancellationToken.IsCancellationRequested)
                {
                    errors.Add("janus_hangup");
                }
            };
            _publisherHandle = await _session.AttachAsync("janus.plugin.videoroom", cancellationToken).ConfigureAwait(false);
            var joined = await _session.MessageAsync(_publisherHandle, new Dictionary<string, object>
            {
                ["request"] = "join", ["ptype"] = "publisher", ["room"] = room, ["display"] = Name,
            }, null, null, cancellationToken).ConfigureAwait(false);
            var data = joined.GetProperty("plugindata").GetProperty("data");
            _feedId = data.GetProperty("id").GetInt64();
            _privateId = data.TryGetProperty("private_id", out var p) ? p.GetInt64() : 0;
            JoinMilliseconds = Elapsed(_started);
            if (IsPublisher)
            {
                await PublishAsync(settings, cancellationToken).ConfigureAwait(false);
                MediaMilliseconds = Elapsed(_started);
            }

            Connected = true;
            await SubscribeAsync(Feeds(data), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is JanusException or HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException)
        {
            errors.Add("janus:" + (e is JanusException ? e.Message.Split(':')[0] : e.GetType().Name), e);
            Failed = true;
        }
        catch (Exception e) when (e is TimeoutException or Parley.WebRtc.Dtls.DtlsHandshakeException)
        {
            errors.Add("connect_failed", e);
            Failed = true;
        }
        catch (OperationCanceledException)
        {
            Failed = !Connected;
        }
    }

    public override SrtpResult SendFeedback(Span<byte> buffer, int length) => _subscribe?.SendRtcp(buffer, length) ?? SrtpResult.Malformed;

    public override async ValueTask DisposeAsync()
    {
        if (_session is not null)
        {
            await _session.DisposeAsync().ConfigureAwait(false);
        }

        _publish?.Dispose();
        _subscribe?.Dispose();
        _publishSocket?.Dispose();
        _subscribeSocket?.Dispose();
        _subscribeGate.Dispose();
    }

    private static List<long> Feeds(JsonElement data) =>
        data.TryGetProperty("publishers", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Select(p => p.GetProperty("id").GetInt64()).ToList()
            : [];

    private async Task PublishAsync(LoadSettings settings, CancellationToken cancellationToken)
    {
        _publishSocket = new UdpSocketLoop(new IPEndPoint(IPAddress.Loopback, 0));
        _publishSocket.Start();
        _publish = new PeerConnection(new PeerConnectionOptions { Socket = _publishSocket, IsServer = false });
        var audioSsrc = (uint)Random.Shared.NextInt64(1, uint.MaxValue);
        var rids = Video && settings.Simulcast ? new[] { "q", "h", "f" } : [];
        var videoSsrcs = Enumerable.Range(0, Math.Max(1, rids.Length)).Select(_ => (uint)Random.Shared.NextInt64(1, uint.MaxValue)).ToList();
        var sections = new List<SdpOfferSection>();
        if (Audio)
        {
            sections.Add(new SdpOfferSection("audio", "0", "sendonly", [SdpCodec.Opus()])
            {
                Extensions = [new SdpExtmap(1, null, RtpExtensionUri.Mid, null), new SdpExtmap(4, null, RtpExtensionUri.AbsSendTime, null), new SdpExtmap(5, null, RtpExtensionUri.TransportWideCc, null), new SdpExtmap(10, null, RtpExtensionUri.AudioLevel, null)],
                Sources = [new SdpSource(audioSsrc, Name, Name, Name + "-a")],
            });
        }

        if (Video)
        {
            sections.Add(new SdpOfferSection("video", Audio ? "1" : "0", "sendonly", [SdpCodec.Vp8()])
            {
                Extensions = [new SdpExtmap(1, null, RtpExtensionUri.Mid, null), new SdpExtmap(2, null, RtpExtensionUri.Rid, null), new SdpExtmap(4, null, RtpExtensionUri.AbsSendTime, null), new SdpExtmap(5, null, RtpExtensionUri.TransportWideCc, null)],
                Sources = rids.Length == 0 ? [new SdpSource(videoSsrcs[0], Name, Name, Name + "-v")] : [],
                SendRids = rids,
            });
        }

        var offer = _publish.CreateOffer(sections);
        var reply = await _session!.MessageAsync(_publisherHandle, new Dictionary<string, object> { ["request"] = "publish" }, "offer", offer, cancellationToken).ConfigureAwait(false);
        var answer = reply.TryGetProperty("jsep", out var jsep) ? jsep.GetProperty("sdp").GetString() : null;
        _publish.AcceptAnswer(answer ?? throw new JanusException("publish: no answer"));
        await _session.TrickleCompletedAsync(_publisherHandle, cancellationToken).ConfigureAwait(false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        await _publish.ConnectAsync(timeout.Token).ConfigureAwait(false);
        var remote = _publish.RemoteDescription!;
        int Extension(string uri) => remote.Media.Where(m => m.Port != 0).SelectMany(m => m.Extmaps).FirstOrDefault(e => e.Uri == uri)?.Id ?? 0;
        var layout = new PublishLayout
        {
            Audio = Audio,
            Video = Video,
            AudioSsrc = audioSsrc,
            VideoSsrcs = videoSsrcs,
            Rids = rids,
            AudioMid = Audio ? "0" : null,
            VideoMid = Video ? (Audio ? "1" : "0") : null,
            MidExtension = Extension(RtpExtensionUri.Mid),
            RidExtension = Extension(RtpExtensionUri.Rid),
            AbsSendTimeExtension = Extension(RtpExtensionUri.AbsSendTime),
            TransportCcExtension = Extension(RtpExtensionUri.TransportWideCc),
            AudioLevelExtension = Extension(RtpExtensionUri.AudioLevel),
            Talking = settings.IsTalker(Index),
        };
        var publisher = new SyntheticPublisher(layout, settings.VideoBitrateKbps, _publish.SendRtp, _publish.SendRtcp);
        _publish.RtcpReceived += packet =>
        {
            foreach (var rtcp in new Parley.WebRtc.Rtcp.RtcpCompoundEnumerator(packet))
            {
                if (Parley.WebRtc.Rtcp.RtcpPli.TryParse(rtcp, out var pli))
                {
                    publisher.OnKeyframeRequest(pli.MediaSsrc);
                }
                else if (Parley.WebRtc.Rtcp.RtcpFir.TryParse(rtcp, out var fir) && fir.EntryCount > 0)
                {
                    publisher.OnKeyframeRequest(fir.GetEntry(0).Ssrc);
                }
            }
        };
        Publisher = publisher;
    }

    /// <summary>New publishers in the room (event on the publisher handle): subscribe to them too.</summary>
    private void OnEvent(long handle, JsonElement data, JsonElement jsep)
    {
        if (handle == _publisherHandle && data.TryGetProperty("publishers", out _))
        {
            var feeds = Feeds(data);
            _ = Task.Run(async () =>
            {
                try
                {
                    await SubscribeAsync(feeds, _cancellation).ConfigureAwait(false);
                }
                catch (Exception e) when (e is JanusException or HttpRequestException or JsonException or KeyNotFoundException or ArgumentException or InvalidOperationException or TimeoutException or OperationCanceledException or ObjectDisposedException)
                {
                    if (!_cancellation.IsCancellationRequested)
                    {
                        _errors?.Add("janus_subscribe", e);
                    }
                }
            });
        }
    }

    /// <summary>Subscribes to feeds not yet subscribed, one negotiation at a time (Janus offers, we `start` with the answer).</summary>
    private async Task SubscribeAsync(List<long> feeds, CancellationToken cancellationToken)
    {
        lock (_waitingFeeds)
        {
            _waitingFeeds.AddRange(feeds.Where(f => f != _feedId));
        }

        await _subscribeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            List<long> next;
            lock (_waitingFeeds)
            {
                next = _waitingFeeds.Where(f => _subscribed.Add(f)).Distinct().ToList();
                _waitingFeeds.Clear();
            }

            if (next.Count == 0)
            {
                return;
            }

            var streams = next.Select(f => new Dictionary<string, long> { ["feed"] = f }).ToList();
            JsonElement reply;
            if (_subscriberHandle == 0)
            {
                _subscriberHandle = await _session!.AttachAsync("janus.plugin.videoroom", cancellationToken).ConfigureAwait(false);
                reply = await _session.MessageAsync(_subscriberHandle, new Dictionary<string, object>
                {
                    ["request"] = "join", ["ptype"] = "subscriber", ["room"] = room, ["streams"] = streams, ["private_id"] = _privateId,
                }, null, null, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                reply = await _session!.MessageAsync(_subscriberHandle, new Dictionary<string, object> { ["request"] = "subscribe", ["streams"] = streams }, null, null, cancellationToken).ConfigureAwait(false);
            }

            if (!reply.TryGetProperty("jsep", out var jsep) || jsep.GetProperty("sdp").GetString() is not { } offer)
            {
                return; // nothing to renegotiate (the feeds left meanwhile)
            }

            if (_subscribe is null)
            {
                _subscribeSocket = new UdpSocketLoop(new IPEndPoint(IPAddress.Loopback, 0));
                _subscribeSocket.Start();
                _subscribe = new PeerConnection(new PeerConnectionOptions { Socket = _subscribeSocket, IsServer = false, AnswerDirection = "recvonly" });
                _subscribe.RtpReceived += OnRtp;
            }

            var answer = _subscribe.AcceptOffer(offer);
            lock (_streamsLock)
            {
                var map = new Dictionary<string, ReceivedStream>(_streamsByMid, StringComparer.Ordinal);
                foreach (var media in _subscribe.RemoteDescription!.Media)
                {
                    if (media.Mid is { } mid && media.Port != 0 && media.Media is "audio" or "video" && !map.ContainsKey(mid))
                    {
                        var clock = media.RtpMaps.FirstOrDefault()?.ClockRate ?? (media.Media == "audio" ? 48000 : 90000);
                        map[mid] = Receiver.AddStream(media.Media, clock);
                    }
                }

                _streamsByMid = map;
            }

            await _session.MessageAsync(_subscriberHandle, new Dictionary<string, object> { ["request"] = "start" }, "answer", answer, cancellationToken).ConfigureAwait(false);
            if (_subscribe.State == PeerConnectionState.New)
            {
                await _session.TrickleCompletedAsync(_subscriberHandle, cancellationToken).ConfigureAwait(false);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(20));
                await _subscribe.ConnectAsync(timeout.Token).ConfigureAwait(false);
                if (MediaMilliseconds < 0)
                {
                    MediaMilliseconds = Elapsed(_started);
                }
            }
        }
        finally
        {
            _subscribeGate.Release();
        }

        bool more;
        lock (_waitingFeeds)
        {
            more = _waitingFeeds.Count > 0;
        }

        if (more)
        {
            await SubscribeAsync([], cancellationToken).ConfigureAwait(false);
        }
    }

    private void OnRtp(RtpStreamInfo? stream, ReadOnlySpan<byte> packet)
    {
        if (stream?.Mid is { } mid && _streamsByMid.TryGetValue(mid, out var received))
        {
            Receiver.OnRtp(received, packet);
        }
    }
}
