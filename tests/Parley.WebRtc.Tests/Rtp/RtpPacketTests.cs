using System.Text;
using Parley.WebRtc.Rtp;

namespace Parley.WebRtc.Tests.Rtp;

public class RtpPacketTests
{
    [Fact]
    public void Parses_a_hand_assembled_packet_field_by_field()
    {
        // RFC 3550 §5.1 layout: V=2 P=0 X=0 CC=0, M=1 PT=111, seq 0x1234, ts 0xDEADBEEF, SSRC 0x01020304.
        var packet = Hex.Parse("80ef1234 deadbeef 01020304 aabbcc");
        Assert.True(RtpPacket.TryParse(packet, out var rtp));
        Assert.True(rtp.Marker);
        Assert.Equal(111, rtp.PayloadType);
        Assert.Equal(0x1234, rtp.SequenceNumber);
        Assert.Equal(0xDEADBEEFu, rtp.Timestamp);
        Assert.Equal(0x01020304u, rtp.Ssrc);
        Assert.Equal(12, rtp.HeaderLength);
        Assert.Equal("aabbcc", Hex.Of(rtp.Payload));
        Assert.False(rtp.HasExtension);
    }

    [Fact]
    public void Round_trips_csrcs_one_byte_extensions_payload_and_padding()
    {
        var buffer = new byte[1500];
        var builder = new RtpPacketBuilder(buffer, 96, 65535, 90000, 0xCAFEBABE, marker: true, csrcs: [7u, 8u]);
        builder.AddExtension(1, "0"u8);                    // mid
        builder.AddExtension(2, "hi"u8);                   // rid
        var abs = new byte[3];
        RtpExtensionValues.WriteAbsSendTime(abs, 0x123456);
        builder.AddExtension(4, abs);
        var twcc = new byte[2];
        RtpExtensionValues.WriteTransportSequenceNumber(twcc, 4242);
        builder.AddExtension(5, twcc);
        builder.AddExtension(10, [RtpExtensionValues.EncodeAudioLevel(true, 30)]);
        builder.AddPayload([1, 2, 3, 4, 5]);
        builder.AddPadding(7);

        Assert.True(RtpPacket.TryParse(builder.Written, out var rtp));
        Assert.True(rtp.Marker);
        Assert.True(rtp.Padding);
        Assert.Equal(7, rtp.PaddingLength);
        Assert.Equal(2, rtp.CsrcCount);
        Assert.Equal(7u, rtp.GetCsrc(0));
        Assert.Equal(8u, rtp.GetCsrc(1));
        Assert.Equal(RtpPacket.OneByteExtensionProfile, rtp.ExtensionProfile);
        Assert.Equal(0, rtp.ExtensionData.Length % 4);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, rtp.Payload.ToArray());

