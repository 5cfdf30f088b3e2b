using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Parley.Sfu.Meetings;
using Parley.Sfu.Routing;
using Parley.Sfu.Workers;
using Parley.WebRtc.Transport;

namespace Parley.Sfu.Rooms;

/// <summary>
/// A meeting's live state on one worker (mediasoup's Router plus the room logic around it): who is in
/// it and who waits in the lobby, its chat, its producers and consumers, the active speaker, and its
/// lifetime (TTL, empty timeout). Every member runs under the worker's lock; messages to clients are
/// queued on their sinks, never awaited.
/// </summary>
public sealed partial class Room : IWorkerTickable
{
    private readonly SfuEngine _engine;
    private readonly Dictionary<string, Participant> _participants = new(StringComparer.Ordinal);
    private readonly List<Participant> _lobby = [];
    private readonly List<ChatMessageView> _chat = [];
    private long _chatSequence;
    private string? _activeSpeaker;
    private long _nextSpeakerMicroseconds;
    private long _nextLifecycleMicroseconds;
    private DateTimeOffset? _emptySince;

    /// <summary>RTC_DROP_SILENT_AUDIO: silent audio packets are not forwarded (bots still get them).</summary>
    internal bool DropSilentAudio => _engine.Options.DropSilentAudio;

    internal Room(SfuEngine engine, MeetingPolicy policy, SfuWorker worker, ILogger logger)
    {
        _engine = engine;
        Policy = policy;
        Worker = worker;
        Logger = logger;
        _emptySince = DateTimeOffset.UtcNow;
    }

    public string MeetingId => Policy.MeetingId;

    public MeetingPolicy Policy { get; private set; }

    public SfuWorker Worker { get; }

    internal ILogger Logger { get; }

    internal TimeSpan ConsentTimeout => _engine.Options.ConsentTimeout;

    internal ActiveSpeakerDetector Speakers { get; } = new();

    public bool Closed { get; private set; }

    public DateTimeOffset CreatedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>Participants in the meeting (connected or reconnecting), not the lobby.</summary>
    public int ParticipantCount => _participants.Count;

    public int LobbyCount => _lobby.Count;

    public int ProducerCount => _participants.Values.Sum(p => p.Producers.Count);

    public int ConsumerCount => _participants.Values.Sum(p => p.ConsumersBySsrc.Count);

    public int TransportCount => _participants.Values.Sum(p => (p.PublishConnection is null ? 0 : 1) + (p.SubscribeConnection is null ? 0 : 1));

    public bool Recording => _participants.Values.Any(p => p.IsBot);

    internal static string NewId(string prefix) => prefix + Convert.ToHexString(RandomNumberGenerator.GetBytes(6)).ToLowerInvariant();

    public IReadOnlyList<ParticipantView> Participants() => _participants.Values.Select(p => p.View()).ToList();

    /// <summary>
    /// A join with a verified grant. A second join with the same identity replaces the first (a new tab);
    /// the meeting's capacity counts everyone in it, bots included; non-hosts wait in the lobby when it is on.
    /// </summary>
    internal Participant Join(JoinGrant grant, MeetingPolicy policy, IParticipantSink sink)
    {
        if (Closed)
        {
            throw new SignalingException("MEETING_CLOSED", "This meeting has ended.");
        }

        Policy = policy;
        var previous = _participants.Values.FirstOrDefault(p => p.Grant.Identity == grant.Identity)
            ?? _lobby.FirstOrDefault(p => p.Grant.Identity == grant.Identity);
        if (previous is null && _participants.Count >= policy.MaxParticipants)
        {
            throw new SignalingException("ROOM_FULL", $"This meeting is full ({policy.MaxParticipants} participants).");
        }

        if (previous is not null)
        {
            previous.Send(new ErrorMessage(null, "REPLACED", "You joined this meeting from somewhere else."));
            previous.Sink.Close("replaced");
            Remove(previous, "replaced");
        }

        var participant = new Participant(this, NewId("p_"), grant, sink);
        // Bots wait like anyone else: the lobby is the waiting room a recording bot reports (in_waiting_room)
        // and gives up on after its waiting_room_timeout, as on the platforms Meeting BaaS clients know.
        if (policy.Lobby && !grant.IsHost)
        {
            participant.State = ParticipantState.Waiting;
            _lobby.Add(participant);
            participant.Send(new LobbyWaitingMessage());
            foreach (var host in Hosts())
            {
                host.Send(new LobbyRequestMessage(new LobbyParticipantView(participant.Id, grant.Name)));
            }

            return participant;
        }

        Admit(participant);
        return participant;
    }

