using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Parley.Bots.Api;
using Parley.Bots.Recording;
using Parley.Core.Bots;
using Parley.Sfu.Client;
using Parley.WebRtc.Rtcp;

namespace Parley.Bots.Adapters.Native;

/// <summary>
/// The Parley meeting adapter (issue 7 item 1): joins the meeting with the join token the API minted for the bot
/// (identity bot-{bot_id}, flagged bot, so every client shows the recording banner) through
/// <see cref="MeetingClient"/>, reports the waiting room and in-call statuses, relays chat, participants and the
/// active speaker, posts entry_message, and records every audio and video track it receives (tracks published
/// later included) with a <see cref="TrackRecorder"/> each: no decoding while the meeting runs. After leaving it
/// finishes the files and hands the folder to <see cref="NativeRecordingDelivery"/>.
/// </summary>
public sealed partial class NativeMeetingAdapter : IMeetingAdapter
{
    /// <summary>The extmap id of ssrc-audio-level in the SFU's subscribe offers (docs/signaling.md; ParticipantSubscribe).</summary>
    public const int SubscribeAudioLevelExtensionId = 10;

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    private readonly MeetingAdapterContext _context;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource<MeetingEnd> _end = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, MeetingParticipant> _humans = new(StringComparer.Ordinal);
    private readonly Func<string, CancellationToken, Task<RecordingDeliveryOutcome?>>? _deliver;
    private readonly Lock _gate = new();
    private readonly List<TrackRecorder> _recorders = [];
    private MeetingClient? _client;
    private RecordingSession? _session;
    private IMeetingEventSink? _events;
    private string? _lastSpeaker;
    private volatile bool _leaving;
    private volatile SubscribeRtxRepair _rtx = SubscribeRtxRepair.Empty;
    private double? _aloneSince;

    [ThreadStatic]
    private static byte[]? t_rtxScratch;

    /// <param name="deliver">What happens to the finished recording folder (compose and upload) and how it went; null: the default delivery.</param>
    public NativeMeetingAdapter(MeetingAdapterContext context, Func<string, CancellationToken, Task<RecordingDeliveryOutcome?>>? deliver = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        _logger = context.Loggers.CreateLogger<NativeMeetingAdapter>();
        _deliver = deliver;
    }

    public bool ReportsAudioLevel => true;

    /// <summary>The folder of the recording (track files, recording.json) once recording started.</summary>
    public string? RecordingDirectory => _session?.Directory;

    public static IMeetingAdapter Create(MeetingAdapterContext context) => new NativeMeetingAdapter(context);

