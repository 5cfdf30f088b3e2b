using Parley.WebRtc.Transport;

namespace Parley.WebRtc.Tests.Transport;

public class PacketDemultiplexerTests
{
    [Theory]
    [InlineData(0x00, 0x01, 20, PacketKind.Stun)]
    [InlineData(0x01, 0x01, 20, PacketKind.Stun)]
    [InlineData(0x03, 0x00, 20, PacketKind.Stun)]
    [InlineData(0x00, 0x01, 19, PacketKind.Unknown)]
    [InlineData(16, 0x00, 40, PacketKind.Unknown)]   // ZRTP
    [InlineData(22, 0xFE, 13, PacketKind.Dtls)]      // handshake record
    [InlineData(23, 0xFE, 40, PacketKind.Dtls)]      // application data
    [InlineData(63, 0xFE, 40, PacketKind.Dtls)]
    [InlineData(22, 0xFE, 12, PacketKind.Unknown)]
    [InlineData(64, 0x00, 40, PacketKind.Unknown)]   // TURN channel
    [InlineData(0x80, 96, 12, PacketKind.Rtp)]
    [InlineData(0x80, 96 | 0x80, 100, PacketKind.Rtp)] // marker bit set, PT 96
    [InlineData(0x80, 111, 11, PacketKind.Unknown)]
    [InlineData(0x80, 200, 28, PacketKind.Rtcp)]     // SR
    [InlineData(0x81, 201, 8, PacketKind.Rtcp)]      // RR
    [InlineData(0x81, 205, 16, PacketKind.Rtcp)]     // RTPFB
    [InlineData(0x81, 206, 12, PacketKind.Rtcp)]     // PSFB
    [InlineData(0x80, 200, 7, PacketKind.Unknown)]
    [InlineData(0xC0, 96, 40, PacketKind.Unknown)]   // version 3
    [InlineData(0xFF, 0, 40, PacketKind.Unknown)]
    public void Classifies_by_first_byte(byte first, byte second, int length, PacketKind expected)
    {
        var datagram = new byte[length];
        datagram[0] = first;
        if (length > 1)
        {
            datagram[1] = second;
        }

        Assert.Equal(expected, PacketDemultiplexer.Inspect(datagram));
    }

    [Fact]
    public void Counts_each_kind_and_drops()
    {
        var demux = new PacketDemultiplexer();
        demux.Classify(new byte[20]);
        demux.Classify([22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        demux.Classify([0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
        demux.Classify([0x80, 201, 0, 1, 0, 0, 0, 1]);
        demux.Classify([]);
        demux.Classify([100, 1, 2]);
        Assert.Equal(1, demux.StunPackets);
        Assert.Equal(1, demux.DtlsPackets);
        Assert.Equal(1, demux.RtpPackets);
        Assert.Equal(1, demux.RtcpPackets);
        Assert.Equal(2, demux.DroppedPackets);
    }
}