    /// <summary>Takes over a participant whose signaling dropped (docs/signaling.md "Reconnecting").</summary>
    internal Participant Resume(JoinGrant grant, string resumeToken, IParticipantSink sink)
    {
        var participant = _participants.Values.FirstOrDefault(p => p.Grant.Identity == grant.Identity && p.ResumeToken == resumeToken);
        if (Closed || participant is null)
        {
            throw new SignalingException("RESUME_EXPIRED", "Too late to resume; join again.");
        }

        if (!ReferenceEquals(participant.Sink, sink))
        {
            participant.Sink.Close("replaced");
        }

        participant.Sink = sink;
        participant.DisconnectedAt = null;
        var wasReconnecting = participant.State == ParticipantState.Reconnecting;
        participant.State = ParticipantState.Joined;
        participant.Send(JoinedMessage(participant));
        SendActiveSpeaker(participant);
        if (wasReconnecting)
        {
            Broadcast(new ParticipantUpdatedMessage(participant.View()), except: participant);
        }

        // Whatever the client missed meanwhile: its subscribe state is re-offered from scratch.
        participant.ScheduleSubscribeOffer();
        return participant;
    }

    /// <summary>The participant's signaling dropped without `leave`: keep it for a resume.</summary>
    internal void Disconnected(Participant participant, IParticipantSink sink)
    {
        if (!ReferenceEquals(participant.Sink, sink) || participant.State == ParticipantState.Left)
        {
            return; // already replaced or gone
        }

        if (participant.State == ParticipantState.Waiting)
        {
            Remove(participant, "left");
            return;
        }

        participant.State = ParticipantState.Reconnecting;
        participant.DisconnectedAt = DateTimeOffset.UtcNow;
        Broadcast(new ParticipantUpdatedMessage(participant.View()), except: participant);
    }

    internal void Leave(Participant participant, string reason) => Remove(participant, reason);

    internal void Publish(Participant participant, long? requestId, string sdp, IReadOnlyDictionary<string, (string Kind, string Source)> tracks)
    {
        if (!participant.Grant.CanPublish)
        {
            throw new SignalingException("FORBIDDEN", "Your join token does not allow publishing.");
        }

        var (answer, added, removed) = participant.Publish(sdp, tracks);
        participant.Send(new PublishAnswerMessage(requestId, answer));
        foreach (var producer in removed)
        {
            foreach (var other in _participants.Values)
            {
                var dropped = other.Consumers.Where(c => ReferenceEquals(c.Producer, producer)).ToList();
                foreach (var consumer in dropped)
                {
                    other.RemoveConsumer(consumer);
                }

                if (dropped.Count > 0)
                {
                    other.ScheduleSubscribeOffer();
                }
            }
        }

        var now = SfuWorker.NowMicroseconds;
        foreach (var producer in added)
        {
            Worker.Metrics.ProducerCreated();
            Worker.Metrics.ProducerCreationSeconds.Record(TimeSpan.FromMicroseconds(now - producer.CreatedAtMicroseconds));
        }

        if (added.Count > 0)
        {
            // One offer per subscriber for everything this publish added.
            foreach (var other in _participants.Values)
            {
                if (!ReferenceEquals(other, participant) && other.Grant.CanSubscribe && Wants(other, participant))
                {
                    foreach (var producer in added)
                    {
                        other.AddConsumer(producer);
                        Worker.Metrics.ConsumerCreated();
                    }

                    other.ScheduleSubscribeOffer();
                }
            }
        }

        if (added.Count > 0 || removed.Count > 0)
        {
            Broadcast(new ParticipantUpdatedMessage(participant.View()));
        }
    }

    internal void Mute(Participant participant, string trackId, bool muted)
    {
        var producer = participant.Producers.Values.FirstOrDefault(p => p.Id == trackId)
            ?? throw new SignalingException("UNKNOWN_TRACK", $"You publish no track {trackId}.");
        if (producer.Muted == muted)
        {
            return;
        }

        producer.Muted = muted;
        if (!muted && producer.IsVideo)
        {
            // Consumers resume on a keyframe.
            foreach (var layer in producer.Layers)
            {
                RequestKeyframe(producer, layer.Index, SfuWorker.NowMicroseconds);
            }
        }

        Broadcast(new ParticipantUpdatedMessage(participant.View()));
    }

    internal void SetLayer(Participant participant, string trackId, int layer)
    {
        var consumer = participant.Consumers.FirstOrDefault(c => c.Producer.Id == trackId)
            ?? throw new SignalingException("UNKNOWN_TRACK", $"You receive no track {trackId}.");
        consumer.PreferredLayer = Math.Clamp(layer, 0, consumer.Producer.Layers.Length - 1);
        consumer.SelectLayer(participant.EstimatedBandwidth, SfuWorker.NowMicroseconds);
    }

