using System.Net;
using System.Net.Sockets;
using Parley.Sfu.Metrics;
using Parley.Sfu.Rooms;
using Parley.WebRtc.Rtp;

namespace Parley.Sfu.Tests.Engine;

/// <summary>Media through the engine with native C# clients on loopback: forwarding, rewriting, drops.</summary>
public sealed class ForwardingTests : IDisposable
{
    private readonly EngineFixture _fixture = new();

    [Fact]
    public async Task Published_audio_and_video_reach_the_other_participant_with_rewritten_ssrcs()
    {
        var (alice, aliceSink) = await _fixture.JoinAsync("m1", "alice");
        var (bob, bobSink) = await _fixture.JoinAsync("m1", "bob");
        using var publisher = new NativePublisher();
        using var subscriber = new NativeSubscriber();
        await PublishAsync(alice, aliceSink, publisher);
        await subscriber.AnswerLatestAsync(bob, bobSink, 0);

        var offer = await bobSink.WaitAsync<SubscribeOfferMessage>();
        Assert.Equal(2, offer.Tracks.Count);
        Assert.All(offer.Tracks, t => Assert.Equal(alice.Id, t.ParticipantId));

        await SendUntilAsync(publisher, () => subscriber.Received.Count(p => p.PayloadType == 96) >= 20 && subscriber.Received.Count(p => p.PayloadType == 111) >= 20);
        var ssrcs = subscriber.Received.Select(p => p.Ssrc).Distinct().ToList();
        Assert.Equal(2, ssrcs.Count);
        Assert.DoesNotContain(NativePublisher.AudioSsrc, ssrcs);
        Assert.DoesNotContain(NativePublisher.VideoSsrc(0), ssrcs);
        await Eventually(() => _fixture.Engine.Metrics.PacketsOut >= 40); // counted after each send returns
        var joined = await bobSink.WaitAsync<JoinedMessage>();
        Assert.Equal(bob.Id, joined.ParticipantId);
    }

    [Fact]
    public async Task H264_video_is_forwarded_from_its_first_idr_frame()
    {
        var (alice, aliceSink) = await _fixture.JoinAsync("m7", "alice");
        var (bob, bobSink) = await _fixture.JoinAsync("m7", "bob");
        using var publisher = new NativePublisher { H264 = true };
        using var subscriber = new NativeSubscriber();
        await PublishAsync(alice, aliceSink, publisher, audio: false);
        await subscriber.AnswerLatestAsync(bob, bobSink, 0);
        var offer = await bobSink.WaitAsync<SubscribeOfferMessage>();
        Assert.Contains("H264/90000", offer.Sdp, StringComparison.Ordinal);
        Assert.DoesNotContain("VP8", offer.Sdp, StringComparison.Ordinal);

        await SendUntilAsync(publisher, () => subscriber.Received.Count(p => p.PayloadType == 102) >= 20);
        var video = subscriber.Received.Where(p => p.PayloadType == 102).ToList();
        Assert.Equal(0x65, video[0].OriginalSequence >> 8); // the first forwarded packet is the IDR slice
    }

    [Fact]
    public async Task Random_bytes_on_the_worker_port_are_counted_as_drops_while_the_call_continues()
    {
        var (alice, aliceSink) = await _fixture.JoinAsync("m2", "alice");
        var (bob, bobSink) = await _fixture.JoinAsync("m2", "bob");
        using var publisher = new NativePublisher();
        using var subscriber = new NativeSubscriber();
        await PublishAsync(alice, aliceSink, publisher);
        await subscriber.AnswerLatestAsync(bob, bobSink, 0);
        await SendUntilAsync(publisher, () => subscriber.Received.Count >= 10);

        var worker = _fixture.Engine.Workers[0];
        var before = worker.UnroutedPackets;
        using var garbage = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var random = new Random(7);
        for (var i = 0; i < 500; i++)
        {
            var datagram = new byte[random.Next(1, 1400)];
            random.NextBytes(datagram);
            await garbage.SendAsync(datagram, new IPEndPoint(IPAddress.Loopback, worker.Port));
            if (i % 20 == 19)
            {
                await Task.Delay(5); // paced so the kernel's receive buffer does not drop them before the SFU sees them
            }
        }

        var received = subscriber.Received.Count;
        await SendUntilAsync(publisher, () => subscriber.Received.Count >= received + 50 && worker.UnroutedPackets - before >= 450);
        Assert.Equal(0, worker.HandlerErrors);
        Assert.Equal(0, worker.TickErrors);
    }

