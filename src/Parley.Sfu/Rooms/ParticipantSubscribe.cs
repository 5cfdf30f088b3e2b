using Parley.Sfu.Routing;
using Parley.WebRtc.Rtp;
using Parley.WebRtc.Sdp;
using Parley.WebRtc.Transport;

namespace Parley.Sfu.Rooms;

/// <summary>
/// The subscribe connection's offer/answer cycle (JSEP RFC 9429 §5.2): the SFU offers one section per
/// consumer and never has two offers outstanding; changes made meanwhile produce one more offer after the
/// answer. Sections of closed consumers go inactive and are reused for the next track of that kind, so a
/// long meeting does not grow the SDP without bound.
/// </summary>
public sealed partial class Participant
{
    private static readonly string[] VideoFeedback = ["goog-remb", "ccm fir", "nack", "nack pli"];
    private bool _offerPending;
    private bool _renegotiate;
    private bool _restartPending;
    private long _offerSentMicroseconds;
    private long _offerId;
    private List<Consumer?> _offered = [];

    /// <summary>Sends a new subscribe offer now, or after the pending one is answered.</summary>
    internal void ScheduleSubscribeOffer(bool iceRestart = false)
    {
        if (State == ParticipantState.Left || !Grant.CanSubscribe)
        {
            return;
        }

        if (_offerPending)
        {
            _renegotiate = true;
            _restartPending |= iceRestart;
            return;
        }

        if (Slots.Count == 0)
        {
            return;
        }

        var connection = EnsureSubscribeConnection();
        var sections = Slots.Select(Section).ToList();
        var sdp = connection.CreateOffer(sections, iceRestart);
        _offered = Slots.Select(s => s.Consumer).ToList();
        _offerPending = true;
        _offerSentMicroseconds = Workers.SfuWorker.NowMicroseconds;
        _offerId++;
        Send(new SubscribeOfferMessage(sdp, Slots.Select(s => new SubscribeTrackView(
            s.Mid, s.Consumer?.Producer.Id, s.Consumer?.Producer.Owner.Id, s.Kind, s.Consumer?.Producer.Source)).ToList(), _offerId));
    }

    /// <summary>
    /// The client's answer to the pending subscribe offer. With <paramref name="offerId"/> (the offer's
    /// `offer_id`), an answer to an older offer is ignored: it arrives when a slow client answers an offer the
    /// stall timer already replaced, and the client is answering the newer one too. Returns false then.
    /// </summary>
    internal bool AcceptSubscribeAnswer(string answerSdp, long? offerId = null)
    {
        if (offerId is { } answered && answered != _offerId)
        {
            return false;
        }

        if (!_offerPending || SubscribeConnection is not { } connection)
        {
            throw new SignalingException("INVALID_SDP", "No subscribe offer is pending.");
        }

        _offerPending = false;
        try
        {
            connection.AcceptAnswer(answerSdp);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            // The client is out of step: offer again from the current state rather than stall.
            _renegotiate = true;
            FinishNegotiation();
            throw new SignalingException("INVALID_SDP", e.Message);
        }

        var answer = connection.RemoteDescription!;
        var now = Workers.SfuWorker.NowMicroseconds;
        for (var i = 0; i < _offered.Count && i < answer.Media.Count; i++)
        {
            if (_offered[i] is not { Closed: false } consumer || answer.Media[i].Port == 0)
            {
                continue;
            }

            var extmaps = answer.Media[i].Extmaps.ToList();
            consumer.MidExtensionId = extmaps.FirstOrDefault(e => e.Uri == RtpExtensionUri.Mid)?.Id ?? 0;
            consumer.AbsSendTimeExtensionId = extmaps.FirstOrDefault(e => e.Uri == RtpExtensionUri.AbsSendTime)?.Id ?? 0;
            consumer.AudioLevelExtensionId = extmaps.FirstOrDefault(e => e.Uri == RtpExtensionUri.AudioLevel)?.Id ?? 0;
            consumer.SetRtxPayloadTypes(answer.Media[i]);
            if (!consumer.Negotiated)
            {
                consumer.Negotiated = true;
                Room.Worker.Metrics.ConsumerCreationSeconds.Record(TimeSpan.FromMicroseconds(now - consumer.CreatedAtMicroseconds));
            }
        }

        if (connection.State == PeerConnectionState.New)
        {
            Room.Connect(this, connection, "subscribe");
        }

        FinishNegotiation();
        return true;
    }

    /// <summary>A client that never answers must not block later changes: offer again after 10 s.</summary>
    internal void CheckStalledOffer(long now)
    {
        if (_offerPending && now - _offerSentMicroseconds > 10_000_000)
        {
            _offerPending = false;
            ScheduleSubscribeOffer(_restartPending);
            _restartPending = false;
        }
    }

    private void FinishNegotiation()
    {
        if (_renegotiate)
        {
            _renegotiate = false;
            var restart = _restartPending;
            _restartPending = false;
            ScheduleSubscribeOffer(restart);
        }
    }

    private static SdpOfferSection Section(SubscribeSlot slot)
    {
        var video = slot.Kind == "video";
        var codecs = slot.Codecs.Select(c => c with { Feedback = video ? VideoFeedback : [], RtxPayloadType = video ? c.RtxPayloadType : null }).ToList();
        var rtx = codecs.Any(c => c.RtxPayloadType is not null);
        IReadOnlyList<SdpExtmap> extensions = video
            ? [new SdpExtmap(1, null, RtpExtensionUri.Mid, null), new SdpExtmap(4, null, RtpExtensionUri.AbsSendTime, null)]
            : [new SdpExtmap(1, null, RtpExtensionUri.Mid, null), new SdpExtmap(4, null, RtpExtensionUri.AbsSendTime, null), new SdpExtmap(10, null, RtpExtensionUri.AudioLevel, null)];
        var consumer = slot.Consumer;
        return new SdpOfferSection(slot.Kind, slot.Mid, consumer is null ? "inactive" : "sendonly", codecs)
        {
            Extensions = extensions,
            // msid: the stream is the publishing participant (so its audio and video are synchronised), the track its producer.
            Sources = consumer is null ? [] : [new SdpSource(consumer.Ssrc, consumer.Producer.Owner.Id, consumer.Producer.Owner.Id, consumer.Producer.Id, rtx ? consumer.RtxSsrc : null)],
        };
    }
}