    internal void Chat(Participant participant, string text)
    {
        var message = new ChatMessageView($"c_{++_chatSequence}", participant.Id, participant.Grant.Name, text, DateTimeOffset.UtcNow);
        _chat.Add(message);
        if (_chat.Count > _engine.Options.ChatHistoryLimit)
        {
            _chat.RemoveAt(0);
        }

        Broadcast(new ChatMessage(message));
    }

    internal void RaiseHand(Participant participant, bool raised)
    {
        if (participant.HandRaised != raised)
        {
            participant.HandRaised = raised;
            Broadcast(new ParticipantUpdatedMessage(participant.View()));
        }
    }

    internal void LobbyDecision(Participant host, string participantId, bool admit)
    {
        if (!host.Grant.IsHost)
        {
            throw new SignalingException("FORBIDDEN", "Only hosts admit or deny.");
        }

        var waiting = _lobby.FirstOrDefault(p => p.Id == participantId)
            ?? throw new SignalingException("UNKNOWN_PARTICIPANT", $"Nobody with id {participantId} waits in the lobby.");
        _lobby.Remove(waiting);
        foreach (var other in Hosts())
        {
            other.Send(new LobbyLeftMessage(waiting.Id));
        }

        if (!admit)
        {
            waiting.Send(new ErrorMessage(null, "LOBBY_DENIED", "The host did not let you in."));
            waiting.Sink.Close("denied");
            waiting.State = ParticipantState.Left;
            return;
        }

        if (_participants.Count >= Policy.MaxParticipants)
        {
            waiting.Send(new ErrorMessage(null, "ROOM_FULL", $"This meeting is full ({Policy.MaxParticipants} participants)."));
            waiting.Sink.Close("full");
            waiting.State = ParticipantState.Left;
            return;
        }

        Admit(waiting);
    }

    /// <summary>Asks the publisher for a keyframe of a layer, at most once per limiter interval (PLI, RFC 4585 §6.3.1).</summary>
    internal void RequestKeyframe(Producer producer, int layerIndex, long now)
    {
        if ((uint)layerIndex >= (uint)producer.Layers.Length || producer.Owner.PublishConnection is not { State: PeerConnectionState.Connected } publish)
        {
            return;
        }

        var layer = producer.Layers[layerIndex];
        if (layer.Ssrc != 0 && layer.KeyframeLimiter.ShouldRequest(now / 1000))
        {
            publish.RequestKeyframe(layer.Ssrc);
            Worker.Metrics.PliSent();
        }
    }

    /// <summary>Closes the meeting for everyone (TTL, empty timeout, deleted).</summary>
    internal void Close(string reason)
    {
        if (Closed)
        {
            return;
        }

        Closed = true;
        foreach (var participant in _participants.Values.Concat(_lobby).ToList())
        {
            participant.Send(new MeetingClosedMessage(reason));
            participant.Sink.Close("meeting closed");
            participant.Close();
        }

        Worker.ParticipantCount -= _participants.Count;
        _participants.Clear();
        _lobby.Clear();
        _engine.RoomClosed(this, reason);
    }

    void IWorkerTickable.Tick(long nowMicroseconds)
    {
        foreach (var participant in _participants.Values)
        {
            participant.TickMedia(nowMicroseconds, Worker.RtcpScratch);
            participant.CheckStalledOffer(nowMicroseconds);
        }

        if (nowMicroseconds >= _nextSpeakerMicroseconds)
        {
            _nextSpeakerMicroseconds = nowMicroseconds + 300_000;
            var nowMs = nowMicroseconds / 1000;
            if (Speakers.Evaluate(nowMs, out var speaker) && speaker != _activeSpeaker)
            {
                _activeSpeaker = speaker;
                var levels = Speakers.Levels(nowMs).Select(l => new SpeakerLevelView(l.ParticipantId, Math.Round(l.Level, 3))).ToList();
                Broadcast(new ActiveSpeakerMessage(speaker, levels));
            }
        }

        if (nowMicroseconds >= _nextLifecycleMicroseconds)
        {
            _nextLifecycleMicroseconds = nowMicroseconds + 1_000_000;
            CheckLifecycle(DateTimeOffset.UtcNow);
        }
    }

    private void CheckLifecycle(DateTimeOffset now)
    {
        if (now >= Policy.EndsAt)
        {
            Close("ttl");
            return;
        }

        foreach (var participant in _participants.Values.ToList())
        {
            if (participant.State == ParticipantState.Reconnecting && participant.DisconnectedAt is { } since
                && now - since > _engine.Options.ResumeWindow)
            {
                Remove(participant, "disconnected");
            }
        }

        if (_participants.Count == 0 && _lobby.Count == 0 && _emptySince is { } empty && now - empty >= Policy.EmptyTimeout)
        {
            Close("empty");
        }
    }