    [Fact]
    public async Task A_layer_switch_keeps_one_continuous_sequence_number_space()
    {
        var (alice, aliceSink) = await _fixture.JoinAsync("m3", "alice");
        var (bob, bobSink) = await _fixture.JoinAsync("m3", "bob");
        using var publisher = new NativePublisher();
        using var subscriber = new NativeSubscriber();
        await PublishAsync(alice, aliceSink, publisher, audio: false, rids: ["q", "h", "f"]);
        await subscriber.AnswerLatestAsync(bob, bobSink, 0);

        // All three layers flow; bob starts on the highest (his default preference) at its first keyframe.
        await SendLayersUntilAsync(publisher, () => subscriber.Received.Count(p => p.Marker == 2) >= 30);
        var track = alice.Producers.Values.Single().Id;
        var beforeSwitch = subscriber.Received.Count;
        EngineFixture.Under(bob, () => alice.Room.SetLayer(bob, track, 0));
        await SendLayersUntilAsync(publisher, () => subscriber.Received.Skip(beforeSwitch).Count(p => p.Marker == 0) >= 30);

        var packets = subscriber.Received.ToList();
        Assert.Single(packets.Select(p => p.Ssrc).Distinct());
        // The consumer may start on the lowest layer while the others are not measured yet; what matters is
        // the switch from layer 2 down to 0 that set_layer asked for.
        var lastOfLayer2 = packets.FindLastIndex(p => p.Marker == 2);
        var first = packets.FindIndex(lastOfLayer2 + 1, p => p.Marker == 0);
        Assert.True(lastOfLayer2 >= 0 && first == lastOfLayer2 + 1, "layer 0 follows layer 2 directly at the switch");
        // Around the switch and everywhere else: each packet follows the previous one by exactly one.
        for (var i = 1; i < packets.Count; i++)
        {
            Assert.Equal((ushort)(packets[i - 1].Sequence + 1), packets[i].Sequence);
        }

        Assert.True(packets[first].Timestamp != packets[first - 1].Timestamp, "timestamps move on at the switch");
        // One packet per frame here, so the VP8 picture ids count up by one across the switch as well,
        // although the two layers number their pictures 20,000 apart.
        for (var i = 1; i < packets.Count; i++)
        {
            Assert.Equal((packets[i - 1].PictureId + 1) & 0x7FFF, packets[i].PictureId);
        }
        Assert.DoesNotContain(packets, p => p.Marker == 1);
    }

    [Fact]
    public async Task A_low_bandwidth_estimate_from_the_subscriber_moves_it_to_a_lower_layer()
    {
        var (alice, aliceSink) = await _fixture.JoinAsync("m8", "alice");
        var (bob, bobSink) = await _fixture.JoinAsync("m8", "bob");
        using var publisher = new NativePublisher();
        using var subscriber = new NativeSubscriber();
        await PublishAsync(alice, aliceSink, publisher, audio: false, rids: ["q", "h", "f"]);
        await subscriber.AnswerLatestAsync(bob, bobSink, 0);
        await SendLayersUntilAsync(publisher, () => subscriber.Received.Count(p => p.Marker == 2) >= 20);

        // REMB (draft-alvestrand-rmcat-remb) of 1 kbps: less than any layer measures, so the lowest active one.
        var buffer = new byte[64];
        var ssrc = subscriber.Received.First().Ssrc;
        var length = Parley.WebRtc.Rtcp.RtcpRemb.Write(buffer, 99, 1000, [ssrc]);
        var before = subscriber.Received.Count;
        subscriber.Connection.SendRtcp(buffer, length);
        await SendLayersUntilAsync(publisher, () => subscriber.Received.Skip(before).Count(p => p.Marker == 0) >= 20);
        EngineFixture.Under(bob, () => Assert.Equal(1000, bob.EstimatedBandwidth));
    }

