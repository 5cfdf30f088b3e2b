using System.Buffers.Binary;
using Parley.Bots.Recording;
using Parley.WebRtc.Rtp;

namespace Parley.Bots.Tests.Recording;

public sealed class H264DepacketizerTests
{
    private readonly Collector _out = new();

    private static readonly byte[] Sps = SpsWriter.Baseline(640, 480);
    private static readonly byte[] Pps = [0x68, 0xCE, 0x3C, 0x80];

    private static byte[] Idr(int length = 3000) => Slice(0x65, length, 5);

    private static byte[] NonIdr(int length = 800) => Slice(0x41, length, 11);

    [Fact]
    public void Stap_a_and_fu_a_are_reassembled_into_the_same_nal_units()
    {
        var idr = Idr();
        var payloads = Rtp.H264Payloads([Sps, Pps, idr], mtu: 1000);
        Assert.Equal(24, payloads[0].Payload[0] & 0x1F); // SPS and PPS aggregated
        Assert.All(payloads.Skip(1), p => Assert.Equal(28, p.Payload[0] & 0x1F)); // the IDR fragmented
        Assert.True(payloads.Count >= 4);

        using var depacketizer = new H264Depacketizer(_out);
        Feed(depacketizer, payloads, 1, 90_000);
        var frame = Assert.Single(_out.Frames);
        Assert.True(frame.Keyframe);
        Assert.Equal(Avcc(Sps, Pps, idr), frame.Data);
        Assert.Equal((640, 480), (frame.Width, frame.Height));
        Assert.Equal(Sps, depacketizer.SequenceParameterSet.ToArray());
        Assert.Equal(Pps, depacketizer.PictureParameterSet.ToArray());
    }

    [Fact]
    public void Annex_b_output_uses_start_codes()
    {
        var idr = Idr(500);
        using var depacketizer = new H264Depacketizer(_out, H264OutputFormat.AnnexB);
        Feed(depacketizer, Rtp.H264Payloads([Sps, Pps, idr]), 1, 0);
        byte[] startCode = [0, 0, 0, 1];
        Assert.Equal([.. startCode, .. Sps, .. startCode, .. Pps, .. startCode, .. idr], Assert.Single(_out.Frames).Data);
    }

    [Fact]
    public void Single_nal_unit_packets_make_a_non_key_access_unit()
    {
        using var depacketizer = new H264Depacketizer(_out);
        var slice = NonIdr(300);
        depacketizer.Push(Parse(Rtp.Packet(1, 3000, 1, slice, marker: true)));
        var frame = Assert.Single(_out.Frames);
        Assert.False(frame.Keyframe);
        Assert.Equal(Avcc(slice), frame.Data);
    }

    [Fact]
    public void An_idr_without_parameter_sets_gets_the_stored_ones_in_front()
    {
        using var depacketizer = new H264Depacketizer(_out);
        Feed(depacketizer, Rtp.H264Payloads([Sps, Pps, Idr(400)]), 1, 0);
        var idr = Idr(1500);
        Feed(depacketizer, Rtp.H264Payloads([idr]), 10, 3000);
        Assert.Equal(Avcc(Sps, Pps, idr), _out.Frames[1].Data);
        Assert.True(_out.Frames[1].Keyframe);
    }

    [Fact]
    public void A_lost_fragment_drops_the_access_unit_and_the_next_one_is_whole()
    {
        using var depacketizer = new H264Depacketizer(_out);
        var payloads = Rtp.H264Payloads([Sps, Pps, Idr()], mtu: 1000);
        Feed(depacketizer, payloads.Take(2), 1, 0);
        depacketizer.OnLoss();
        Feed(depacketizer, payloads.Skip(3), 4, 0);
        Assert.Empty(_out.Frames);
        Assert.Equal(1, depacketizer.FramesDropped);

        var slice = NonIdr();
        Feed(depacketizer, Rtp.H264Payloads([slice]), 20, 3000);
        Assert.Equal(Avcc(slice), Assert.Single(_out.Frames).Data);
    }

