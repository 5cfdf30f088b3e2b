using Microsoft.Extensions.Logging;
using Parley.Bots.Api;
using Parley.Bots.Recording;
using Parley.Sfu.Client;
using Parley.WebRtc.Rtcp;

namespace Parley.Bots.Adapters.Native;

/// <summary>The recording side of the adapter: a <see cref="TrackRecorder"/> per received track, RTCP, the 20 ms pump, the end and the delivery.</summary>
public sealed partial class NativeMeetingAdapter
{
    /// <summary>
    /// RTP of a recorded track: RTX retransmissions (what the SFU sends on the RTX SSRC in answer to our NACKs) are
    /// unwrapped into the original packet first; RTX padding is dropped. Socket thread; no allocation per packet.
    /// </summary>
    internal static void OnTrackRtp(SubscribeRtxRepair rtx, SubscribedTrack track, TrackRecorder recorder, ReadOnlySpan<byte> packet)
    {
        var scratch = t_rtxScratch ??= new byte[2048];
        if (rtx.TryUnwrap(track.Mid, packet, track.Ssrc ?? recorder.MediaSsrc, scratch, out var length))
        {
            if (length > 0)
            {
                recorder.OnRtpPacket(scratch.AsSpan(0, length));
            }

            return;
        }

        recorder.OnRtpPacket(packet);
    }

    private void StartRecording(JoinedInfo joined)
    {
        var directory = Path.Combine(Path.GetTempPath(), "parley-recordings", $"{_context.Config.BotId}-{joined.ParticipantId}");
        var session = new RecordingSession(directory, _context.Time, _context.Loggers);
        session.AddParticipant(new MeetingParticipant(joined.ParticipantId, _context.Config.BotName), isBot: true);
        _session = session;
        LogRecording(_logger, directory);
        foreach (var track in _client!.SubscribedTracks)
        {
            AddTrack(track);
        }
    }

    private void AddTrack(SubscribedTrack track)
    {
        if (_session is not { } session || track.Tag is TrackRecorder)
        {
            return;
        }

        if (IsBot(track.ParticipantId))
        {
            // Another bot's camera (its bot_image) is not part of the meeting being recorded: bots are left out of
            // participants, speakers and diarization too. Our own tracks never come back to us from the SFU.
            LogBotTrackSkipped(_logger, track.ToString());
            return;
        }

        RecordingCodec? codec = track.Kind == "audio"
            ? RecordingCodec.Opus
            : track.Codec?.ToUpperInvariant() switch
            {
                "VP8" => RecordingCodec.Vp8,
                "H264" => RecordingCodec.H264,
                _ => null,
            };
        if (codec is null)
        {
            LogUnsupportedCodec(_logger, track.ToString(), track.Codec ?? "?");
            return;
        }

        try
        {
            var recorder = session.AddTrack(new TrackRecorderOptions
            {
                ParticipantId = track.ParticipantId,
                Kind = track.Kind == "audio" ? TrackKind.Audio : TrackKind.Video,
                Codec = codec.Value,
                Source = track.Source,
                ClockRate = track.ClockRate,
                AudioLevelExtensionId = track.Kind == "audio" ? SubscribeAudioLevelExtensionId : 0,
            });
            track.Tag = recorder;
            lock (_gate)
            {
                _recorders.Add(recorder);
            }

            LogTrack(_logger, track.ToString(), recorder.FilePath);
        }
        catch (ObjectDisposedException)
        {
            // The session stopped meanwhile (leaving).
        }
    }

    private void OnSubscribeRtcp(ReadOnlySpan<byte> compound)
    {
        TrackRecorder[] recorders;
        lock (_gate)
        {
            recorders = [.. _recorders];
        }

        foreach (var packet in new RtcpCompoundEnumerator(compound))
        {
            if (RtcpSenderReport.TryParse(packet, out var report))
            {
                foreach (var recorder in recorders)
                {
                    recorder.OnSenderReport(report.Ssrc, report.NtpTimestamp, report.RtpTimestamp);
                }
            }
        }
    }

    /// <summary>Every 20 ms: jitter buffers give up old gaps, NACKs and PLIs go out.</summary>
    private async Task PumpAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        var lost = new ushort[64];
        var rtcp = new byte[1500];
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                TrackRecorder[] recorders;
                lock (_gate)
                {
                    recorders = [.. _recorders];
                }

                foreach (var recorder in recorders)
                {
                    recorder.Poll();
                    var ssrc = recorder.MediaSsrc;
                    if (ssrc == 0 || _client is not { } client)
                    {
                        continue;
                    }

                    var count = recorder.CollectNacks(lost, 50);
                    if (count > 0)
                    {
                        var length = RtcpNack.Write(rtcp, 1, ssrc, lost.AsSpan(0, count));
                        client.SendSubscribeRtcp(rtcp, length);
                    }

                    if (recorder.KeyframeRequestDue())
                    {
                        client.RequestKeyframe(ssrc);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>
    /// Stops every recorder and the session (files finished, manifest final); returns the folder once. When everyone
    /// else had left (the bot waited out everyone_left_timeout, or was told to leave while alone), the recording
    /// ends when the last participant left: the time the bot spent alone holds nothing worth delivering, and a
    /// 20 s meeting gives a 20 s recording whatever the timeout (issue 7's end-to-end test).
    /// </summary>
    private string? StopRecording()
    {
        RecordingSession? session;
        double? endAt;
        lock (_gate)
        {
            session = _session;
            _session = null;
            _recorders.Clear();
            endAt = _humans.IsEmpty ? _aloneSince : null;
        }

        if (session is null)
        {
            return null;
        }

        session.Stop(endAt);
        return session.Directory;
    }

    private async Task<RecordingDeliveryOutcome?> DeliverAsync(string directory, CancellationToken cancellationToken)
    {
        var options = _context.Options;
        if (options.ApiUrl is null || options.Token is null)
        {
            LogNoDelivery(_logger, directory);
            return null;
        }

        using var api = new BotApiClient(options.ApiUrl, _context.Config.BotId, options.Token, TimeSpan.FromMilliseconds(options.ApiRetryBudgetMs), _context.Time, _context.Loggers.CreateLogger<BotApiClient>());
        var delivery = NativeRecordingDelivery.Create(_context, api);
        return await delivery.DeliverAsync(directory, _context.Config.RecordingMode, cancellationToken).ConfigureAwait(false);
    }

    private bool IsBot(string participantId) =>
        participantId == _client?.ParticipantId
        || (_client?.Participants.FirstOrDefault(p => p.ParticipantId == participantId) is { IsBot: true });

    [LoggerMessage(EventId = 7110, Level = LogLevel.Information, Message = "Track {Track} not recorded: it is a bot's")]
    private static partial void LogBotTrackSkipped(ILogger logger, string track);

    [LoggerMessage(EventId = 7101, Level = LogLevel.Information, Message = "Recording into {Directory}")]
    private static partial void LogRecording(ILogger logger, string directory);

    [LoggerMessage(EventId = 7102, Level = LogLevel.Information, Message = "Recording track {Track} to {File}")]
    private static partial void LogTrack(ILogger logger, string track, string file);

    [LoggerMessage(EventId = 7103, Level = LogLevel.Warning, Message = "Track {Track} not recorded: codec {Codec} is not supported")]
    private static partial void LogUnsupportedCodec(ILogger logger, string track, string codec);

    [LoggerMessage(EventId = 7107, Level = LogLevel.Warning, Message = "No API URL or token: the recording stays in {Directory}")]
    private static partial void LogNoDelivery(ILogger logger, string directory);
}
