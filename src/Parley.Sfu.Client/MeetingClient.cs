using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.WebRtc.Transport;

namespace Parley.Sfu.Client;

/// <summary>How a <see cref="MeetingClient"/> reaches the SFU.</summary>
public sealed record MeetingClientOptions
{
    /// <summary>The Parley server: http(s)://host:port (the socket is /rtc/ws there) or the ws(s):// URL of the socket itself.</summary>
    public required Uri ServerUrl { get; init; }

    /// <summary>The join token (POST /v2/meetings/{id}/tokens or POST /meet/{id}/guest-token).</summary>
    public required string Token { get; init; }

    /// <summary>The address the client's UDP sockets bind (and announce in its candidates).</summary>
    public IPAddress LocalAddress { get; init; } = IPAddress.Loopback;

    /// <summary>How long JoinAsync, PublishAsync and ICE + DTLS may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(15);

    public ILogger Logger { get; init; } = NullLogger.Instance;
}

/// <summary>
/// A native participant of a Parley meeting over the real signaling (docs/signaling.md): one WebSocket to
/// /rtc/ws, a publish connection (this client offers, the SFU answers) and a subscribe connection (the SFU
/// offers, this client answers every subscribe_offer). Every server message is raised as
/// <see cref="MessageReceived"/> and, for the known types, as a typed event; the RTP of each subscribed
/// track arrives through <see cref="RtpReceived"/> with the track it belongs to (mid → track from the
/// offer's tracks). Used by `parley loadtest` and the native recording bot.
/// <para>
/// Events are raised on the client's receive loop (signaling) or on the socket thread of the connection
/// (RTP/RTCP): handlers must be quick and must not block. Spans are valid only during the call.
/// </para>
/// </summary>
public sealed partial class MeetingClient : IAsyncDisposable
{
    private const int MaxMessageBytes = 1024 * 1024;
    private readonly MeetingClientOptions _options;
    private readonly ClientWebSocket _socket = new();
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<long, TaskCompletionSource<string?>> _pending = new();
    private readonly ConcurrentDictionary<string, ParticipantInfo> _participants = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource<JoinedInfo> _joined = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _receiveLoop;
    private long _nextId;
    private int _disposed;

