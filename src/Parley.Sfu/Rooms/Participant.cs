using System.Globalization;
using Parley.Sfu.Meetings;
using Parley.Sfu.Routing;
using Parley.WebRtc.Rtcp;
using Parley.WebRtc.Rtp;
using Parley.WebRtc.Sdp;
using Parley.WebRtc.Transport;

namespace Parley.Sfu.Rooms;

public enum ParticipantState
{
    /// <summary>In the lobby, waiting for a host.</summary>
    Waiting,
    Joined,
    /// <summary>Signaling dropped; kept for a resume within the resume window.</summary>
    Reconnecting,
    Left,
}

/// <summary>
/// One participant of a room: its grant, its signaling sink, and its two peer connections (publish: the
/// client offers; subscribe: the SFU offers), the producers it publishes and the consumers it receives.
/// Media handling lives in <see cref="ParticipantMedia"/>; this class is the signaling-facing state.
/// Used under the room's worker lock.
/// </summary>
public sealed partial class Participant
{
    internal Participant(Room room, string id, JoinGrant grant, IParticipantSink sink)
    {
        Room = room;
        Id = id;
        Grant = grant;
        Sink = sink;
        ResumeToken = "r_" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
    }

    public Room Room { get; }

    public string Id { get; }

    public JoinGrant Grant { get; }

    public string ResumeToken { get; }

    public ParticipantState State { get; internal set; }

    internal IParticipantSink Sink { get; set; }

    public bool HandRaised { get; internal set; }

    internal DateTimeOffset? DisconnectedAt { get; set; }

    public DateTimeOffset JoinedAt { get; } = DateTimeOffset.UtcNow;

    public PeerConnection? PublishConnection { get; private set; }

    public PeerConnection? SubscribeConnection { get; private set; }

    /// <summary>Published tracks by their mid in the publish connection.</summary>
    internal Dictionary<string, Producer> Producers { get; } = new(StringComparer.Ordinal);

    /// <summary>Receiving sections of the subscribe connection, in mid order; a closed consumer's slot is reused.</summary>
    internal List<SubscribeSlot> Slots { get; } = [];

    internal Dictionary<uint, Consumer> ConsumersBySsrc { get; } = [];

    /// <summary>The subscriber's receive bandwidth estimate from its REMB (bps), null until the first one.</summary>
    internal long? EstimatedBandwidth { get; set; }

    internal int AudioLevelExtensionId { get; private set; }

    internal int TransportCcExtensionId { get; private set; }

    internal TransportFeedbackRecorder TransportFeedback { get; } = new();

    public bool IsBot => Grant.IsBot;

    private readonly CancellationTokenSource _lifetime = new();

    /// <summary>Cancelled when the participant leaves: ends its connections' consent checks and pending connects.</summary>
    internal CancellationToken Lifetime => _lifetime.Token;

    public ParticipantView View() => new(
        Id, Grant.Identity, Grant.Name, Grant.IsBot, Grant.IsHost, HandRaised,
        State == ParticipantState.Reconnecting ? "reconnecting" : "connected",
        Producers.Values.Select(p => new TrackView(p.Id, p.Kind, p.Source, p.Muted, p.CodecName, p.Rids)).ToList());

    internal void Send(ServerMessage message)
    {
        if (State != ParticipantState.Left)
        {
            Sink.Send(message);
        }
    }

    /// <summary>
    /// Takes a publish offer: answers it on the publish connection (created on first use), creates a
    /// producer for every newly sending section and closes those no longer sending. Returns the answer
    /// and the producers added and removed.
    /// </summary>
    internal (string Answer, List<Producer> Added, List<Producer> Removed) Publish(string offerSdp, IReadOnlyDictionary<string, (string Kind, string Source)> tracks)
    {
        var connection = PublishConnection ??= CreateConnection(publish: true);
        string answerSdp;
        try
        {
            answerSdp = connection.AcceptOffer(offerSdp);
        }
        catch (ArgumentException e)
        {
            throw new SignalingException("INVALID_SDP", e.Message);
        }

        var offer = connection.RemoteDescription!;
        var answer = connection.LocalDescription!;
        foreach (var extmap in offer.Media.SelectMany(m => m.Extmaps))
        {
            if (extmap.Uri == RtpExtensionUri.AudioLevel)
            {
                AudioLevelExtensionId = extmap.Id;
            }
            else if (extmap.Uri == RtpExtensionUri.TransportWideCc)
            {
                TransportCcExtensionId = extmap.Id;
            }
        }

        var added = new List<Producer>();
        var removed = new List<Producer>();
        var sending = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < offer.Media.Count; i++)
        {
            var offered = offer.Media[i];
            var answered = i < answer.Media.Count ? answer.Media[i] : null;
            if (offered.Mid is not { } mid || answered is null || answered.Port == 0
                || offered.Direction is not ("sendonly" or "sendrecv") || !tracks.TryGetValue(mid, out var track))
            {
                continue;
            }

            var kind = offered.Media;
            if (kind is not ("audio" or "video") || track.Kind != kind)
            {
                continue;
            }

            sending.Add(mid);
            if (Producers.ContainsKey(mid))
            {
                continue;
            }

            var (codecs, rtx) = NegotiatedCodecs(answered);
            if (codecs.Count == 0)
            {
                continue;
            }

            var rids = offered.Rids.Where(r => r.Direction == "send").Select(r => r.Id).Take(3).ToList();
            var producer = new Producer(Room.NewId("t_"), this, mid, kind, track.Source, codecs, rtx, rids);
            Producers[mid] = producer;
            added.Add(producer);
        }

