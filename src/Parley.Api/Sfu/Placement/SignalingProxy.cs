using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Parley.Sfu.Meetings;
using Parley.Sfu.Rooms;
using Parley.Sfu.Signaling;

namespace Parley.Api.Sfu.Placement;

/// <summary>
/// /rtc/ws of an api process without the sfu role: reads the client's join, learns the meeting from its token,
/// places the meeting (<see cref="SfuPlacementService"/>), opens a WebSocket to that node's /rtc/ws, hands it
/// the join and then relays frames both ways until one side closes. Clients see the protocol of
/// docs/signaling.md unchanged. Memory per connection is two fixed buffers: frames are relayed fragment by
/// fragment as they arrive, never assembled, and a message larger than <see cref="MaxRelayedMessageBytes"/>
/// ends the connection (1009). Anything that goes wrong ends in an `error` message and a close with a stable
/// reason, never in an exception out of the endpoint.
/// </summary>
public sealed partial class SignalingProxy(
    IMeetingAuthority authority,
    SfuPlacementService placements,
    ILogger<SignalingProxy> logger)
{
    /// <summary>The largest message relayed either way (the SFU's own limit on what clients send is 64 KiB).</summary>
    public const int MaxRelayedMessageBytes = 1024 * 1024;

    private const int ChunkBytes = 16 * 1024;
    private const int MaxJoinAttempts = 5;
    private static readonly TimeSpan JoinDeadline = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(5);

    /// <summary>Serves one client socket to the end; never throws.</summary>
    public async Task RunAsync(WebSocket client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var buffer = ArrayPool<byte>.Shared.Rent(SignalingSession.MaxMessageBytes + 1);
        var rented = true;
        try
        {
            var join = await ReadJoinAsync(client, buffer, cancellationToken).ConfigureAwait(false);
            if (join is not { } first)
            {
                return;
            }

            using var node = await ConnectAsync(client, first.Node, cancellationToken).ConfigureAwait(false);
            if (node is null)
            {
                return;
            }

            try
            {
                await node.SendAsync(buffer.AsMemory(0, first.Length), WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is WebSocketException or IOException)
            {
                LogConnectFailed(logger, e, first.Node.NodeId, new Uri(first.Node.InternalUrl));
                await FailAsync(client, null, "The meeting's media server did not answer; try again shortly.", WebSocketCloseStatus.EndpointUnavailable).ConfigureAwait(false);
                return;
            }

            // The join buffer is not needed while relaying: a long meeting holds only the two relay chunks.
            ArrayPool<byte>.Shared.Return(buffer);
            rented = false;
            LogRouted(logger, first.MeetingId, first.Node.NodeId);
            await RelayAsync(client, node, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // the client or the node went away; whichever socket is still open is closed below
        }
        finally
        {
            if (rented)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            await CloseAsync(client, WebSocketCloseStatus.NormalClosure, "bye").ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits for a join whose token names an open meeting, answering other messages as the SFU would before a
    /// join; refusals leave the socket open, as on the SFU, so a client may retry with a fresh token.
    /// </summary>
    private async Task<(int Length, string MeetingId, PlacedNode Node)?> ReadJoinAsync(WebSocket client, byte[] buffer, CancellationToken cancellationToken)
    {
        // A cancelled receive aborts a WebSocket without a close frame, so the deadline sends the close (1008)
        // and lets the pending receive see the client's answer; only a client that does not answer is cut off.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(JoinDeadline + CloseGrace);
        await using var closeAtDeadline = new Timer(_ => _ = CloseAsync(client, WebSocketCloseStatus.PolicyViolation, "no join within 10 s"),
            null, JoinDeadline, Timeout.InfiniteTimeSpan);
        try
        {
            for (var attempt = 0; attempt < MaxJoinAttempts; attempt++)
            {
                var (length, tooLarge, closed) = await ReceiveMessageAsync(client, buffer, deadline.Token).ConfigureAwait(false);
                if (closed)
                {
                    return null;
                }

                if (tooLarge)
                {
                    await SendErrorAsync(client, null, "MESSAGE_TOO_LARGE", $"Messages are limited to {SignalingSession.MaxMessageBytes} bytes.", cancellationToken).ConfigureAwait(false);
                    continue;
                }

                var (id, type, token) = ParseJoin(buffer.AsSpan(0, length));
                if (type == "ping")
                {
                    await SendAsync(client, new PongMessage(id), cancellationToken).ConfigureAwait(false);
                    attempt--; // a keepalive is not an attempt; the deadline still bounds the wait
                    continue;
                }

                if (type != "join" || token is null)
                {
                    await SendErrorAsync(client, id, type is null ? "INVALID_MESSAGE" : "NOT_JOINED",
                        type is null ? "Messages are JSON objects with a \"type\"." : "Send join (with its token) first.", cancellationToken).ConfigureAwait(false);
                    continue;
                }

                var authorization = await authority.AuthorizeAsync(token, cancellationToken).ConfigureAwait(false);
                if (!authorization.IsAllowed)
                {
                    await SendErrorAsync(client, id, authorization.ErrorCode ?? "INVALID_TOKEN", authorization.ErrorMessage ?? "The join token was refused.", cancellationToken).ConfigureAwait(false);
                    continue;
                }

                var meetingId = authorization.Policy!.MeetingId;
                var node = await placements.PlaceAsync(meetingId, cancellationToken).ConfigureAwait(false);
                if (node is null)
                {
                    LogNoNode(logger, meetingId);
                    await FailAsync(client, id, "No media server is available for this meeting; try again shortly.", WebSocketCloseStatus.EndpointUnavailable).ConfigureAwait(false);
                    return null;
                }

                return (length, meetingId, node);
            }

            await CloseAsync(client, WebSocketCloseStatus.PolicyViolation, "too many refused joins").ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException)
        {
            LogPlacementFailed(logger, e);
            await FailAsync(client, null, "The meeting could not be placed on a media server; try again shortly.", WebSocketCloseStatus.InternalServerError).ConfigureAwait(false);
            return null;
        }
    }

    private async Task<ClientWebSocket?> ConnectAsync(WebSocket client, PlacedNode node, CancellationToken cancellationToken)
    {
        var url = new UriBuilder(node.InternalUrl.TrimEnd('/') + "/rtc/ws");
        url.Scheme = url.Scheme == Uri.UriSchemeHttps ? "wss" : "ws";
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(15);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ConnectTimeout);
        try
        {
            await socket.ConnectAsync(url.Uri, timeout.Token).ConfigureAwait(false);
            return socket;
        }
        catch (Exception e) when (e is WebSocketException or HttpRequestException or OperationCanceledException or IOException)
        {
            socket.Dispose();
            LogConnectFailed(logger, e, node.NodeId, url.Uri);
            // The node may have died a moment ago: the client reconnects and, once the node's heartbeat is
            // stale, its meeting is placed on another node.
            await FailAsync(client, null, "The meeting's media server did not answer; try again shortly.", WebSocketCloseStatus.EndpointUnavailable).ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>Both directions until one side closes; the close (code and reason) is passed to the other.</summary>
    private static async Task RelayAsync(WebSocket client, WebSocket node, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var up = PumpAsync(client, node, stop.Token);
        var down = PumpAsync(node, client, stop.Token);
        await Task.WhenAny(up, down).ConfigureAwait(false);
        // The other direction gets a moment to finish the close handshake, then it is cut.
        stop.CancelAfter(CloseGrace);
        await Task.WhenAll(up, down).ConfigureAwait(false);
    }

    private static async Task PumpAsync(WebSocket from, WebSocket to, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            long messageBytes = 0;
            while (true)
            {
                var result = await from.ReceiveAsync(buffer.AsMemory(0, ChunkBytes), cancellationToken).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await CloseAsync(to, from.CloseStatus ?? WebSocketCloseStatus.NormalClosure, from.CloseStatusDescription).ConfigureAwait(false);
                    return;
                }

                messageBytes = result.EndOfMessage ? 0 : messageBytes + result.Count;
                if (messageBytes > MaxRelayedMessageBytes)
                {
                    await CloseAsync(from, WebSocketCloseStatus.MessageTooBig, "MESSAGE_TOO_LARGE").ConfigureAwait(false);
                    await CloseAsync(to, WebSocketCloseStatus.MessageTooBig, "MESSAGE_TOO_LARGE").ConfigureAwait(false);
                    return;
                }

                // One fragment at a time: the send completes before the next receive, so a slow reader on one
                // side slows the other side's TCP window instead of growing a queue here.
                await to.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // This direction broke: tell the other side, which otherwise would wait for frames forever.
            await CloseAsync(to, WebSocketCloseStatus.InternalServerError, from.State == WebSocketState.Aborted ? "SFU_CONNECTION_LOST" : "bye").ConfigureAwait(false);
            await CloseAsync(from, WebSocketCloseStatus.InternalServerError, "SFU_CONNECTION_LOST").ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<(int Length, bool TooLarge, bool Closed)> ReceiveMessageAsync(WebSocket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        var length = 0;
        var tooLarge = false;
        while (true)
        {
            var space = tooLarge ? buffer.AsMemory(0, Math.Min(buffer.Length, 4096)) : buffer.AsMemory(length, buffer.Length - length);
            var result = await socket.ReceiveAsync(space, cancellationToken).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (0, false, true);
            }

            if (!tooLarge)
            {
                length += result.Count;
                tooLarge = length > SignalingSession.MaxMessageBytes;
            }

            if (result.EndOfMessage)
            {
                return (tooLarge ? 0 : length, tooLarge, false);
            }
        }
    }

    private static (long? Id, string? Type, string? Token) ParseJoin(ReadOnlySpan<byte> message)
    {
        var reader = new Utf8JsonReader(message, new JsonReaderOptions { MaxDepth = 16 });
        try
        {
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                return (null, null, null);
            }

            long? id = root.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.Number && idElement.TryGetInt64(out var value) ? value : null;
            var token = root.TryGetProperty("token", out var tokenElement) && tokenElement.ValueKind == JsonValueKind.String ? tokenElement.GetString() : null;
            return (id, type.GetString(), token);
        }
        catch (JsonException)
        {
            return (null, null, null);
        }
    }

    /// <summary>An error message, then the close: the client shows the code and may reconnect later.</summary>
    private static async Task FailAsync(WebSocket client, long? id, string message, WebSocketCloseStatus status)
    {
        try
        {
            using var timeout = new CancellationTokenSource(CloseGrace);
            await SendAsync(client, new ErrorMessage(id, SfuPlacementService.NoNode, message), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
        }

        await CloseAsync(client, status, SfuPlacementService.NoNode).ConfigureAwait(false);
    }

    private static Task SendErrorAsync(WebSocket client, long? id, string code, string message, CancellationToken cancellationToken) =>
        SendAsync(client, new ErrorMessage(id, code, message), cancellationToken);

    private static Task SendAsync(WebSocket client, ServerMessage message, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(message, message.GetType(), SignalingJson.Options);
        return client.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
    }

    private static async Task CloseAsync(WebSocket socket, WebSocketCloseStatus status, string? reason)
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await socket.CloseOutputAsync(status, reason, timeout.Token).ConfigureAwait(false);
        }
        // InvalidOperationException: the other direction is sending on this socket at this moment.
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    [LoggerMessage(EventId = 1630, Level = LogLevel.Debug, Message = "Signaling for meeting {MeetingId} relayed to SFU node {NodeId}")]
    private static partial void LogRouted(ILogger logger, string meetingId, string nodeId);

    [LoggerMessage(EventId = 1631, Level = LogLevel.Warning, Message = "No live SFU node takes meeting {MeetingId}: is any `parley serve --roles sfu` running on this database?")]
    private static partial void LogNoNode(ILogger logger, string meetingId);

    [LoggerMessage(EventId = 1632, Level = LogLevel.Warning, Message = "SFU node {NodeId} did not accept a signaling connection at {Url}")]
    private static partial void LogConnectFailed(ILogger logger, Exception exception, string nodeId, Uri url);

    [LoggerMessage(EventId = 1633, Level = LogLevel.Error, Message = "Placing a meeting failed")]
    private static partial void LogPlacementFailed(ILogger logger, Exception exception);
}
