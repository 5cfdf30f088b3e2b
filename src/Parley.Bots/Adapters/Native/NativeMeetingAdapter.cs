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
/// finishes the files and hands the folder to <see cref="NativeRecordingDelivery"/>. With bot_image it shows the
/// images as its camera (NativeMeetingAdapter.Camera.cs); the recording side is in NativeMeetingAdapter.Recording.cs.
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
    private string? _latestSpeaker;
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
            lock (_gate)
            {
                _latestSpeaker = speaker;
            }

            ReportSpeaker();
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
            ReportSpeaker();
        }
    }

    /// <summary>
    /// Reports the SFU's latest active speaker once they are a known human and not reported already. The SFU
    /// names the current speaker right after `joined`, before this adapter has read the participant list, so
    /// a speaker not known yet is reported when they are.
    /// </summary>
    private void ReportSpeaker()
    {
        MeetingParticipant? who;
        lock (_gate)
        {
            if (_latestSpeaker is not { } speaker || speaker == _lastSpeaker || !_humans.TryGetValue(speaker, out who))
            {
                return;
            }

            _lastSpeaker = speaker;
        }

        _events?.SpeakerChanged(who);
    }

    [LoggerMessage(EventId = 7100, Level = LogLevel.Information, Message = "Joined meeting {MeetingId} as {ParticipantId}")]
    private static partial void LogJoined(ILogger logger, string meetingId, string participantId);

    [LoggerMessage(EventId = 7104, Level = LogLevel.Information, Message = "The meeting closed ({Reason})")]
    private static partial void LogMeetingClosed(ILogger logger, string reason);

    [LoggerMessage(EventId = 7105, Level = LogLevel.Warning, Message = "Signaling lost ({Reason}); ending the call with what was recorded")]
    private static partial void LogDisconnected(ILogger logger, string reason);

    [LoggerMessage(EventId = 7106, Level = LogLevel.Warning, Message = "Chat message not sent: {Reason}")]
    private static partial void LogChatFailed(ILogger logger, string reason);
}
