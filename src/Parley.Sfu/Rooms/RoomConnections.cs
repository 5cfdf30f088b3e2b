using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Parley.WebRtc.Transport;

namespace Parley.Sfu.Rooms;

/// <summary>Connecting a participant's peer connections, and freeing everything when one dies.</summary>
public sealed partial class Room
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Runs ICE + DTLS for a new connection in the background. The connection's lifetime token is the
    /// participant's (consent checks run as long as it), the connect deadline is separate. When consent
    /// expires (RFC 7675, 30 s without checks) the participant is removed and its resources freed.
    /// </summary>
    internal void Connect(Participant participant, PeerConnection connection, string label)
    {
        var started = Stopwatch.GetTimestamp();
        connection.StateChanged += state =>
        {
            if (state is PeerConnectionState.Disconnected or PeerConnectionState.Failed)
            {
                // Raised under the transport's ICE lock: never take the worker lock on this thread.
                ThreadPool.QueueUserWorkItem(_ => MediaLost(participant, connection, label));
            }
        };
        _ = ConnectAsync(participant, connection, label, started);
    }

    private async Task ConnectAsync(Participant participant, PeerConnection connection, string label, long started)
    {
        try
        {
            await connection.ConnectAsync(participant.Lifetime).WaitAsync(ConnectTimeout).ConfigureAwait(false);
            var elapsed = Stopwatch.GetElapsedTime(started);
            Worker.Metrics.TransportConnectSeconds.Record(elapsed);
            LogConnected(Logger, MeetingId, participant.Id, label, (long)elapsed.TotalMilliseconds);
            if (label == "subscribe")
            {
                lock (Worker.Sync)
                {
                    foreach (var consumer in participant.Consumers)
                    {
                        RequestKeyframe(consumer.Producer, consumer.TargetLayer, Workers.SfuWorker.NowMicroseconds);
                    }
                }
            }
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException or WebRtc.Dtls.DtlsHandshakeException or ObjectDisposedException)
        {
            if (!participant.Lifetime.IsCancellationRequested)
            {
                LogConnectFailed(Logger, MeetingId, participant.Id, label, e.Message);
            }
        }
    }

    private void MediaLost(Participant participant, PeerConnection connection, string label)
    {
        lock (Worker.Sync)
        {
            if (participant.State == ParticipantState.Left
                || !(ReferenceEquals(participant.PublishConnection, connection) || ReferenceEquals(participant.SubscribeConnection, connection)))
            {
                return;
            }

            LogMediaLost(Logger, MeetingId, participant.Id, label);
            participant.Send(new ErrorMessage(null, "MEDIA_DISCONNECTED", "Your media connection was lost; join again."));
            participant.Sink.Close("media disconnected");
            Remove(participant, "disconnected");
        }
    }

    [LoggerMessage(EventId = 700, Level = LogLevel.Debug, Message = "Meeting {MeetingId}: {ParticipantId} {Connection} connection up in {Milliseconds} ms")]
    private static partial void LogConnected(ILogger logger, string meetingId, string participantId, string connection, long milliseconds);

    [LoggerMessage(EventId = 701, Level = LogLevel.Warning, Message = "Meeting {MeetingId}: {ParticipantId} {Connection} connection failed: {Reason}")]
    private static partial void LogConnectFailed(ILogger logger, string meetingId, string participantId, string connection, string reason);

    [LoggerMessage(EventId = 702, Level = LogLevel.Information, Message = "Meeting {MeetingId}: {ParticipantId} {Connection} connection lost (no ICE consent); participant removed")]
    private static partial void LogMediaLost(ILogger logger, string meetingId, string participantId, string connection);
}
