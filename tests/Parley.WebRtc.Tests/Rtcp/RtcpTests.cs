using System.Text;
using Parley.WebRtc.Rtcp;

namespace Parley.WebRtc.Tests.Rtcp;

public class RtcpTests
{
    private static RtcpPacket Single(ReadOnlySpan<byte> data)
    {
        var e = new RtcpCompoundEnumerator(data);
        Assert.True(e.MoveNext());
        var packet = e.Current;
        Assert.False(e.MoveNext());
        Assert.False(e.IsMalformed);
        return packet;
    }

    [Fact]
    public void Sender_report_round_trips_with_report_blocks()
    {
        RtcpReportBlock[] blocks =
        [
            new(0x11111111, 25, 1234, 0x0001FFFF, 77, 0xAABBCCDD, 65536),
            new(0x22222222, 0, -3, 42, 0, 0, 0), // negative cumulative loss (duplicates)
        ];
        var buffer = new byte[256];
        var length = RtcpSenderReport.Write(buffer, 0xCAFEBABE, 0xE7B1_2345_8000_0000, 90_000, 500, 600_000, blocks);
        Assert.Equal(28 + 48, length);

        var packet = Single(buffer.AsSpan(0, length));
        Assert.True(RtcpSenderReport.TryParse(packet, out var sr));
        Assert.Equal(0xCAFEBABEu, sr.Ssrc);
        Assert.Equal(0xE7B1_2345_8000_0000ul, sr.NtpTimestamp);
        Assert.Equal(90_000u, sr.RtpTimestamp);
        Assert.Equal(500u, sr.PacketCount);
        Assert.Equal(600_000u, sr.OctetCount);
        Assert.Equal(2, sr.ReportCount);
        Assert.Equal(blocks[0], sr.GetReportBlock(0));
        Assert.Equal(blocks[1], sr.GetReportBlock(1));
        Assert.False(RtcpReceiverReport.TryParse(packet, out _));
    }

    [Fact]
    public void Receiver_report_round_trips_and_empty_rr_is_valid()
    {
        var buffer = new byte[256];
        RtcpReportBlock block = new(5, 255, 0x7FFFFF, 1, 2, 3, 4);
        var length = RtcpReceiverReport.Write(buffer, 9, [block]);
        Assert.True(RtcpReceiverReport.TryParse(Single(buffer.AsSpan(0, length)), out var rr));
        Assert.Equal(9u, rr.Ssrc);
        Assert.Equal(block, rr.GetReportBlock(0));

        length = RtcpReceiverReport.Write(buffer, 10, []);
        Assert.Equal(8, length);
        Assert.True(RtcpReceiverReport.TryParse(Single(buffer.AsSpan(0, length)), out rr));
        Assert.Equal(0, rr.ReportCount);
    }

    [Fact]
    public void Sdes_round_trips_several_chunks_and_items()
    {
        var buffer = new byte[256];
        RtcpSdesItem[] items =
        [
            new(1, RtcpSdesItem.Cname, Encoding.ASCII.GetBytes("user@host")),
            new(1, 6, Encoding.ASCII.GetBytes("parley")), // TOOL
            new(2, RtcpSdesItem.Cname, Encoding.ASCII.GetBytes("abcd")), // 4 bytes: the end octet needs a new word
        ];
        var length = RtcpSourceDescription.Write(buffer, items);
        Assert.Equal(0, length % 4);
        Assert.True(RtcpSourceDescription.TryParse(Single(buffer.AsSpan(0, length)), out var sdes));
        Assert.Equal(2, sdes.ChunkCount);
        var read = new List<(uint, byte, string)>();
        foreach (var item in sdes.Items)
        {
            read.Add((item.Ssrc, item.Type, Encoding.ASCII.GetString(item.Value)));
        }

        Assert.Equal([(1u, (byte)1, "user@host"), (1u, (byte)6, "parley"), (2u, (byte)1, "abcd")], read);
    }

    [Fact]
    public void Sdes_with_an_item_past_the_end_is_rejected()
    {
        // SC=1, length 2 words: SSRC then CNAME claiming 10 bytes but only 2 follow.
        Assert.False(RtcpSourceDescription.TryParse(Single(Hex.Parse("81ca0002 00000001 010a6162")), out _));
        // Chunk count says 2, only one chunk present.
        Assert.False(RtcpSourceDescription.TryParse(Single(Hex.Parse("82ca0002 00000001 01016100")), out _));
    }