        Assert.True(rtp.TryGetExtension(1, out var mid));
        Assert.Equal("0", Encoding.ASCII.GetString(mid));
        Assert.True(rtp.TryGetExtension(2, out var rid));
        Assert.Equal("hi", Encoding.ASCII.GetString(rid));
        Assert.True(rtp.TryGetExtension(4, out var absValue));
        Assert.True(RtpExtensionValues.TryReadAbsSendTime(absValue, out var sendTime));
        Assert.Equal(0x123456u, sendTime);
        Assert.True(rtp.TryGetExtension(5, out var twccValue));
        Assert.True(RtpExtensionValues.TryReadTransportSequenceNumber(twccValue, out var tseq));
        Assert.Equal(4242, tseq);
        Assert.True(rtp.TryGetExtension(10, out var level));
        Assert.True(RtpExtensionValues.TryReadAudioLevel(level, out var voice, out var dbov));
        Assert.True(voice);
        Assert.Equal(30, dbov);
        Assert.False(rtp.TryGetExtension(3, out _));
    }

    [Fact]
    public void Round_trips_two_byte_extensions_including_long_and_empty_values()
    {
        var buffer = new byte[1500];
        var builder = new RtpPacketBuilder(buffer, 100, 1, 2, 3);
        var repairedRid = Encoding.ASCII.GetBytes("a-very-long-repaired-rid-value");
        builder.AddExtension(3, repairedRid, twoByteForm: true);
        builder.AddExtension(200, [], twoByteForm: true);
        builder.AddExtension(1, "m1"u8, twoByteForm: true);
        builder.AddPayload([9]);

        Assert.True(RtpPacket.TryParse(builder.Written, out var rtp));
        Assert.Equal(RtpPacket.TwoByteExtensionProfile, rtp.ExtensionProfile);
        var seen = new List<(int, string)>();
        foreach (var element in rtp.Extensions)
        {
            seen.Add((element.Id, Encoding.ASCII.GetString(element.Value)));
        }

        Assert.Equal([(3, "a-very-long-repaired-rid-value"), (200, ""), (1, "m1")], seen);
        Assert.Equal(new byte[] { 9 }, rtp.Payload.ToArray());
    }

    [Fact]
    public void One_byte_form_skips_padding_bytes_and_stops_at_id_15()
    {
        // Extension block: 0x10 'a' (id 1, 1 byte), two padding zeros, id 2 len 2, then id 15 (stop).
        // Block of 3 words: id 1 'a', two padding bytes, id 2 "bc", a padding byte, then id 15 and bytes
        // that must be ignored; the payload is ddee.
        var packet = Hex.Parse("90600001 00000002 00000003 bede0003 10610000 21626300 f0313131 ddee");
        Assert.True(RtpPacket.TryParse(packet, out var rtp));
        var ids = new List<int>();
        foreach (var element in rtp.Extensions)
        {
            ids.Add(element.Id);
        }

        Assert.Equal([1, 2], ids);
        Assert.Equal("ddee", Hex.Of(rtp.Payload));
    }

    [Theory]
    [InlineData("")]
    [InlineData("80")]
    [InlineData("8060000100000002000000")]              // 11 bytes
    [InlineData("40600001000000020000000301")]          // version 1
    [InlineData("82600001000000020000000301")]          // CC=2 but no CSRCs
    [InlineData("9060000100000002000000030000")]        // X=1 but no room for extension header
    [InlineData("90600001000000020000000300000005")]    // extension of 5 words, none present
    [InlineData("a0600001000000020000000300")]          // padding count 0
    [InlineData("a0600001000000020000000305")]          // padding count larger than the payload
    public void Malformed_packets_are_rejected(string hex)
    {
        Assert.False(RtpPacket.TryParse(Hex.Parse(hex), out _));
    }

    [Fact]
    public void A_packet_with_extensions_and_no_payload_is_complete()
    {
        var buffer = new byte[64];
        var builder = new RtpPacketBuilder(buffer, 96, 1, 2, 3);
        builder.AddExtension(5, [0, 7]);
        Assert.Equal(12 + 4 + 4, builder.Length);
        Assert.True(RtpPacket.TryParse(builder.Written, out var rtp));
        Assert.True(rtp.TryGetExtension(5, out var twcc));
        Assert.Equal(new byte[] { 0, 7 }, twcc.ToArray());
        Assert.True(rtp.Payload.IsEmpty);
    }

    [Fact]
    public void Header_rewrites_change_only_their_field()
    {
        var buffer = new byte[64];
        var builder = new RtpPacketBuilder(buffer, 96, 10, 20, 30, marker: true);
        builder.AddPayload([1, 2, 3]);
        var packet = buffer.AsSpan(0, builder.Length);
        RtpPacket.SetSequenceNumber(packet, 11);
        RtpPacket.SetTimestamp(packet, 21);
        RtpPacket.SetSsrc(packet, 31);
        RtpPacket.SetPayloadType(packet, 97);
        Assert.True(RtpPacket.TryParse(packet, out var rtp));
        Assert.Equal((11, 21u, 31u, 97, true), (rtp.SequenceNumber, rtp.Timestamp, rtp.Ssrc, (int)rtp.PayloadType, rtp.Marker));
        RtpPacket.SetMarker(packet, false);
        Assert.True(RtpPacket.TryParse(packet, out rtp));
        Assert.False(rtp.Marker);
        Assert.Equal(97, rtp.PayloadType);
    }

    [Fact]
    public void Abs_send_time_conversion_is_6_18_fixed_point()
    {
        Assert.Equal(1u << 18, RtpExtensionValues.ToAbsSendTime(1_000_000));
        Assert.Equal(1u << 17, RtpExtensionValues.ToAbsSendTime(500_000));
        Assert.Equal(0u, RtpExtensionValues.ToAbsSendTime(64_000_000)); // wraps every 64 s
    }
}