    public MeetingClient(MeetingClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    /// <summary>Our participant id once joined.</summary>
    public string? ParticipantId { get; private set; }

    /// <summary>The `joined` message (the latest one, after a resume).</summary>
    public JoinedInfo? JoinInfo { get; private set; }

    /// <summary>Ourselves as the SFU last described us (our published tracks with their track ids).</summary>
    public ParticipantInfo? LocalParticipant { get; private set; }

    /// <summary>Everyone else in the meeting, as the latest participant_* messages describe them.</summary>
    public IReadOnlyCollection<ParticipantInfo> Participants => (IReadOnlyCollection<ParticipantInfo>)_participants.Values;

    /// <summary>True while the signaling socket is open.</summary>
    public bool IsConnected => _socket.State == WebSocketState.Open;

    /// <summary>Why the signaling connection ended (null while it is up).</summary>
    public string? CloseReason { get; private set; }

    /// <summary>Every server message, before the typed event; the element is valid only during the call.</summary>
    public event Action<string, JsonElement>? MessageReceived;

    public event Action<JoinedInfo>? Joined;

    /// <summary>We wait in the lobby for a host (joined follows once admitted).</summary>
    public event Action? LobbyWaiting;

    public event Action<ParticipantInfo>? ParticipantJoined;

    public event Action<ParticipantInfo>? ParticipantUpdated;

    /// <summary>Participant id and reason (left, disconnected, replaced, removed).</summary>
    public event Action<string, string>? ParticipantLeft;

    public event Action<ChatMessageInfo>? ChatReceived;

    /// <summary>The loudest participant (null when nobody speaks) and the levels, loudest first.</summary>
    public event Action<string?, IReadOnlyList<SpeakerLevel>>? ActiveSpeakerChanged;

    /// <summary>A recording bot joined (true) or left (false).</summary>
    public event Action<bool>? RecordingChanged;

    /// <summary>The meeting closed (ttl, empty, deleted); the socket closes after it.</summary>
    public event Action<string>? MeetingClosed;

    /// <summary>An `error` that answers no request of ours (for example REPLACED, RATE_LIMITED).</summary>
    public event Action<MeetingClientException>? ErrorReceived;

    /// <summary>The signaling socket closed; the argument says why.</summary>
    public event Action<string>? Disconnected;

    /// <summary>
    /// Connects the signaling socket, sends `join` and waits for `joined` (through the lobby if there is
    /// one). Throws <see cref="MeetingClientException"/> with the SFU's code when it refuses.
    /// </summary>
    public async Task<JoinedInfo> JoinAsync(string? resumeToken = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_receiveLoop is not null)
        {
            throw new InvalidOperationException("JoinAsync was called already.");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        timeout.CancelAfter(_options.Timeout);
        _joinDeadline = timeout;
        try
        {
            await _socket.ConnectAsync(SocketUrl(_options.ServerUrl), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or HttpRequestException or OperationCanceledException)
        {
            throw new MeetingClientException("CONNECT_FAILED", $"Could not open {SocketUrl(_options.ServerUrl)}: {e.Message}");
        }

        _receiveLoop = Task.Run(ReceiveLoopAsync);
        var join = new Dictionary<string, object?> { ["type"] = "join", ["v"] = 1, ["token"] = _options.Token };
        if (resumeToken is not null)
        {
            join["resume_token"] = resumeToken;
        }

        await SendAsync(join, timeout.Token).ConfigureAwait(false);
        try
        {
            // A lobby wait has no deadline of ours beyond the caller's token: the host decides. lobby_waiting
            // usually arrives after this line, so the receive loop lifts the deadline when it does.
            return await _joined.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && !_stop.IsCancellationRequested)
        {
            throw new MeetingClientException("TIMEOUT", $"No joined within {_options.Timeout.TotalSeconds:0} s.");
        }
        finally
        {
            _joinDeadline = null;
        }
    }

    private bool LobbyPending { get; set; }

    /// <summary>The join's deadline while JoinAsync waits; lifted once the server says we wait in the lobby.</summary>
    private volatile CancellationTokenSource? _joinDeadline;

    /// <summary>Sends a chat message (1..2000 characters); it comes back to everyone as `chat`, us included.</summary>
    public Task SendChatAsync(string text, CancellationToken cancellationToken = default) =>
        SendAsync(new Dictionary<string, object?> { ["type"] = "chat", ["text"] = text }, cancellationToken);

    /// <summary>Mutes or unmutes one of our published tracks (see <see cref="LocalParticipant"/> for the ids).</summary>
    public Task MuteAsync(string trackId, bool muted, CancellationToken cancellationToken = default) =>
        SendAsync(new Dictionary<string, object?> { ["type"] = "mute", ["track_id"] = trackId, ["muted"] = muted }, cancellationToken);

    /// <summary>The highest simulcast layer (0..2) we want of a video track.</summary>
    public Task SetLayerAsync(string trackId, int layer, CancellationToken cancellationToken = default) =>
        SendAsync(new Dictionary<string, object?> { ["type"] = "set_layer", ["track_id"] = trackId, ["layer"] = layer }, cancellationToken);

    public Task RaiseHandAsync(bool raised, CancellationToken cancellationToken = default) =>
        SendAsync(new Dictionary<string, object?> { ["type"] = "raise_hand", ["raised"] = raised }, cancellationToken);

    /// <summary>Hosts: admits or denies someone waiting in the lobby.</summary>
    public Task LobbyDecisionAsync(string participantId, bool admit, CancellationToken cancellationToken = default) =>
        SendAsync(new Dictionary<string, object?> { ["type"] = admit ? "lobby_admit" : "lobby_deny", ["participant_id"] = participantId }, cancellationToken);

    /// <summary>Asks for a new subscribe offer with fresh ICE credentials.</summary>
    public Task RequestIceRestartAsync(CancellationToken cancellationToken = default) =>
        SendAsync(new Dictionary<string, object?> { ["type"] = "ice_restart" }, cancellationToken);

    /// <summary>`ping` and its `pong`: the signaling round trip.</summary>
    public async Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await RequestAsync(new Dictionary<string, object?> { ["type"] = "ping" }, cancellationToken).ConfigureAwait(false);
        return System.Diagnostics.Stopwatch.GetElapsedTime(started);
    }

    /// <summary>Sends any message of the protocol (the `type` included); for what has no method here.</summary>
    public Task SendMessageAsync(IReadOnlyDictionary<string, object?> message, CancellationToken cancellationToken = default) =>
        SendAsync(message, cancellationToken);

    /// <summary>Leaves the meeting (others see participant_left, reason left) and closes the socket.</summary>
    public async Task LeaveAsync(CancellationToken cancellationToken = default)
    {
        if (_socket.State != WebSocketState.Open)
        {
            return;
        }

        try
        {
            await SendAsync(new Dictionary<string, object?> { ["type"] = "leave" }, cancellationToken).ConfigureAwait(false);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "leave", timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or MeetingClientException or ObjectDisposedException)
        {
            // The socket went away on its own: we have left either way.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }

        _socket.Abort();
        if (_receiveLoop is not null)
        {
            try
            {
                await _receiveLoop.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }

        DisposeMedia();
        _socket.Dispose();
        _sendGate.Dispose();
        _stop.Dispose();
    }

    internal static Uri SocketUrl(Uri server)
    {
        if (server.Scheme is "ws" or "wss")
        {
            return server;
        }

        var builder = new UriBuilder(server) { Scheme = server.Scheme == "https" ? "wss" : "ws", Path = server.AbsolutePath.TrimEnd('/') + "/rtc/ws" };
        return builder.Uri;
    }

    private async Task<string?> RequestAsync(Dictionary<string, object?> message, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _nextId);
        message["id"] = id;
        var reply = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
            timeout.CancelAfter(_options.Timeout);
            await SendAsync(message, timeout.Token).ConfigureAwait(false);
            try
            {
                return await reply.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new MeetingClientException("TIMEOUT", $"No reply to {message["type"]} within {_options.Timeout.TotalSeconds:0} s.");
            }
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private async Task SendAsync(IReadOnlyDictionary<string, object?> message, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(message, ClientJson.Options);
        await _sendGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_socket.State != WebSocketState.Open)
            {
                throw new MeetingClientException("CONNECTION_CLOSED", "The signaling connection is closed" + (CloseReason is null ? "." : $": {CloseReason}."));
            }

            await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
        catch (WebSocketException e)
        {
            throw new MeetingClientException("CONNECTION_CLOSED", "The signaling connection failed: " + e.Message);
        }
        finally
        {
            _sendGate.Release();
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        var reason = "closed";
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length == buffer.Length)
                    {
                        if (buffer.Length >= MaxMessageBytes)
                        {
                            throw new MeetingClientException("MESSAGE_TOO_LARGE", "The SFU sent a message larger than 1 MiB.");
                        }

                        var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }

                    result = await _socket.ReceiveAsync(buffer.AsMemory(length), _stop.Token).ConfigureAwait(false);
                    length += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    reason = _socket.CloseStatusDescription is { Length: > 0 } description ? description : "closed by the server";
                    break;
                }

                Handle(buffer.AsMemory(0, length));
            }
        }
        catch (OperationCanceledException)
        {
            reason = "disposed";
        }
        catch (Exception e) when (e is WebSocketException or MeetingClientException or ObjectDisposedException)
        {
            reason = e.Message;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            CloseReason = reason;
            var closed = new MeetingClientException("CONNECTION_CLOSED", "The signaling connection closed: " + reason);
            _joined.TrySetException(closed);
            foreach (var pending in _pending.Values)
            {
                pending.TrySetException(closed);
            }

            Raise(Disconnected, reason);
        }
    }

    private void Handle(ReadOnlyMemory<byte> frame)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(frame);
        }
        catch (JsonException)
        {
            LogBadMessage(_options.Logger, Encoding.UTF8.GetString(frame.Span[..Math.Min(frame.Length, 200)]));
            return;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var typeElement) || typeElement.GetString() is not { } type)
            {
                return;
            }

            try
            {
                MessageReceived?.Invoke(type, root);
                Dispatch(type, root);
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException or FormatException or KeyNotFoundException)
            {
                // A message we could not read (or a handler's fault) must not end the session.
                LogHandlerFailed(_options.Logger, e, type);
            }
        }
    }

    private void Dispatch(string type, JsonElement root)
    {
        switch (type)
        {
            case "joined":
                var joined = root.Deserialize<JoinedInfo>(ClientJson.Options)!;
                ParticipantId = joined.ParticipantId;
                JoinInfo = joined;
                LocalParticipant = joined.You;
                LobbyPending = false;
                _participants.Clear();
                foreach (var participant in joined.Participants)
                {
                    _participants[participant.ParticipantId] = participant;
                }

                Joined?.Invoke(joined);
                _joined.TrySetResult(joined);
                break;
            case "lobby_waiting":
                LobbyPending = true;
                try
                {
                    _joinDeadline?.CancelAfter(Timeout.InfiniteTimeSpan);
                }
                catch (ObjectDisposedException)
                {
                    // JoinAsync already returned.
                }

                LobbyWaiting?.Invoke();
                break;
            case "participant_joined":
            case "participant_updated":
                var info = root.GetProperty("participant").Deserialize<ParticipantInfo>(ClientJson.Options)!;
                if (info.ParticipantId == ParticipantId)
                {
                    LocalParticipant = info;
                }
                else
                {
                    _participants[info.ParticipantId] = info;
                }

                (type == "participant_joined" ? ParticipantJoined : ParticipantUpdated)?.Invoke(info);
                break;
            case "participant_left":
                var left = root.GetProperty("participant_id").GetString()!;
                _participants.TryRemove(left, out _);
                ParticipantLeft?.Invoke(left, root.TryGetProperty("reason", out var why) ? why.GetString() ?? "left" : "left");
                break;
            case "chat":
                ChatReceived?.Invoke(root.GetProperty("message").Deserialize<ChatMessageInfo>(ClientJson.Options)!);
                break;
            case "active_speaker":
                var speaker = root.TryGetProperty("participant_id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
                var levels = root.TryGetProperty("levels", out var array) ? array.Deserialize<List<SpeakerLevel>>(ClientJson.Options) ?? [] : [];
                ActiveSpeakerChanged?.Invoke(speaker, levels);
                break;
            case "publish_answer":
                Complete(root, root.GetProperty("sdp").GetString());
                break;
            case "pong":
                Complete(root, null);
                break;
            case "subscribe_offer":
                OnSubscribeOffer(root);
                break;
            case "recording":
                RecordingChanged?.Invoke(root.TryGetProperty("active", out var active) && active.ValueKind == JsonValueKind.True);
                break;
            case "meeting_closed":
                MeetingClosed?.Invoke(root.TryGetProperty("reason", out var reason) ? reason.GetString() ?? "closed" : "closed");
                break;
            case "error":
                OnError(root);
                break;
        }
    }

    private void OnError(JsonElement root)
    {
        var code = root.TryGetProperty("code", out var c) ? c.GetString() ?? "UNKNOWN" : "UNKNOWN";
        var message = root.TryGetProperty("message", out var m) ? m.GetString() ?? code : code;
        var error = new MeetingClientException(code, message);
        if (root.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.Number
            && _pending.TryGetValue(idElement.GetInt64(), out var pending))
        {
            pending.TrySetException(error);
            return;
        }

        if (!_joined.Task.IsCompleted && code is not ("RATE_LIMITED" or "INVALID_MESSAGE" or "UNKNOWN_TYPE"))
        {
            // Before joined, any refusal (INVALID_TOKEN, ROOM_FULL, LOBBY_DENIED...) answers our join.
            _joined.TrySetException(error);
        }

        ErrorReceived?.Invoke(error);
    }

    private void Complete(JsonElement root, string? value)
    {
        if (root.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.Number && _pending.TryGetValue(id.GetInt64(), out var pending))
        {
            pending.TrySetResult(value);
        }
    }

    private void Raise(Action<string>? handler, string value)
    {
        try
        {
            handler?.Invoke(value);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            LogHandlerFailed(_options.Logger, e, "disconnected");
        }
    }

    [LoggerMessage(EventId = 1100, Level = LogLevel.Warning, Message = "Meeting client: a message that is not JSON: {Start}")]
    private static partial void LogBadMessage(ILogger logger, string start);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Meeting client: handling {Type} failed")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string type);
}
