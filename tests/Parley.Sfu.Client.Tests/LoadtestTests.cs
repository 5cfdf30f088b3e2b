using System.Text.Json;
using Parley.Loadtest;
using Parley.Testing;
using Parley.WebRtc.Rtp;
using Parley.WebRtc.Srtp;

namespace Parley.Sfu.Client.Tests;

/// <summary>The load tool's own logic: packetizer, receiver statistics and report arithmetic.</summary>
public sealed class LoadtestLogicTests
{
    private readonly List<byte[]> _sent = [];

    private SrtpResult Capture(Span<byte> buffer, int length)
    {
        _sent.Add(buffer[..length].ToArray());
        return SrtpResult.Ok;
    }

    private static PublishLayout Layout(bool simulcast = false) => new()
    {
        Audio = true,
        Video = true,
        AudioSsrc = 11,
        VideoSsrcs = simulcast ? [21, 22, 23] : [21],
        Rids = simulcast ? ["q", "h", "f"] : [],
        AudioMid = "0",
        VideoMid = "1",
        MidExtension = 1,
        RidExtension = 2,
        AbsSendTimeExtension = 4,
        TransportCcExtension = 5,
        AudioLevelExtension = 10,
    };

    [Fact]
    public void Audio_every_20_ms_and_video_frames_split_with_one_timestamp_and_a_marker_on_the_last_packet()
    {
        var publisher = new SyntheticPublisher(Layout(), 500, Capture, (_, _) => SrtpResult.Ok);
        publisher.Tick(1_000_000);
        publisher.Tick(1_100_000);

        var packets = _sent.Select(b => (Bytes: b, Ok: RtpPacket.TryParse(b, out _))).ToList();
        Assert.All(packets, p => Assert.True(p.Ok));
        var audio = _sent.Where(b => Ssrc(b) == 11).ToList();
        var video = _sent.Where(b => Ssrc(b) == 21).ToList();
        Assert.Equal(6, audio.Count); // 0, 20, ..., 100 ms
        for (var i = 1; i < audio.Count; i++)
        {
            Assert.Equal(960u, Timestamp(audio[i]) - Timestamp(audio[i - 1]));
            Assert.Equal((ushort)(Sequence(audio[i - 1]) + 1), Sequence(audio[i]));
        }

        // 500 kbit/s at 30 fps ≈ 2,083 bytes a frame: two packets, three times that for the first (key) frame.
        var frames = video.GroupBy(Timestamp).ToList();
        Assert.Equal(4, frames.Count); // 0, 33, 67, 100 ms
        Assert.Equal(3000u, frames[1].Key - frames[0].Key);
        Assert.All(frames, f => Assert.True(Marker(f.Last()) && f.SkipLast(1).All(p => !Marker(p))));
        Assert.True(IsKeyframe(frames[0].First()));
        Assert.False(IsKeyframe(frames[1].First()));
        Assert.True(frames[0].Count() > frames[1].Count());
        Assert.All(_sent, b => Assert.True(RtpPacket.TryParse(b, out var rtp) && SyntheticPublisher.ReadStamp(rtp.Payload) > 0));
        Assert.All(_sent, b => Assert.True(RtpPacket.TryParse(b, out var rtp) && rtp.TryGetExtension(5, out _) && rtp.TryGetExtension(1, out _)));
    }

    [Theory]
    [InlineData(true, true, 40)]
    [InlineData(false, false, 127)]
    public void A_talker_sends_speech_levels_and_a_muted_publisher_digital_silence(bool talking, bool voice, int level)
    {
        var publisher = new SyntheticPublisher(Layout() with { Talking = talking }, 500, Capture, (_, _) => SrtpResult.Ok);
        publisher.Tick(1_000_000);
        publisher.Tick(1_040_000);

        var audio = _sent.Where(b => Ssrc(b) == 11).ToList();
        Assert.Equal(3, audio.Count);
        Assert.All(audio, b =>
        {
            Assert.True(RtpPacket.TryParse(b, out var rtp));
            Assert.True(rtp.TryGetExtension(10, out var value));
            Assert.True(RtpExtensionValues.TryReadAudioLevel(value, out var readVoice, out var readLevel));
            Assert.Equal(voice, readVoice);
            Assert.Equal(level, readLevel);
        });
        var settings = new LoadSettings { Url = new Uri("http://127.0.0.1:1"), Talkers = 2 };
        Assert.Equal([true, true, false], Enumerable.Range(0, 3).Select(settings.IsTalker));
        Assert.True((settings with { Talkers = null }).IsTalker(49));
    }

    [Fact]
    public void A_keyframe_request_makes_the_next_frame_a_keyframe_and_simulcast_sends_each_layer_with_its_rid()
    {
        var publisher = new SyntheticPublisher(Layout(simulcast: true), 1200, Capture, (_, _) => SrtpResult.Ok);
        publisher.Tick(0);
        _sent.Clear();
        publisher.OnKeyframeRequest(23);
        publisher.Tick(40_000);

        foreach (var (ssrc, rid) in new[] { (21u, "q"), (22u, "h"), (23u, "f") })
        {
            var first = _sent.First(b => Ssrc(b) == ssrc);
            Assert.True(IsKeyframe(first));
            Assert.True(RtpPacket.TryParse(first, out var rtp));
            Assert.True(rtp.TryGetExtension(2, out var value));
            Assert.Equal(rid, System.Text.Encoding.ASCII.GetString(value));
        }

        Assert.Equal(1, publisher.KeyframeRequests);
        // The top layer carries the most bytes.
        Assert.True(_sent.Where(b => Ssrc(b) == 23).Sum(b => b.Length) > _sent.Where(b => Ssrc(b) == 21).Sum(b => b.Length));
    }