    public async Task<MeetingEnd> RunAsync(IMeetingEventSink events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        _events = events;
        var join = ReadJoin(_context.Config);
        LoadCamera(cancellationToken);
        var client = new MeetingClient(new MeetingClientOptions
        {
            ServerUrl = join.ServerUrl,
            Token = join.Token,
            Timeout = TimeSpan.FromSeconds(20),
            Logger = _context.Loggers.CreateLogger<MeetingClient>(),
        });
        _client = client;
        Hook(client);

        try
        {
            await client.JoinAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (MeetingClientException ex)
        {
            throw ex.Code switch
            {
                "LOBBY_DENIED" => new MeetingFailedException(BotErrorCode.BotNotAccepted, "The host refused the bot at the lobby.", BotStatus.BotRejected),
                "MEETING_NOT_FOUND" or "MEETING_CLOSED" => new MeetingFailedException(BotErrorCode.CannotJoinMeeting, $"Cannot join: {ex.Message}", BotStatus.MeetingError),
                _ => new MeetingFailedException(BotErrorCode.CannotJoinMeeting, $"Cannot join the meeting: {ex.Message}", BotStatus.MeetingError),
            };
        }

        Report(BotStatus.InCallNotRecording);
        var joined = client.JoinInfo!;
        LogJoined(_logger, joined.Meeting.MeetingId, joined.ParticipantId);

        StartRecording(joined);
        foreach (var p in joined.Participants)
        {
            OnParticipant(p);
        }

        foreach (var message in joined.Chat)
        {
            _session!.AddChatMessage(message.ParticipantId, message.Name ?? message.ParticipantId, message.Text, message.MessageId, message.SentAt);
        }

        Report(BotStatus.InCallRecording);
        StartCamera(client, cancellationToken);
        if (EntryMessage(_context.Config) is { } entry)
        {
            await SendChatMessageAsync(entry, cancellationToken).ConfigureAwait(false);
        }

        MeetingEnd end;
        using (var timer = new PeriodicTimer(PollInterval, _context.Time))
        {
            var pump = PumpAsync(timer, cancellationToken);
            try
            {
                end = await _end.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                timer.Dispose();
                await pump.ConfigureAwait(false);
            }
        }

        await StopCameraAsync().ConfigureAwait(false);
        await client.LeaveAsync(CancellationToken.None).ConfigureAwait(false);
        var directory = StopRecording();
        // Out of the call: the runtime's leave grace no longer applies to the composition and upload that follow
        // (minutes for a long meeting on a busy machine).
        Report(BotStatus.CallEnded);
        if (directory is not null)
        {
            // A failed delivery throws (recording_failed); a delivered one may still have something to say in the bot's
            // error_message: what ffmpeg could not make, or that the upload waits in the fallback directory.
            var outcome = await (_deliver ?? DeliverAsync)(directory, cancellationToken).ConfigureAwait(false);
            events.RecordingDelivered(WithCameraMessage(outcome?.Message));
        }

        return end;
    }

    public Task LeaveAsync(CancellationToken cancellationToken)
    {
        _leaving = true;
        _end.TrySetResult(MeetingEnd.Left);
        return Task.CompletedTask;
    }

    public async Task SendChatMessageAsync(string text, CancellationToken cancellationToken)
    {
        if (_client is not { IsConnected: true } client || string.IsNullOrWhiteSpace(text))
        {
            return;
        }

        try
        {
            // The signaling takes at most 2000 characters; the API lets 500 through.
            await client.SendChatAsync(text.Length <= 2000 ? text : text[..2000], cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MeetingClientException or System.Net.WebSockets.WebSocketException or ObjectDisposedException)
        {
            LogChatFailed(_logger, ex.Message);
        }
    }

    public Task SetRecordingPausedAsync(bool paused, CancellationToken cancellationToken)
    {
        if (_session is not { } session)
        {
            return Task.CompletedTask;
        }

        if (paused)
        {
            session.Pause();
            Report(BotStatus.RecordingPaused);
        }
        else
        {
            session.Resume();
            Report(BotStatus.RecordingResumed);
        }

        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await StopCameraAsync().ConfigureAwait(false);
        StopRecording();
        if (_client is { } client)
        {
            await client.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The bot's join from the config (meeting_join of GET /internal/bots/{id}/config).</summary>
    internal static (Uri ServerUrl, string Token) ReadJoin(BotConfig config)
    {
        var join = config.MeetingJoin;
        if (join.ValueKind != JsonValueKind.Object)
        {
            throw new MeetingFailedException(BotErrorCode.CannotJoinMeeting, "The API gave no join token for this Parley meeting (meeting_join missing from the bot config).", BotStatus.MeetingError);
        }

        string? Text(string name) => join.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        if (Text("error") is { } error)
        {
            throw new MeetingFailedException(BotErrorCode.CannotJoinMeeting, error, BotStatus.MeetingError);
        }

        if (Text("token") is not { Length: > 0 } token || !Uri.TryCreate(Text("server_url"), UriKind.Absolute, out var server))
        {
            throw new MeetingFailedException(BotErrorCode.CannotJoinMeeting, "The bot config's meeting_join has no token or server_url.", BotStatus.MeetingError);
        }

        return (server, token);
    }

    internal static string? EntryMessage(BotConfig config) =>
        config.Body.ValueKind == JsonValueKind.Object && config.Body.TryGetProperty("entry_message", out var m) && m.ValueKind == JsonValueKind.String
            && m.GetString() is { Length: > 0 } text ? text : null;

    private void Hook(MeetingClient client)
    {
        client.LobbyWaiting += () => Report(BotStatus.InWaitingRoom);
        client.ParticipantJoined += OnParticipant;
        client.ParticipantUpdated += OnParticipant;
        client.ParticipantLeft += (id, _) =>
        {
            if (_humans.TryRemove(id, out var gone))
            {
                lock (_gate)
                {
                    if (_humans.IsEmpty && _session is { } session)
                    {
                        _aloneSince = session.ElapsedSeconds;
                    }
                }

                _events?.ParticipantLeft(gone);
            }
        };
        client.ChatReceived += message =>
        {
            if (message.ParticipantId == client.ParticipantId)
            {
                return;
            }

            var sender = _humans.TryGetValue(message.ParticipantId, out var known) ? known : new MeetingParticipant(message.ParticipantId, message.Name ?? message.ParticipantId);
            _session?.AddChatMessage(message.ParticipantId, sender.Name, message.Text, message.MessageId, message.SentAt);
            _events?.ChatMessageReceived(sender, message.Text, message.MessageId);
        };
        client.ActiveSpeakerChanged += (speaker, levels) =>
        {
            var loudest = 0.0;
            foreach (var level in levels)
            {
                if (_humans.ContainsKey(level.ParticipantId) && level.Level > loudest)
                {
                    loudest = level.Level;
                }
            }

            _events?.AudioLevel(loudest);
            if (speaker is not null && speaker != _lastSpeaker && _humans.TryGetValue(speaker, out var who))
            {
                _lastSpeaker = speaker;
                _events?.SpeakerChanged(who);
            }
        };
        client.MeetingClosed += reason =>
        {
            LogMeetingClosed(_logger, reason);
            _end.TrySetResult(MeetingEnd.CallEnded);
        };
        client.ErrorReceived += error =>
        {
            if (error.Code == "REPLACED")
            {
                _end.TrySetResult(MeetingEnd.Removed);
            }
        };
        client.Disconnected += reason =>
        {
            if (!_leaving)
            {
                // No resume yet: what was recorded up to here is delivered.
                LogDisconnected(_logger, reason);
                _end.TrySetResult(MeetingEnd.CallEnded);
            }
        };
        client.SubscriptionChanged += (_, added, removed) =>
        {
            _rtx = SubscribeRtxRepair.FromOffer(client.SubscribeConnection?.RemoteDescription);
            foreach (var track in removed)
            {
                if (track.Tag is TrackRecorder recorder)
                {
                    recorder.Stop();
                }
            }

            foreach (var track in added)
            {
                AddTrack(track);
            }
        };
        client.RtpReceived += (track, packet) =>
        {
            if (track.Tag is TrackRecorder recorder)
            {
                OnTrackRtp(_rtx, track, recorder, packet);
            }
        };
        client.SubscribeRtcpReceived += OnSubscribeRtcp;
    }

    private void OnParticipant(ParticipantInfo participant)
    {
        if (participant.IsBot || participant.ParticipantId == _client?.ParticipantId)
        {
            if (participant.IsBot)
            {
                _session?.AddParticipant(new MeetingParticipant(participant.ParticipantId, participant.Name ?? participant.ParticipantId), isBot: true);
            }

            return;
        }

        var p = new MeetingParticipant(participant.ParticipantId, participant.Name ?? participant.Identity ?? participant.ParticipantId);
        _session?.AddParticipant(p);
        lock (_gate)
        {
            _aloneSince = null;
        }

        if (_humans.TryAdd(p.Id, p))
        {
            _events?.ParticipantJoined(p);
        }
    }

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

    [LoggerMessage(EventId = 7100, Level = LogLevel.Information, Message = "Joined meeting {MeetingId} as {ParticipantId}")]
    private static partial void LogJoined(ILogger logger, string meetingId, string participantId);

    [LoggerMessage(EventId = 7101, Level = LogLevel.Information, Message = "Recording into {Directory}")]
    private static partial void LogRecording(ILogger logger, string directory);

    [LoggerMessage(EventId = 7102, Level = LogLevel.Information, Message = "Recording track {Track} to {File}")]
    private static partial void LogTrack(ILogger logger, string track, string file);

    [LoggerMessage(EventId = 7103, Level = LogLevel.Warning, Message = "Track {Track} not recorded: codec {Codec} is not supported")]
    private static partial void LogUnsupportedCodec(ILogger logger, string track, string codec);

    [LoggerMessage(EventId = 7104, Level = LogLevel.Information, Message = "The meeting closed ({Reason})")]
    private static partial void LogMeetingClosed(ILogger logger, string reason);

    [LoggerMessage(EventId = 7105, Level = LogLevel.Warning, Message = "Signaling lost ({Reason}); ending the call with what was recorded")]
    private static partial void LogDisconnected(ILogger logger, string reason);

    [LoggerMessage(EventId = 7106, Level = LogLevel.Warning, Message = "Chat message not sent: {Reason}")]
    private static partial void LogChatFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 7107, Level = LogLevel.Warning, Message = "No API URL or token: the recording stays in {Directory}")]
    private static partial void LogNoDelivery(ILogger logger, string directory);
}
