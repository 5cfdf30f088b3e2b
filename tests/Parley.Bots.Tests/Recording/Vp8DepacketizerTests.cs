using Parley.Bots.Recording;
using Parley.WebRtc.Rtp;

namespace Parley.Bots.Tests.Recording;

public sealed class Vp8DepacketizerTests
{
    private readonly Collector _out = new();

    /// <summary>A VP8 key frame: frame tag (key, version 0, shown), start code, 640×480, then filler bytes.</summary>
    internal static byte[] Keyframe(int width = 640, int height = 480, int length = 2500)
    {
        var frame = new byte[length];
        var tag = (0 << 0) | (1 << 4) | (1000 << 5);
        frame[0] = (byte)tag;
        frame[1] = (byte)(tag >> 8);
        frame[2] = (byte)(tag >> 16);
        frame[3] = 0x9D;
        frame[4] = 0x01;
        frame[5] = 0x2A;
        frame[6] = (byte)width;
        frame[7] = (byte)(width >> 8);
        frame[8] = (byte)height;
        frame[9] = (byte)(height >> 8);
        for (var i = 10; i < length; i++)
        {
            frame[i] = (byte)(i * 7);
        }

        return frame;
    }

    internal static byte[] Interframe(int length = 900)
    {
        var frame = new byte[length];
        var tag = 1 | (1 << 4) | (300 << 5);
        frame[0] = (byte)tag;
        frame[1] = (byte)(tag >> 8);
        frame[2] = (byte)(tag >> 16);
        for (var i = 3; i < length; i++)
        {
            frame[i] = (byte)(i * 13);
        }

        return frame;
    }

    [Fact]
    public void A_key_frame_in_several_packets_is_joined_with_its_dimensions()
    {
        var frame = Keyframe();
        using var depacketizer = new Vp8Depacketizer(_out);
        Push(depacketizer, frame, seq: 10, timestamp: 9000, pictureId: 1);
        var result = Assert.Single(_out.Frames);
        Assert.Equal(frame, result.Data);
        Assert.True(result.Keyframe);
        Assert.Equal((640, 480), (result.Width, result.Height));
        Assert.Equal(9000u, result.Timestamp);
    }

    [Fact]
    public void The_keyframe_header_gives_size_and_scale()
    {
        var frame = Keyframe(width: 1280 | (1 << 14), height: 720);
        Assert.True(Vp8FrameHeader.TryParse(frame, out var header));
        Assert.True(header.Keyframe);
        Assert.True(header.ShowFrame);
        Assert.Equal(1000, header.FirstPartitionSize);
        Assert.Equal((1280, 720, 1, 0), (header.Width, header.Height, header.HorizontalScale, header.VerticalScale));

        Assert.True(Vp8FrameHeader.TryParse(Interframe(), out var inter));
        Assert.False(inter.Keyframe);
        var broken = Keyframe();
        broken[4] = 0;
        Assert.False(Vp8FrameHeader.TryParse(broken, out _)); // no start code
        Assert.False(Vp8FrameHeader.TryParse(broken.AsSpan(0, 7), out _));
    }

    [Fact]
    public void Interframes_are_not_key_frames_and_carry_no_dimensions()
    {
        using var depacketizer = new Vp8Depacketizer(_out);
        Push(depacketizer, Keyframe(), 1, 0, 1);
        Push(depacketizer, Interframe(), 10, 3000, 2);
        Assert.Equal(2, _out.Frames.Count);
        Assert.False(_out.Frames[1].Keyframe);
        Assert.Equal(0, _out.Frames[1].Width);
        Assert.Equal(Interframe(), _out.Frames[1].Data);
    }

    [Fact]
    public void A_loss_drops_the_frame_being_assembled_and_the_next_frame_is_whole()
    {
        using var depacketizer = new Vp8Depacketizer(_out);
        var packets = Rtp.Vp8Payloads(Keyframe(), 1, maxPayload: 500);
        Feed(depacketizer, packets.Take(2), 1, 0);
        depacketizer.OnLoss();
        Feed(depacketizer, packets.Skip(3), 4, 0);
        Assert.Empty(_out.Frames);
        Assert.Equal(1, depacketizer.FramesDropped);

        Push(depacketizer, Interframe(), 20, 3000, 2);
        Assert.Single(_out.Frames);
    }

    [Fact]
    public void Packets_of_a_frame_whose_start_was_lost_are_skipped()
    {
        using var depacketizer = new Vp8Depacketizer(_out);
        var packets = Rtp.Vp8Payloads(Keyframe(), 1, maxPayload: 500);
        Feed(depacketizer, packets.Skip(1), 2, 0);
        Assert.Empty(_out.Frames);
    }

    [Fact]
    public void Malformed_descriptors_are_counted_not_thrown()
    {
        using var depacketizer = new Vp8Depacketizer(_out);
        depacketizer.Push(Parse(Rtp.Packet(1, 0, 1, [0x80], marker: true))); // X set, extension byte missing
        depacketizer.Push(Parse(Rtp.Packet(2, 0, 1, [0x90, 0x80], marker: true))); // I set, picture id missing
        Assert.Equal(2, depacketizer.MalformedPackets);
        Assert.Empty(_out.Frames);
    }

    [Fact]
    public void Real_libvpx_frames_survive_packetization_unchanged()
    {
        var frames = Media.ReadIvf(Media.Vp8IvfPath);
        using var depacketizer = new Vp8Depacketizer(_out);
        ushort seq = 0;
        for (var i = 0; i < frames.Count; i++)
        {
            seq = Push(depacketizer, frames[i].Data, seq, (uint)(frames[i].TimestampMilliseconds * 90), i);
        }

        Assert.Equal(frames.Count, _out.Frames.Count);
        for (var i = 0; i < frames.Count; i++)
        {
            Assert.Equal(frames[i].Data, _out.Frames[i].Data);
        }

        Assert.True(_out.Frames[0].Keyframe);
        Assert.Equal((320, 240), (_out.Frames[0].Width, _out.Frames[0].Height));
        Assert.Contains(_out.Frames.Skip(1), f => !f.Keyframe);
    }

    private static ushort Push(Vp8Depacketizer depacketizer, byte[] frame, ushort seq, uint timestamp, int pictureId)
    {
        var payloads = Rtp.Vp8Payloads(frame, pictureId, maxPayload: 700);
        Feed(depacketizer, payloads, seq, timestamp);
        return (ushort)(seq + payloads.Count);
    }

    private static void Feed(Vp8Depacketizer depacketizer, IEnumerable<(byte[] Payload, bool Marker)> payloads, ushort seq, uint timestamp)
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
}