    private void Admit(Participant participant)
    {
        var wasRecording = Recording;
        participant.State = ParticipantState.Joined;
        _participants[participant.Id] = participant;
        Worker.ParticipantCount++;
        _emptySince = null;
        participant.Send(JoinedMessage(participant));
        SendActiveSpeaker(participant);
        Broadcast(new ParticipantJoinedMessage(participant.View()), except: participant);
        if (participant.Grant.CanSubscribe)
        {
            foreach (var other in _participants.Values)
            {
                if (ReferenceEquals(other, participant) || !Wants(participant, other))
                {
                    continue;
                }

                foreach (var producer in other.Producers.Values)
                {
                    participant.AddConsumer(producer);
                    Worker.Metrics.ConsumerCreated();
                }
            }

            participant.ScheduleSubscribeOffer();
        }

        if (!wasRecording && Recording)
        {
            Broadcast(new RecordingMessage(true), except: participant);
        }

        if (participant.Grant.IsHost)
        {
            foreach (var waiting in _lobby)
            {
                participant.Send(new LobbyRequestMessage(new LobbyParticipantView(waiting.Id, waiting.Grant.Name)));
            }
        }
    }

    private void Remove(Participant participant, string reason)
    {
        if (participant.State == ParticipantState.Waiting)
        {
            _lobby.Remove(participant);
            participant.State = ParticipantState.Left;
            foreach (var host in Hosts())
            {
                host.Send(new LobbyLeftMessage(participant.Id));
            }

            return;
        }

        var wasRecording = Recording;
        if (!_participants.Remove(participant.Id))
        {
            return;
        }

        Worker.ParticipantCount--;
        var producers = participant.Producers.Values.ToList();
        participant.Close();
        Speakers.Remove(participant.Id);
        foreach (var other in _participants.Values)
        {
            var dropped = other.Consumers.Where(c => producers.Contains(c.Producer)).ToList();
            foreach (var consumer in dropped)
            {
                other.RemoveConsumer(consumer);
            }

            if (dropped.Count > 0)
            {
                other.ScheduleSubscribeOffer();
            }
        }

        Broadcast(new ParticipantLeftMessage(participant.Id, reason));
        if (wasRecording && !Recording)
        {
            Broadcast(new RecordingMessage(false));
        }

        if (_activeSpeaker == participant.Id)
        {
            _activeSpeaker = null;
            Broadcast(new ActiveSpeakerMessage(null, []));
        }

        if (_participants.Count == 0)
        {
            _emptySince = DateTimeOffset.UtcNow;
        }
    }

    /// <summary>
    /// Whether <paramref name="subscriber"/> gets <paramref name="publisher"/>'s tracks: everyone's, except that a
    /// bot does not get another bot's (recording bots leave bots out of recordings, and a bot showing bot_image
    /// would otherwise cost every other bot in the meeting its camera's packets to receive and decrypt).
    /// </summary>
    private static bool Wants(Participant subscriber, Participant publisher) => !(subscriber.IsBot && publisher.IsBot);

    /// <summary>
    /// Tells a joiner who speaks now: active_speaker is otherwise sent only on a change, and someone who has
    /// had the floor since before the join (a recording bot arriving mid-sentence) would never be named.
    /// </summary>
    private void SendActiveSpeaker(Participant participant)
    {
        if (_activeSpeaker is null)
        {
            return;
        }

        var levels = Speakers.Levels(SfuWorker.NowMicroseconds / 1000).Select(l => new SpeakerLevelView(l.ParticipantId, Math.Round(l.Level, 3))).ToList();
        participant.Send(new ActiveSpeakerMessage(_activeSpeaker, levels));
    }

    private JoinedMessage JoinedMessage(Participant participant) => new(
        participant.Id,
        participant.ResumeToken,
        new MeetingView(MeetingId, Policy.Name, Policy.MaxParticipants, Policy.Lobby),
        _participants.Values.Where(p => !ReferenceEquals(p, participant)).Select(p => p.View()).ToList(),
        _chat.ToList(),
        _engine.IceServersFor(participant.Grant.Identity),
        participant.View(),
        Recording);

    private IEnumerable<Participant> Hosts() => _participants.Values.Where(p => p.Grant.IsHost && p.State == ParticipantState.Joined);

    private void Broadcast(ServerMessage message, Participant? except = null)
    {
        foreach (var participant in _participants.Values)
        {
            if (!ReferenceEquals(participant, except) && participant.State == ParticipantState.Joined)
            {
                participant.Send(message);
            }
        }
    }
}
