using Parley.WebRtc.Rtp;

namespace Parley.WebRtc.Tests.Rtp;

public class Vp8PacketizerTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(1099, 1)]
    [InlineData(1100, 2)]
    [InlineData(35_000, 32)]
    public void Packets_carry_the_whole_frame_with_the_start_bit_only_on_the_first(int frameLength, int expectedPackets)
    {
        var frame = new byte[frameLength];
        new Random(frameLength).NextBytes(frame);
        frame[0] &= 0xFE; // a key frame: P bit 0 (RFC 6386 §9.1)
        var count = Vp8Packetizer.PacketCount(frame.Length, 1100);
        Assert.Equal(expectedPackets, count);

        var reassembled = new List<byte>();
        var buffer = new byte[1500];
        for (var i = 0; i < count; i++)
        {
            var builder = new RtpPacketBuilder(buffer, 96, (ushort)i, 90_000, 42, marker: i == count - 1);
            Vp8Packetizer.AddPayload(ref builder, frame, i, 1100);
            Assert.True(RtpPacket.TryParse(buffer.AsSpan(0, builder.Length), out var packet));
            Assert.True(packet.Payload.Length <= 1100);
            Assert.True(Vp8PayloadDescriptor.TryParse(packet.Payload, out var descriptor));
            Assert.Equal((i == 0, 0, i == 0), (descriptor.StartOfPartition, descriptor.PartitionIndex, descriptor.IsKeyframe));
            reassembled.AddRange(packet.Payload[descriptor.Length..].ToArray());
        }

        Assert.Equal(frame, reassembled);
    }
}