    [Fact]
    public void Bye_round_trips_with_and_without_reason()
    {
        var buffer = new byte[128];
        var length = RtcpBye.Write(buffer, [1u, 2u], "camera off"u8);
        Assert.Equal(0, length % 4);
        Assert.True(RtcpBye.TryParse(Single(buffer.AsSpan(0, length)), out var bye));
        Assert.Equal(2, bye.SourceCount);
        Assert.Equal(2u, bye.GetSsrc(1));
        Assert.Equal("camera off", Encoding.ASCII.GetString(bye.Reason));

        length = RtcpBye.Write(buffer, [7u]);
        Assert.True(RtcpBye.TryParse(Single(buffer.AsSpan(0, length)), out bye));
        Assert.Equal(7u, bye.GetSsrc(0));
        Assert.True(bye.Reason.IsEmpty);
    }

    [Fact]
    public void Nack_packs_nearby_losses_into_blp_and_expands_back()
    {
        ushort[] lost = [65534, 65535, 0, 3, 17, 18, 40];
        var buffer = new byte[128];
        var length = RtcpNack.Write(buffer, 1, 2, lost);
        Assert.True(RtcpNack.TryParse(Single(buffer.AsSpan(0, length)), out var nack));
        Assert.Equal(1u, nack.SenderSsrc);
        Assert.Equal(2u, nack.MediaSsrc);
        // 65534 carries 65535, 0, 3 (distance 5) but not 17 (distance 19); 17 carries 18; 40 alone.
        Assert.Equal(3, nack.EntryCount);
        Assert.Equal(((ushort)65534, (ushort)0b10011), nack.GetEntry(0));
        var expanded = new ushort[32];
        var n = nack.GetLostSequenceNumbers(expanded);
        Assert.Equal(lost, expanded[..n]);
    }

    [Fact]
    public void Pli_and_fir_round_trip()
    {
        var buffer = new byte[64];
        var length = RtcpPli.Write(buffer, 10, 20);
        Assert.True(RtcpPli.TryParse(Single(buffer.AsSpan(0, length)), out var pli));
        Assert.Equal(new RtcpPli(10, 20), pli);
        Assert.False(RtcpFir.TryParse(Single(buffer.AsSpan(0, length)), out _));

        length = RtcpFir.Write(buffer, 10, [(0xABCDEF01u, (byte)7), (5u, (byte)255)]);
        Assert.True(RtcpFir.TryParse(Single(buffer.AsSpan(0, length)), out var fir));
        Assert.Equal(2, fir.EntryCount);
        Assert.Equal((0xABCDEF01u, (byte)7), fir.GetEntry(0));
        Assert.Equal((5u, (byte)255), fir.GetEntry(1));
    }

    [Theory]
    [InlineData(0ul)]
    [InlineData(300_000ul)]
    [InlineData(262_143ul)]          // largest value with exponent 0
    [InlineData(2_500_000ul)]
    [InlineData(30_000_000_000ul)]
    public void Remb_round_trips_within_mantissa_precision(ulong bitrate)
    {
        var buffer = new byte[64];
        var length = RtcpRemb.Write(buffer, 3, bitrate, [0x1234u, 0x5678u]);
        Assert.True(RtcpRemb.TryParse(Single(buffer.AsSpan(0, length)), out var remb));
        Assert.Equal(2, remb.SsrcCount);
        Assert.Equal(0x5678u, remb.GetSsrc(1));
        Assert.True(remb.Bitrate <= bitrate);
        Assert.True(bitrate - remb.Bitrate <= bitrate / 0x20000); // 18-bit mantissa: < 2^-17 relative error
    }

    [Fact]
    public void Remb_decodes_hand_assembled_exponent_and_mantissa()
    {
        // exp 3, mantissa 0x1E848 (125000) → 1,000,000 bps; one SSRC.
        var packet = Hex.Parse("8fce0005 00000001 00000000 52454d42 010de848 0000abcd");
        Assert.True(RtcpRemb.TryParse(Single(packet), out var remb));
        Assert.Equal(1_000_000ul, remb.Bitrate);
        Assert.Equal(0xABCDu, remb.GetSsrc(0));
    }

    [Fact]
    public void Transport_feedback_round_trips_runs_vectors_losses_and_large_deltas()
    {
        var packets = new List<TransportFeedbackPacket>();
        ushort seq = 65530; // wraps
        for (var i = 0; i < 20; i++)
        {
            packets.Add(new(seq++, true, 4));            // a run of small deltas
        }

        packets.Add(new(seq++, false, 0));
        packets.Add(new(seq++, true, -20));              // negative: large
        packets.Add(new(seq++, true, 1000));             // large
        packets.Add(new(seq++, false, 0));
        packets.Add(new(seq++, true, 255));
        for (var i = 0; i < 9; i++)
        {
            packets.Add(new(seq++, false, 0));           // a run of losses
        }

        packets.Add(new(seq++, true, 0));

        var buffer = new byte[512];
        var length = RtcpTransportFeedback.Write(buffer, 1, 2, -5, 17, packets.ToArray());
        Assert.True(RtcpCompoundEnumerator.IsWellFormed(buffer.AsSpan(0, length)));
        Assert.True(RtcpTransportFeedback.TryParse(Single(buffer.AsSpan(0, length)), out var fb));
        Assert.Equal(65530, fb.BaseSequenceNumber);
        Assert.Equal(packets.Count, fb.PacketStatusCount);
        Assert.Equal(-5, fb.ReferenceTime);
        Assert.Equal(17, fb.FeedbackPacketCount);
        var decoded = new TransportFeedbackPacket[packets.Count];
        Assert.Equal(packets.Count, fb.GetPackets(decoded));
        Assert.Equal(packets, decoded);
    }