    [Fact]
    public async Task A_nack_from_the_subscriber_is_answered_from_the_retransmission_buffer()
    {
        var (alice, aliceSink) = await _fixture.JoinAsync("m5", "alice");
        var (bob, bobSink) = await _fixture.JoinAsync("m5", "bob");
        using var publisher = new NativePublisher();
        using var subscriber = new NativeSubscriber();
        await PublishAsync(alice, aliceSink, publisher);
        await subscriber.AnswerLatestAsync(bob, bobSink, 0);
        await SendUntilAsync(publisher, () => subscriber.Received.Count(p => p.PayloadType == 96) >= 10);

        var video = subscriber.Received.Where(p => p.PayloadType == 96).ToList();
        var lost = video[^3];
        var buffer = new byte[64];
        var length = Parley.WebRtc.Rtcp.RtcpNack.Write(buffer, 99, lost.Ssrc, [lost.Sequence]);
        subscriber.Connection.SendRtcp(buffer, length);

        // It comes back on the RTX stream (RFC 4588): another SSRC, the RTX payload type, the original
        // sequence number in the first two payload bytes and the original timestamp.
        await Eventually(() => subscriber.Received.Any(p => p.PayloadType == 97));
        var repair = subscriber.Received.Single(p => p.PayloadType == 97);
        Assert.NotEqual(lost.Ssrc, repair.Ssrc);
        Assert.Equal(lost.Timestamp, repair.Timestamp);
        Assert.Equal(lost.Sequence, repair.OriginalSequence);
        // The worker counts a retransmission after its send returns, which can be after the packet arrived.
        await Eventually(() => _fixture.Engine.Metrics.Retransmissions >= 1);
        Assert.True(_fixture.Engine.Metrics.NacksReceived >= 1);
    }

    [Fact]
    public async Task An_ice_restart_of_the_subscribe_connection_keeps_media_flowing()
    {
        var (alice, aliceSink) = await _fixture.JoinAsync("m6", "alice");
        var (bob, bobSink) = await _fixture.JoinAsync("m6", "bob");
        using var publisher = new NativePublisher();
        using var subscriber = new NativeSubscriber();
        await PublishAsync(alice, aliceSink, publisher);
        await subscriber.AnswerLatestAsync(bob, bobSink, 0);
        await SendUntilAsync(publisher, () => subscriber.Received.Count >= 10);

        EngineFixture.Under(bob, () => bob.ScheduleSubscribeOffer(iceRestart: true));
        var restart = await bobSink.WaitAsync<SubscribeOfferMessage>(skip: 1);
        var first = await bobSink.WaitAsync<SubscribeOfferMessage>();
        Assert.NotEqual(IceUfrag(first.Sdp), IceUfrag(restart.Sdp));
        var answer = subscriber.Connection.AcceptOffer(restart.Sdp);
        EngineFixture.Under(bob, () => bob.AcceptSubscribeAnswer(answer));

        var before = subscriber.Received.Count;
        await SendUntilAsync(publisher, () => subscriber.Received.Count >= before + 30);
    }