    [Fact]
    public void A_loss_between_access_units_drops_the_next_one_but_a_reset_does_not()
    {
        using var depacketizer = new H264Depacketizer(_out);
        var slice = NonIdr(300);
        depacketizer.OnLoss();
        Feed(depacketizer, Rtp.H264Payloads([slice]), 1, 3000);
        Assert.Empty(_out.Frames); // the lost packets may have been its first slices

        depacketizer.Reset();
        Feed(depacketizer, Rtp.H264Payloads([Sps, Pps, Idr()]), 100, 6000);
        Assert.True(Assert.Single(_out.Frames).Keyframe);
    }

    [Fact]
    public void A_fragment_without_its_start_drops_the_access_unit()
    {
        using var depacketizer = new H264Depacketizer(_out);
        var payloads = Rtp.H264Payloads([Idr()], mtu: 1000);
        Feed(depacketizer, payloads.Skip(1), 1, 0);
        Assert.Empty(_out.Frames);
        Assert.Equal(1, depacketizer.MalformedPackets);
    }

    [Fact]
    public void Malformed_aggregates_and_unsupported_types_do_not_throw()
    {
        using var depacketizer = new H264Depacketizer(_out);
        depacketizer.Push(Parse(Rtp.Packet(1, 0, 1, [24, 0x00, 0x10, 0x67], marker: true))); // STAP-A size beyond the payload
        depacketizer.Push(Parse(Rtp.Packet(2, 10, 1, [24, 0x00, 0x00], marker: true))); // zero-size NAL unit
        depacketizer.Push(Parse(Rtp.Packet(3, 20, 1, [25, 0x00, 0x00, 0x01, 0x02], marker: true))); // STAP-B
        depacketizer.Push(Parse(Rtp.Packet(4, 30, 1, [28], marker: true))); // FU-A without its header
        Assert.Empty(_out.Frames);
        Assert.Equal(4, depacketizer.MalformedPackets);
    }

    [Fact]
    public void Sequence_parameter_sets_give_the_picture_size()
    {
        Assert.True(H264SequenceParameterSet.TryParse(SpsWriter.Baseline(640, 480), out var vga));
        Assert.Equal((66, 30, 640, 480), (vga.ProfileIdc, vga.LevelIdc, vga.Width, vga.Height));

        // High profile with cropping: 1920×1088 coded, 8 lines cropped at the bottom.
        Assert.True(H264SequenceParameterSet.TryParse(SpsWriter.High1080p(), out var hd));
        Assert.Equal((100, 1920, 1080), (hd.ProfileIdc, hd.Width, hd.Height));

        Assert.False(H264SequenceParameterSet.TryParse(SpsWriter.Baseline(640, 480).AsSpan(0, 5), out _));
        Assert.False(H264SequenceParameterSet.TryParse(Pps, out _));
    }

    [Fact]
    public void Real_libx264_access_units_survive_packetization_unchanged()
    {
        var units = Media.ReadH264AccessUnits(Media.H264Path);
        using var depacketizer = new H264Depacketizer(_out);
        ushort seq = 0;
        for (var i = 0; i < units.Count; i++)
        {
            var payloads = Rtp.H264Payloads(units[i], mtu: 1100);
            Feed(depacketizer, payloads, seq, (uint)(i * 6000));
            seq += (ushort)payloads.Count;
        }

        Assert.Equal(units.Count, _out.Frames.Count);
        for (var i = 0; i < units.Count; i++)
        {
            Assert.Equal(Avcc([.. units[i]]), _out.Frames[i].Data);
            Assert.Equal(units[i].Exists(n => (n[0] & 0x1F) == 5), _out.Frames[i].Keyframe);
        }

        Assert.Equal((320, 240), (_out.Frames[0].Width, _out.Frames[0].Height));
        Assert.True(H264SequenceParameterSet.TryParse(depacketizer.SequenceParameterSet, out var sps));
        Assert.Equal(66, sps.ProfileIdc);
    }

    internal static byte[] Avcc(params byte[][] nals)
    {
        var result = new List<byte>();
        foreach (var nal in nals)
        {
            var length = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(length, nal.Length);
            result.AddRange(length);
            result.AddRange(nal);
        }

        return [.. result];
    }

    private static byte[] Slice(byte header, int length, int seed)
    {
        var nal = new byte[length];
        nal[0] = header;
        nal[1] = 0x88; // first_mb_in_slice = 0
        for (var i = 2; i < length; i++)
        {
            nal[i] = (byte)((i * seed) | 1); // never 00 00 0x
        }

        return nal;
    }