    [Fact]
    public void Transport_feedback_decodes_hand_assembled_one_bit_vector()
    {
        // base 100, count 14, ref time 1, fb count 0; one-bit vector: 10 1100 0000 0001 → received,
        // received, then 11 lost, then received → three 1-byte deltas 1, 2, 3; then zero padding.
        var packet = Hex.Parse("8fcd0006 00000001 00000002 0064000e 00000100 b001 0102 03000000");
        Assert.True(RtcpTransportFeedback.TryParse(Single(packet), out var fb));
        var decoded = new TransportFeedbackPacket[14];
        Assert.Equal(14, fb.GetPackets(decoded));
        Assert.Equal(new TransportFeedbackPacket(100, true, 1), decoded[0]);
        Assert.Equal(new TransportFeedbackPacket(101, true, 2), decoded[1]);
        Assert.All(decoded[2..13], p => Assert.False(p.Received));
        Assert.Equal(new TransportFeedbackPacket(113, true, 3), decoded[13]);
    }

    [Fact]
    public void Transport_feedback_with_missing_deltas_is_rejected()
    {
        // A run of 3 "small delta" packets but only 2 delta bytes.
        Assert.False(RtcpTransportFeedback.TryParse(Single(Hex.Parse("8fcd0005 00000001 00000002 00640003 00000100 2003 0102")), out _));
    }

    [Fact]
    public void Compound_of_every_type_is_walked_in_order()
    {
        var buffer = new byte[1024];
        var offset = 0;
        offset += RtcpSenderReport.Write(buffer.AsSpan(offset), 1, 2, 3, 4, 5, []);
        offset += RtcpReceiverReport.Write(buffer.AsSpan(offset), 1, []);
        offset += RtcpSourceDescription.Write(buffer.AsSpan(offset), [new(1, 1, "c"u8.ToArray())]);
        offset += RtcpNack.Write(buffer.AsSpan(offset), 1, 2, [5]);
        offset += RtcpPli.Write(buffer.AsSpan(offset), 1, 2);
        offset += RtcpFir.Write(buffer.AsSpan(offset), 1, [(2u, (byte)1)]);
        offset += RtcpRemb.Write(buffer.AsSpan(offset), 1, 1_000_000, [2u]);
        offset += RtcpBye.Write(buffer.AsSpan(offset), [1u]);
        offset += RtcpTransportFeedback.Write(buffer.AsSpan(offset), 1, 2, 0, 0, [new(1, true, 1)]);

        var types = new List<(byte, int)>();
        var e = new RtcpCompoundEnumerator(buffer.AsSpan(0, offset));
        while (e.MoveNext())
        {
            types.Add((e.Current.PacketType, e.Current.Count));
        }

        Assert.False(e.IsMalformed);
        Assert.Equal(
            [(200, 0), (201, 0), (202, 1), (205, 1), (206, 1), (206, 4), (206, 15), (203, 1), (205, 15)],
            types.Select(t => ((int)t.Item1, t.Item2)).ToList());
    }

    [Theory]
    [InlineData("")]
    [InlineData("80c8")]                         // shorter than a header
    [InlineData("40c80000")]                     // version 1
    [InlineData("80c90005 00000001")]            // length past the end
    [InlineData("a0c90001 00000004 80c90000")]   // padding on a packet that is not last
    [InlineData("a0c90001 00000000")]            // padding count 0
    public void Malformed_compounds_are_flagged(string hex)
    {
        Assert.False(RtcpCompoundEnumerator.IsWellFormed(Hex.Parse(hex)));
    }

    [Fact]
    public void Typed_parsers_reject_short_bodies()
    {
        Assert.False(RtcpSenderReport.TryParse(Single(Hex.Parse("81c80006 00000001 00000000 00000000 00000000 00000000 00000000")), out _)); // RC=1, no block
        Assert.False(RtcpNack.TryParse(Single(Hex.Parse("81cd0002 00000001 00000002")), out _)); // no FCI
        Assert.False(RtcpRemb.TryParse(Single(Hex.Parse("8fce0004 00000001 00000000 52454d42 0300f000")), out _)); // 3 SSRCs announced, none present
        Assert.False(RtcpBye.TryParse(Single(Hex.Parse("82cb0001 00000001")), out _)); // SC=2, one SSRC
    }
}
