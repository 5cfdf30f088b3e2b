using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Parley.Sfu.Rooms;

namespace Parley.Sfu.Signaling;

/// <summary>
/// One client's signaling WebSocket (docs/signaling.md): reads JSON requests with size and rate limits,
/// hands them to the room under the worker lock, and writes the room's messages from a bounded queue
/// (a client that stops reading is disconnected rather than growing memory). A malformed message gets an
/// error reply and the connection stays.
/// </summary>
public sealed partial class SignalingSession : IParticipantSink
{
    public const int MaxMessageBytes = 64 * 1024;
    private const int OutgoingQueueLimit = 1024;
    private const int MaxRejectedInARow = 500;
    private const string NoJoinReason = "no join within 10 s";
    private static readonly TimeSpan JoinDeadline = TimeSpan.FromSeconds(10);

    private readonly WebSocket _socket;
    private readonly SfuEngine _engine;
    private readonly ILogger _logger;
    private readonly Channel<ServerMessage> _outgoing = Channel.CreateBounded<ServerMessage>(new BoundedChannelOptions(OutgoingQueueLimit)
    {
        SingleReader = true,
        // Wait mode: TryWrite answers false when full (DropWrite would answer true and lose the message),
        // and Send then disconnects the client instead of silently dropping what it should have seen.
        FullMode = BoundedChannelFullMode.Wait,
    });
    private readonly TokenBucket _rate = new(ratePerSecond: 50, burstSize: 100);
    private readonly CancellationTokenSource _closed = new();
    private Participant? _participant;
    private string? _closeReason;
    private int _rejectedInARow;

    public SignalingSession(WebSocket socket, SfuEngine engine, ILogger logger)
    {
        _socket = socket;
        _engine = engine;
        _logger = logger;
    }

    internal Participant? Participant => _participant;

    /// <summary>Serves the socket until it closes; never throws for anything the client does.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closed.Token);
        var writer = WriteLoopAsync(linked.Token);
        var buffer = ArrayPool<byte>.Shared.Rent(MaxMessageBytes + 1);
        try
        {
            // A socket that never joins is closed (1008) rather than held open forever.
            using var joinDeadline = new Timer(_ =>
            {
                if (_participant is null)
                {
                    Close(NoJoinReason);
                }
            }, null, JoinDeadline, Timeout.InfiniteTimeSpan);
            // CloseSent: we closed (leave, replaced, denied) and wait for the client's close frame, so the
            // close handshake completes and nothing queued before it is lost to an abort.
            while (!linked.IsCancellationRequested && _socket.State is WebSocketState.Open or WebSocketState.CloseSent)
            {
                var (length, tooLarge, close) = await ReceiveAsync(buffer, linked.Token).ConfigureAwait(false);
                if (close)
                {
                    break;
                }

                if (!_rate.TryTake())
                {
                    Reject(null, "RATE_LIMITED", "Too many messages; slow down (50 per second).");
                    continue;
                }

                if (tooLarge)
                {
                    Reject(null, "MESSAGE_TOO_LARGE", $"Messages are limited to {MaxMessageBytes} bytes.");
                    continue;
                }

                await HandleAsync(buffer.AsMemory(0, length), linked.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            // the client went away
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _outgoing.Writer.TryComplete();
            await Disconnect().ConfigureAwait(false);
            try
            {
                await writer.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException or WebSocketException)
            {
            }

            await CloseSocketAsync().ConfigureAwait(false);
        }
    }

    public void Send(ServerMessage message)
    {
        if (!_outgoing.Writer.TryWrite(message) && !_closed.IsCancellationRequested)
        {
            // A client that does not read 1,024 messages is gone or hostile; drop it instead of buffering.
            Close("send queue full");
        }
    }

    public void Close(string reason)
    {
        _closeReason ??= reason;
        _outgoing.Writer.TryComplete();
    }

    private void Reject(long? id, string code, string message)
    {
        Send(new ErrorMessage(id, code, message));
        if (++_rejectedInARow >= MaxRejectedInARow)
        {
            Close("too many rejected messages");
        }
    }

    private async Task<(int Length, bool TooLarge, bool Close)> ReceiveAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        var length = 0;
        var tooLarge = false;
        while (true)
        {
            var space = length < MaxMessageBytes + 1 ? buffer.AsMemory(length, MaxMessageBytes + 1 - length) : buffer.AsMemory(0, 4096);
            var result = await _socket.ReceiveAsync(space, cancellationToken).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (0, false, true);
            }

            if (length < MaxMessageBytes + 1)
            {
                length += result.Count;
            }

            if (length > MaxMessageBytes)
            {
                tooLarge = true; // keep reading to the end of the frame, discarding it
            }

            if (result.EndOfMessage)
            {
                return (tooLarge ? 0 : length, tooLarge, false);
            }
        }
    }

    private async Task WriteLoopAsync(CancellationToken cancellationToken)
    {
        var drained = false;
        try
        {
            await foreach (var message in _outgoing.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                var bytes = JsonSerializer.SerializeToUtf8Bytes(message, message.GetType(), SignalingJson.Options);
                await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
            }

            drained = true;
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
        }

        if (drained)
        {
            // Everything queued went out: send the close frame after it (cancelling the reader instead would
            // abort the connection and could drop the last messages, such as LOBBY_DENIED). The reader ends
            // when the client answers the close; a client that never does is cut off after 5 s.
            await CloseSocketAsync().ConfigureAwait(false);
            _closed.CancelAfter(TimeSpan.FromSeconds(5));
        }
        else
        {
            _closed.Cancel();
        }
    }

    private async Task CloseSocketAsync()
    {
        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                var status = _rejectedInARow >= MaxRejectedInARow || _closeReason == NoJoinReason
                    ? WebSocketCloseStatus.PolicyViolation
                    : WebSocketCloseStatus.NormalClosure;
                await _socket.CloseOutputAsync(status, _closeReason ?? "bye", timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }

    private Task Disconnect()
    {
        if (_participant is { } participant)
        {
            var room = participant.Room;
            lock (room.Worker.Sync)
            {
                room.Disconnected(participant, this);
            }
        }

        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = 720, Level = LogLevel.Debug, Message = "Signaling: {ParticipantId} joined meeting {MeetingId}")]
    private static partial void LogJoined(ILogger logger, string participantId, string meetingId);

    [LoggerMessage(EventId = 721, Level = LogLevel.Error, Message = "Signaling: {Type} failed")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string type);
}

/// <summary>JSON settings of the signaling protocol: snake_case names, nulls kept (the doc shows them).</summary>
public static class SignalingJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };
}

/// <summary>A token bucket: <c>ratePerSecond</c> sustained, <c>burst</c> at once.</summary>
internal sealed class TokenBucket(double ratePerSecond, double burstSize)
{
    private readonly double _burst = burstSize;
    private double _tokens = burstSize;
    private long _last = System.Diagnostics.Stopwatch.GetTimestamp();

    public bool TryTake()
    {
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        _tokens = Math.Min(_burst, _tokens + (System.Diagnostics.Stopwatch.GetElapsedTime(_last, now).TotalSeconds * ratePerSecond));
        _last = now;
        if (_tokens < 1)
        {
            return false;
        }

        _tokens--;
        return true;
    }
}