    private static void Feed(H264Depacketizer depacketizer, IEnumerable<(byte[] Payload, bool Marker)> payloads, ushort seq, uint timestamp)
    {
        foreach (var (payload, marker) in payloads)
        {
            depacketizer.Push(Parse(Rtp.Packet(seq++, timestamp, 1, payload, marker)));
        }
    }

    private static RtpPacket Parse(byte[] packet)
    {
        Assert.True(RtpPacket.TryParse(packet, out var rtp));
        return rtp;
    }

    /// <summary>Writes SPS NAL units bit by bit (H.264 §7.3.2.1.1), emulation prevention included.</summary>
    internal sealed class SpsWriter
    {
        private readonly List<bool> _bits = [];

        public static byte[] Baseline(int width, int height)
        {
            var w = new SpsWriter();
            w.Ue(0); // seq_parameter_set_id
            w.Ue(0); // log2_max_frame_num_minus4
            w.Ue(2); // pic_order_cnt_type
            w.Ue(1); // max_num_ref_frames
            w.Bit(false); // gaps_in_frame_num_value_allowed_flag
            w.Ue((uint)(width / 16) - 1);
            w.Ue((uint)(height / 16) - 1);
            w.Bit(true); // frame_mbs_only_flag
            w.Bit(true); // direct_8x8_inference_flag
            w.Bit(false); // frame_cropping_flag
            w.Bit(false); // vui_parameters_present_flag
            return w.Nal(66, 0xC0, 30);
        }

        public static byte[] High1080p()
        {
            var w = new SpsWriter();
            w.Ue(0);
            w.Ue(1); // chroma_format_idc 4:2:0
            w.Ue(0); // bit_depth_luma_minus8
            w.Ue(0); // bit_depth_chroma_minus8
            w.Bit(false); // qpprime_y_zero_transform_bypass_flag
            w.Bit(true); // seq_scaling_matrix_present_flag
            w.Bit(true); // list 0 present: 16 deltas
            for (var i = 0; i < 16; i++)
            {
                w.Se(i == 0 ? 8 : 0);
            }

            for (var i = 1; i < 8; i++)
            {
                w.Bit(false);
            }

            w.Ue(0); // log2_max_frame_num_minus4
            w.Ue(0); // pic_order_cnt_type 0
            w.Ue(2); // log2_max_pic_order_cnt_lsb_minus4
            w.Ue(4);
            w.Bit(false);
            w.Ue(119); // 120 macroblocks = 1920
            w.Ue(67); // 68 map units = 1088
            w.Bit(true);
            w.Bit(true);
            w.Bit(true); // frame_cropping_flag
            w.Ue(0);
            w.Ue(0);
            w.Ue(0);
            w.Ue(4); // 4 × 2 lines at the bottom
            w.Bit(false);
            return w.Nal(100, 0x00, 40);
        }

        private void Bit(bool value) => _bits.Add(value);

        private void Ue(uint value)
        {
            var coded = value + 1;
            var length = 32 - uint.LeadingZeroCount(coded);
            for (var i = 1; i < length; i++)
            {
                Bit(false);
            }

            for (var i = (int)length - 1; i >= 0; i--)
            {
                Bit(((coded >> i) & 1) != 0);
            }
        }

        private void Se(int value) => Ue(value > 0 ? (uint)((2 * value) - 1) : (uint)(-2 * value));

        private byte[] Nal(byte profile, byte constraints, byte level)
        {
            Bit(true); // rbsp_stop_one_bit
            while (_bits.Count % 8 != 0)
            {
                Bit(false);
            }

            var rbsp = new List<byte> { profile, constraints, level };
            for (var i = 0; i < _bits.Count; i += 8)
            {
                byte b = 0;
                for (var j = 0; j < 8; j++)
                {
                    b = (byte)((b << 1) | (_bits[i + j] ? 1 : 0));
                }

                rbsp.Add(b);
            }

            // Emulation prevention (§7.4.1): 00 00 followed by 00..03 gets a 03 in between.
            var nal = new List<byte> { 0x67 };
            var zeros = 0;
            foreach (var b in rbsp)
            {
                if (zeros >= 2 && b <= 3)
                {
                    nal.Add(3);
                    zeros = 0;
                }

                nal.Add(b);
                zeros = b == 0 ? zeros + 1 : 0;
            }

            return [.. nal];
        }
    }
}
