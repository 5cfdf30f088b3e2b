using Parley.WebRtc.Rtp;

namespace Parley.WebRtc.Tests.Rtp;

public class PayloadFormatTests
{
    [Fact]
    public void Rtx_round_trips_and_keeps_extensions()
    {
        var buffer = new byte[256];
        var builder = new RtpPacketBuilder(buffer, 96, 1000, 3000, 0x11111111, marker: true);
        builder.AddExtension(1, "v"u8);
        builder.AddPayload([10, 20, 30, 40]);
        builder.AddPadding(4);
        var original = buffer.AsSpan(0, builder.Length).ToArray();

        var rtx = new byte[256];
        Assert.True(Rtx.TryEncapsulate(original, rtx, 97, 0x22222222, 5, out var rtxLength));
        Assert.True(RtpPacket.TryParse(rtx.AsSpan(0, rtxLength), out var rtxPacket));
        Assert.Equal(97, rtxPacket.PayloadType);
        Assert.Equal(0x22222222u, rtxPacket.Ssrc);
        Assert.Equal(5, rtxPacket.SequenceNumber);
        Assert.Equal(3000u, rtxPacket.Timestamp);
        Assert.Equal("03e80a141e28", Hex.Of(rtxPacket.Payload)); // OSN 1000 then the payload

        var restored = new byte[256];
        Assert.True(Rtx.TryDecapsulate(rtx.AsSpan(0, rtxLength), restored, 96, 0x11111111, out var restoredLength));
        Assert.True(RtpPacket.TryParse(restored.AsSpan(0, restoredLength), out var back));
        Assert.Equal(1000, back.SequenceNumber);
        Assert.Equal(0x11111111u, back.Ssrc);
        Assert.Equal(96, back.PayloadType);
        Assert.True(back.Marker);
        Assert.True(back.TryGetExtension(1, out var mid));
        Assert.Equal("v"u8.ToArray(), mid.ToArray());
        Assert.Equal(new byte[] { 10, 20, 30, 40 }, back.Payload.ToArray());
    }

    [Fact]
    public void Padding_only_rtx_probe_is_not_decapsulated()
    {
        var buffer = new byte[64];
        var builder = new RtpPacketBuilder(buffer, 97, 1, 2, 3);
        builder.AddPadding(200 % 64);
        Assert.False(Rtx.TryDecapsulate(buffer.AsSpan(0, builder.Length), new byte[64], 96, 1, out _));
    }

    [Fact]
    public void Vp8_descriptor_with_15_bit_picture_id_on_a_keyframe()
    {
        // X=1 S=1 PID=0; I=1 L=1 T=1; picture id 0x8123 (M=1 → 0x0123); TL0PICIDX 5; TID 2 Y=1 KEYIDX 0;
        // VP8 payload header 0x10 (P=0: key frame).
        var payload = Hex.Parse("90 e0 8123 05 a0 10 02 00");
        Assert.True(Vp8PayloadDescriptor.TryParse(payload, out var d));
        Assert.Equal(6, d.Length);
        Assert.True(d.StartOfPartition);
        Assert.True(d.HasPictureId);
        Assert.True(d.PictureIdIs15Bit);
        Assert.Equal(0x0123, d.PictureId);
        Assert.True(d.HasTl0PicIdx);
        Assert.Equal(5, d.Tl0PicIdx);
        Assert.True(d.HasTemporalLayer);
        Assert.Equal(2, d.TemporalLayerId);
        Assert.True(d.LayerSync);
        Assert.True(d.IsKeyframe);
    }

    [Fact]
    public void Vp8_descriptor_delta_frame_and_continuation()
    {
        Assert.True(Vp8PayloadDescriptor.TryParse(Hex.Parse("90 80 15 11"), out var delta)); // 7-bit id 0x15, P=1
        Assert.Equal(0x15, delta.PictureId);
        Assert.False(delta.PictureIdIs15Bit);
        Assert.False(delta.IsKeyframe);

        Assert.True(Vp8PayloadDescriptor.TryParse(Hex.Parse("00 10"), out var middle)); // S=0
        Assert.False(middle.IsKeyframe);
        Assert.Equal(1, middle.Length);

        Assert.False(Vp8PayloadDescriptor.TryParse(Hex.Parse("90 80"), out _));  // I set, no picture id
        Assert.False(Vp8PayloadDescriptor.TryParse(Hex.Parse("90 80 81"), out _)); // M set, one byte only
        Assert.False(Vp8PayloadDescriptor.TryParse([], out _));
    }

    [Theory]
    [InlineData("65 88 84", true)]                       // single NAL, IDR
    [InlineData("67 42 c0 1f", true)]                    // single NAL, SPS
    [InlineData("41 9a 02", false)]                      // single NAL, non-IDR slice
    [InlineData("18 0004 67420001 0002 68ce", true)]     // STAP-A with SPS and PPS
    [InlineData("18 0002 4100 0002 4101", false)]        // STAP-A with two non-IDR slices
    [InlineData("18 0010 67", false)]                    // STAP-A with a size past the end
    [InlineData("7c 85 88", true)]                       // FU-A start of IDR
    [InlineData("7c 05 88", false)]                      // FU-A middle of IDR
    [InlineData("7c 81 88", false)]                      // FU-A start of non-IDR
    [InlineData("7c", false)]                            // FU-A without FU header
    [InlineData("", false)]
    public void H264_keyframe_detection(string hex, bool expected)
    {
        Assert.Equal(expected, H264Keyframe.IsKeyframe(Hex.Parse(hex)));
    }

    [Theory]
    [InlineData("fc", 31, true, 0, 1, OpusMode.Celt, 20_000)]    // config 31, stereo, 1 frame of 20 ms
    [InlineData("78", 15, false, 0, 1, OpusMode.Hybrid, 20_000)] // the usual WebRTC fullband 20 ms
    [InlineData("09", 1, false, 1, 2, OpusMode.Silk, 20_000)]    // two equal SILK frames
    [InlineData("1b 03", 3, false, 3, 3, OpusMode.Silk, 60_000)] // code 3, three 60 ms frames: 180 ms is over the 120 ms limit
    public void Opus_toc(string hex, int config, bool stereo, int code, int frames, OpusMode mode, int frameDuration)
    {
        var parsed = OpusToc.TryParse(Hex.Parse(hex), out var toc);
        if (frames * frameDuration > 120_000)
        {
            Assert.False(parsed);
            return;
        }

        Assert.True(parsed);
        Assert.Equal(new OpusToc(config, stereo, code, frames, mode, frameDuration), toc);
    }

    [Fact]
    public void Opus_code_3_reads_the_frame_count_and_rejects_zero()
    {
        Assert.True(OpusToc.TryParse([0xFB, 0x06], out var toc)); // config 31: CELT 20 ms, code 3, 6 frames = 120 ms
        Assert.Equal(6, toc.FrameCount);
        Assert.Equal(120_000, toc.PacketDurationMicroseconds);
        Assert.False(OpusToc.TryParse([0xFB, 0x00], out _));
        Assert.False(OpusToc.TryParse([0xFB], out _));
    }
}