        foreach (var (mid, producer) in Producers.ToList())
        {
            if (!sending.Contains(mid))
            {
                Producers.Remove(mid);
                producer.Close();
                removed.Add(producer);
            }
        }

        if (connection.State == PeerConnectionState.New)
        {
            Room.Connect(this, connection, "publish");
        }

        return (answerSdp, added, removed);
    }

    /// <summary>A section for <paramref name="producer"/>: a free slot of the same kind, or a new one.</summary>
    internal Consumer AddConsumer(Producer producer)
    {
        var slot = Slots.FirstOrDefault(s => s.Consumer is null && s.Kind == producer.Kind);
        if (slot is null)
        {
            slot = new SubscribeSlot(Slots.Count.ToString(CultureInfo.InvariantCulture), producer.Kind);
            Slots.Add(slot);
        }

        uint ssrc;
        do
        {
            ssrc = (uint)Random.Shared.NextInt64(1, uint.MaxValue);
        }
        while (ConsumersBySsrc.ContainsKey(ssrc));

        var consumer = new Consumer(Room.NewId("c_"), this, producer, slot.Mid, ssrc);
        slot.Consumer = consumer;
        slot.Codecs = producer.Codecs;
        ConsumersBySsrc[ssrc] = consumer;
        producer.AddConsumer(consumer);
        return consumer;
    }

    internal void RemoveConsumer(Consumer consumer)
    {
        consumer.Closed = true;
        consumer.Producer.RemoveConsumer(consumer);
        ConsumersBySsrc.Remove(consumer.Ssrc);
        foreach (var slot in Slots)
        {
            if (ReferenceEquals(slot.Consumer, consumer))
            {
                slot.Consumer = null;
            }
        }
    }

    internal IEnumerable<Consumer> Consumers => Slots.Select(s => s.Consumer).OfType<Consumer>();

    internal void Close()
    {
        State = ParticipantState.Left;
        _lifetime.Cancel();
        foreach (var consumer in Consumers.ToList())
        {
            RemoveConsumer(consumer);
        }

        foreach (var producer in Producers.Values)
        {
            producer.Close();
        }

        Producers.Clear();
        PublishConnection?.Dispose();
        SubscribeConnection?.Dispose();
        PublishConnection = null;
        SubscribeConnection = null;
    }

    private PeerConnection CreateConnection(bool publish)
    {
        var worker = Room.Worker;
        var connection = new PeerConnection(new PeerConnectionOptions
        {
            Socket = worker.Socket,
            IsServer = true,
            Certificate = worker.Certificate,
            AnnouncedAddress = worker.AnnouncedAddress.ToString(),
            AnswerDirection = "recvonly",
            ConsentTimeout = Room.ConsentTimeout,
            Logger = Room.Logger,
        })
        { RtcpSenderSsrc = (uint)Random.Shared.NextInt64(1, uint.MaxValue) };
        worker.Metrics.TransportCreated();
        if (publish)
        {
            connection.RtpReceived += OnPublishedRtp;
            connection.RtcpReceived += OnPublisherRtcp;
        }
        else
        {
            connection.RtcpReceived += OnSubscriberRtcp;
        }

        return connection;
    }

    internal PeerConnection EnsureSubscribeConnection() => SubscribeConnection ??= CreateConnection(publish: false);

    /// <summary>Codecs of an answered section (what the publisher may send), and RTX payload types with their apt.</summary>
    private static (List<SdpCodec> Codecs, Dictionary<int, int> Rtx) NegotiatedCodecs(SdpMediaDescription answered)
    {
        var codecs = new List<SdpCodec>();
        var rtx = new Dictionary<int, int>();
        foreach (var map in answered.RtpMaps)
        {
            var fmtp = answered.GetFormatParameters(map.PayloadType);
            if (string.Equals(map.Encoding, "rtx", StringComparison.OrdinalIgnoreCase))
            {
                var apt = fmtp?.Split(';').Select(p => p.Trim()).FirstOrDefault(p => p.StartsWith("apt=", StringComparison.Ordinal));
                if (apt is not null && int.TryParse(apt.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var original))
                {
                    rtx[map.PayloadType] = original;
                }

                continue;
            }

            if (map.Encoding.ToUpperInvariant() is "OPUS" or "VP8" or "H264")
            {
                codecs.Add(new SdpCodec(map.PayloadType, map.Encoding, map.ClockRate, map.Channels, fmtp, null, null));
            }
        }

        // A codec keeps its RTX payload type, so the subscribe offer can offer RTX for it too (RFC 4588).
        return (codecs.Select(c => c with { RtxPayloadType = rtx.Where(r => r.Value == c.PayloadType).Select(r => (int?)r.Key).FirstOrDefault() }).ToList(), rtx);
    }
}

/// <summary>One receiving section of a subscribe connection.</summary>
internal sealed class SubscribeSlot(string mid, string kind)
{
    public string Mid { get; } = mid;

    public string Kind { get; } = kind;

    public Consumer? Consumer { get; set; }

    /// <summary>The codecs last offered in this section (kept when it goes inactive: an m= line needs formats).</summary>
    public IReadOnlyList<SdpCodec> Codecs { get; set; } = [];
}