    [Fact]
    public async Task A_late_answer_to_an_offer_the_stall_timer_replaced_is_ignored_and_the_new_one_completes()
    {
        var (alice, aliceSink) = await _fixture.JoinAsync("m10", "alice");
        var (bob, bobSink) = await _fixture.JoinAsync("m10", "bob");
        using var publisher = new NativePublisher();
        using var subscriber = new NativeSubscriber();
        await PublishAsync(alice, aliceSink, publisher);
        var first = await bobSink.WaitAsync<SubscribeOfferMessage>();

        // Bob is slow: ten seconds pass without his answer, so the SFU offers again.
        EngineFixture.Under(bob, () => bob.CheckStalledOffer(Workers.SfuWorker.NowMicroseconds + 11_000_000));
        var second = await bobSink.WaitAsync<SubscribeOfferMessage>(skip: 1);
        Assert.Equal(first.OfferId + 1, second.OfferId);
        var lateAnswer = subscriber.Connection.AcceptOffer(first.Sdp);
        var answer = subscriber.Connection.AcceptOffer(second.Sdp);

        bool lateAccepted = true, accepted = false;
        EngineFixture.Under(bob, () => lateAccepted = bob.AcceptSubscribeAnswer(lateAnswer, first.OfferId));
        EngineFixture.Under(bob, () => accepted = bob.AcceptSubscribeAnswer(answer, second.OfferId));
        Assert.False(lateAccepted);
        Assert.True(accepted);
        await subscriber.Connection.ConnectAsync().WaitAsync(TimeSpan.FromSeconds(15));
        await SendUntilAsync(publisher, () => subscriber.Received.Count >= 20);
    }

    private static string IceUfrag(string sdp) =>
        sdp.Split("\r\n").First(l => l.StartsWith("a=ice-ufrag:", StringComparison.Ordinal));

    [Fact]
    public async Task A_bot_gets_the_participants_tracks_but_not_another_bots()
    {
        var (botA, botASink) = await _fixture.JoinAsync("m11", "camera-bot", "bot");
        var (alice, aliceSink) = await _fixture.JoinAsync("m11", "alice");
        var (botB, _) = await _fixture.JoinAsync("m11", "recorder-bot", "bot");
        using var camera = new NativePublisher();
        using var microphone = new NativePublisher();
        await PublishAsync(botA, botASink, camera, audio: false, video: true);   // before botB joined...
        await PublishAsync(alice, aliceSink, microphone, audio: true, video: false);
        var (botC, _) = await _fixture.JoinAsync("m11", "late-bot", "bot");      // ...and after botC did

        List<Participant> Owners(Participant subscriber)
        {
            var owners = new List<Participant>();
            EngineFixture.Under(subscriber, () => owners.AddRange(subscriber.Consumers.Select(c => c.Producer.Owner)));
            return owners;
        }

        Assert.Equal([alice], Owners(botB));
        Assert.Equal([alice], Owners(botC));
        Assert.Equal([alice], Owners(botA));
        Assert.Equal([botA], Owners(alice)); // people see a bot's camera
    }

