using Parley.WebRtc.Rtcp;

namespace Parley.WebRtc.Tests.Rtcp;

public class TransportFeedbackRecorderTests
{
    private static RtcpTransportFeedback Parse(byte[] buffer, int length, TransportFeedbackPacket[] into, out int count)
    {
        var e = new RtcpCompoundEnumerator(buffer.AsSpan(0, length));
        Assert.True(e.MoveNext());
        Assert.True(RtcpTransportFeedback.TryParse(e.Current, out var feedback));
        count = feedback.GetPackets(into);
        return feedback;
    }

    [Fact]
    public void Feedback_reproduces_arrival_times_to_the_250_microsecond_grid_and_marks_losses()
    {
        var recorder = new TransportFeedbackRecorder();
        var arrivals = new Dictionary<ushort, long>();
        var random = new Random(5);
        var now = 10_000_000L;
        for (var i = 0; i < 300; i++)
        {
            var seq = (ushort)(65400 + i); // wraps
            now += random.Next(0, 40_000);
            if (i % 17 == 3)
            {
                continue; // lost
            }

            arrivals[seq] = now;
            recorder.OnPacket(seq, now);
        }

        var buffer = new byte[1500];
        var length = recorder.Build(buffer, 1, 2);
        var packets = new TransportFeedbackPacket[400];
        var feedback = Parse(buffer, length, packets, out var count);
        Assert.Equal(65400, feedback.BaseSequenceNumber);
        Assert.Equal(300, count);

        // Rebuild each arrival from the reference time and the running sum of deltas.
        var time = feedback.ReferenceTime * 64_000L;
        for (var i = 0; i < count; i++)
        {
            var p = packets[i];
            Assert.Equal(arrivals.ContainsKey(p.SequenceNumber), p.Received);
            if (p.Received)
            {
                time += p.DeltaTicks * 250L;
                Assert.InRange(arrivals[p.SequenceNumber] - time, 0, 249);
            }
        }

        Assert.Equal(0, recorder.Build(buffer, 1, 2)); // everything reported
    }

    [Fact]
    public void Later_feedback_continues_where_the_last_stopped_and_counts_up()
    {
        var recorder = new TransportFeedbackRecorder();
        recorder.OnPacket(10, 1_000_000);
        recorder.OnPacket(11, 1_001_000);
        var buffer = new byte[1500];
        var packets = new TransportFeedbackPacket[10];
        var first = Parse(buffer, recorder.Build(buffer, 1, 2), packets, out var count);
        Assert.Equal((10, 2, 0), (first.BaseSequenceNumber, count, (int)first.FeedbackPacketCount));

        recorder.OnPacket(11, 1_001_500); // duplicate of a reported packet: ignored
        recorder.OnPacket(13, 1_003_000);
        recorder.OnPacket(12, 1_002_000); // reordered
        var second = Parse(buffer, recorder.Build(buffer, 1, 2), packets, out count);
        Assert.Equal((12, 2, 1), (second.BaseSequenceNumber, count, (int)second.FeedbackPacketCount));
        Assert.True(packets[0].Received && packets[1].Received);
        Assert.Equal(4, packets[1].DeltaTicks); // 1 ms between 12 and 13
    }

    [Fact]
    public void A_long_silence_splits_the_feedback()
    {
        var recorder = new TransportFeedbackRecorder();
        recorder.OnPacket(1, 0);
        recorder.OnPacket(2, 10_000_000); // 10 s later: beyond a 16-bit delta of 250 µs ticks
        var buffer = new byte[1500];
        var packets = new TransportFeedbackPacket[10];
        Parse(buffer, recorder.Build(buffer, 1, 2), packets, out var count);
        Assert.Equal(1, count);
        var second = Parse(buffer, recorder.Build(buffer, 1, 2), packets, out count);
        Assert.Equal((2, 1), (second.BaseSequenceNumber, count));
    }
}