    [Fact]
    public void The_receiver_counts_a_gap_as_loss_and_nacks_it()
    {
        var publisher = new SyntheticPublisher(Layout(), 500, Capture, (_, _) => SrtpResult.Ok);
        for (var t = 0; t <= 1_000_000; t += 20_000)
        {
            publisher.Tick(t);
        }

        var receiver = new MediaReceiver();
        var stream = receiver.AddStream("audio", 48000);
        var audio = _sent.Where(b => Ssrc(b) == 11).ToList();
        for (var i = 0; i < audio.Count; i++)
        {
            if (i != 10)
            {
                receiver.OnRtp(stream, audio[i]);
            }
        }

        var totals = receiver.Totals();
        Assert.Equal(audio.Count - 1, totals.Packets);
        Assert.Equal(1, totals.Expected - totals.ValidReceived);
        var feedback = new List<byte[]>();
        receiver.Tick(LoadClock.NowMicroseconds, (b, n) =>
        {
            feedback.Add(b[..n].ToArray());
            return SrtpResult.Ok;
        });
        Assert.Equal(1, receiver.NacksSent);
        Assert.Contains(feedback, f => f[1] == 205); // RTPFB generic NACK
        Assert.Contains(feedback, f => f[1] == 201); // receiver report (with REMB after it)
        Assert.True(receiver.Delay.Count == audio.Count - 1);
    }

    [Fact]
    public void Report_arithmetic()
    {
        Assert.Equal(0, LoadReport.LossPercentOf(0, 0));
        Assert.Equal(1.0, LoadReport.LossPercentOf(1000, 990));
        Assert.Equal(0, LoadReport.LossPercentOf(100, 105)); // duplicates are not negative loss
        var p = Percentiles.Of(Enumerable.Range(1, 100).Select(i => (double)i).ToList());
        Assert.Equal((50, 95, 99, 100, 100L), (p.P50, p.P95, p.P99, p.Max, p.Count));

        var histogram = new LatencyHistogram();
        for (var i = 1; i <= 10_000; i++)
        {
            histogram.Record(i * 10); // 10 µs .. 100 ms
        }

        Assert.InRange(histogram.Percentile(50), 50_000 * 0.97, 50_000 * 1.03);
        Assert.InRange(histogram.Percentile(99), 99_000 * 0.97, 99_000 * 1.03);
        Assert.Equal(100_000, histogram.Max);
        for (long v = 0; v < 5_000_000; v = (v * 3 / 2) + 1)
        {
            var index = LatencyHistogram.Index(v);
            Assert.True(LatencyHistogram.UpperBound(index) >= v && LatencyHistogram.UpperBound(index) <= (v * 1.04) + 1, $"bucket of {v}");
        }
    }

    [Fact]
    public void Publisher_groups_parse()
    {
        Assert.True(PublisherGroup.TryParse("40:audio,10:av", out var groups, out _));
        Assert.Equal([new PublisherGroup(40, true, false), new PublisherGroup(10, true, true)], groups);
        Assert.True(PublisherGroup.TryParse("3", out groups, out _));
        Assert.Equal([new PublisherGroup(3, true, true)], groups);
        Assert.False(PublisherGroup.TryParse("3:smell", out _, out var error));
        Assert.Contains("av, audio or video", error, StringComparison.Ordinal);
        Assert.False(PublisherGroup.TryParse("-1", out _, out _));
    }

    private static uint Ssrc(byte[] b) => RtpPacket.TryParse(b, out var rtp) ? rtp.Ssrc : 0;

    private static uint Timestamp(byte[] b) => RtpPacket.TryParse(b, out var rtp) ? rtp.Timestamp : 0;

    private static ushort Sequence(byte[] b) => RtpPacket.TryParse(b, out var rtp) ? rtp.SequenceNumber : (ushort)0;

    private static bool Marker(byte[] b) => RtpPacket.TryParse(b, out var rtp) && rtp.Marker;

    private static bool IsKeyframe(byte[] b) => RtpPacket.TryParse(b, out var rtp) && Vp8PayloadDescriptor.TryParse(rtp.Payload, out var d) && d.IsKeyframe;
}

/// <summary>`parley loadtest` as a process against a running `parley serve`.</summary>
[Collection(ServerCollection.Name)]
public sealed class LoadtestProcessTests(ServerFixture server)
{
    [Fact]
    public async Task A_short_run_connects_every_client_and_reports_packets_with_little_loss_as_json()
    {
        var (code, stdout, stderr) = await ParleyProcess.RunAsync(
            ["loadtest", "--url", server.BaseUrl.ToString(), "--publishers", "3", "--subscribers", "2", "--duration", "5", "--ramp", "20", "--json"],
            new Dictionary<string, string?>(), TestEnvironment.RepositoryRoot);

        Assert.True(code == 0, $"exit {code}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        using var report = JsonDocument.Parse(stdout);
        var root = report.RootElement;
        Assert.Equal(5, root.GetProperty("clients").GetProperty("planned").GetInt32());
        Assert.True(root.GetProperty("clients").GetProperty("connected").GetInt32() == 5, stdout + stderr);
        Assert.True(root.GetProperty("packets").GetProperty("received").GetInt64() > 0, stdout);
        Assert.True(root.GetProperty("loss_percent").GetDouble() < 5, stdout);
        Assert.True(root.GetProperty("delay_ms").GetProperty("count").GetInt64() > 0, stdout);
        Assert.Equal(5, root.GetProperty("join_ms").GetProperty("count").GetInt32());
    }
}