    [Fact]
    public async Task Digital_silence_is_not_forwarded_to_participants_without_a_gap_but_reaches_bots()
    {
        var (alice, aliceSink) = await _fixture.JoinAsync("m9", "alice");
        var (bob, bobSink) = await _fixture.JoinAsync("m9", "bob");
        var (recorder, recorderSink) = await _fixture.JoinAsync("m9", "recorder", "bot");
        using var publisher = new NativePublisher();
        using var participant = new NativeSubscriber();
        using var bot = new NativeSubscriber();
        await PublishAsync(alice, aliceSink, publisher, video: false);
        await participant.AnswerLatestAsync(bob, bobSink, 0);
        await bot.AnswerLatestAsync(recorder, recorderSink, 0);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (participant.Received.IsEmpty || bot.Received.IsEmpty)
        {
            Assert.True(DateTime.UtcNow < deadline, "audio did not reach both subscribers");
            publisher.SendAudio();
            await Task.Delay(20);
        }

        await Task.Delay(300); // let what is in flight land
        var (participantBefore, botBefore) = (participant.Received.Count, bot.Received.Count);
        var silenceBefore = _fixture.Engine.Metrics.Drops(DropReason.Silence);
        for (var i = 0; i < 60; i++)
        {
            // 20 spoken, 20 of a muted microphone, 20 spoken; paced like real audio so the socket keeps up.
            var muted = i is >= 20 and < 40;
            publisher.SendAudio(muted ? RtpExtensionValues.SilenceLevel : (byte)30, voice: !muted);
            await Task.Delay(5);
        }

        await Eventually(() => bot.Received.Count >= botBefore + 60 && participant.Received.Count >= participantBefore + 40);
        Assert.Equal(botBefore + 60, bot.Received.Count);
        Assert.Equal(participantBefore + 40, participant.Received.Count);
        Assert.Equal(20, _fixture.Engine.Metrics.Drops(DropReason.Silence) - silenceBefore);
        var forwarded = participant.Received.Skip(participantBefore).ToList();
        for (var i = 1; i < forwarded.Count; i++)
        {
            Assert.Equal((ushort)(forwarded[i - 1].Sequence + 1), forwarded[i].Sequence); // no gap to NACK
        }

        // The silence shows as a timestamp jump of its 20 packets × 960 samples, as Opus DTX would.
        Assert.Equal(21u * 960, forwarded[20].Timestamp - forwarded[19].Timestamp);
    }

    [Fact]
    public async Task Leaving_removes_the_consumers_and_renegotiates_the_others()
    {
        var (alice, aliceSink) = await _fixture.JoinAsync("m4", "alice");
        var (bob, bobSink) = await _fixture.JoinAsync("m4", "bob");
        using var publisher = new NativePublisher();
        using var subscriber = new NativeSubscriber();
        await PublishAsync(alice, aliceSink, publisher);
        await subscriber.AnswerLatestAsync(bob, bobSink, 0);
        EngineFixture.Under(alice, () => alice.Room.Leave(alice, "left"));

        var left = await bobSink.WaitAsync<ParticipantLeftMessage>();
        Assert.Equal(alice.Id, left.ParticipantId);
        var reoffer = await bobSink.WaitAsync<SubscribeOfferMessage>(skip: 1);
        Assert.Equal(2, reoffer.Tracks.Count);
        Assert.All(reoffer.Tracks, t => Assert.Null(t.TrackId));
        Assert.Contains("a=inactive", reoffer.Sdp, StringComparison.Ordinal);
        EngineFixture.Under(bob, () => Assert.Empty(bob.ConsumersBySsrc));
    }

    internal static async Task PublishAsync(Participant participant, RecordingSink sink, NativePublisher publisher, bool audio = true, bool video = true, string[]? rids = null)
    {
        var offer = publisher.Offer(audio, video, rids ?? []);
        EngineFixture.Under(participant, () => participant.Room.Publish(participant, 1, offer, NativePublisher.Tracks(audio, video)));
        var answer = await sink.WaitAsync<PublishAnswerMessage>();
        await publisher.AcceptAsync(answer.Sdp);
    }

    internal static async Task SendUntilAsync(NativePublisher publisher, Func<bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        for (var i = 0; !done(); i++)
        {
            Assert.True(DateTime.UtcNow < deadline, "media did not arrive in time");
            publisher.SendAudio();
            publisher.SendVideo(0, keyframe: i % 10 == 0);
            await Task.Delay(10);
        }
    }

    private static async Task SendLayersUntilAsync(NativePublisher publisher, Func<bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        for (var i = 0; !done(); i++)
        {
            Assert.True(DateTime.UtcNow < deadline, "media did not arrive in time");
            for (var layer = 0; layer < 3; layer++)
            {
                publisher.SendVideo(layer, keyframe: i % 15 == 0);
            }

            await Task.Delay(10);
        }
    }

    private static async Task Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not become true in time");
            await Task.Delay(10);
        }
    }

    public void Dispose() => _fixture.Dispose();
}
