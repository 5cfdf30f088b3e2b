using BenchmarkDotNet.Attributes;
using Parley.WebRtc.Rtcp;
using Parley.WebRtc.Rtp;
using Parley.WebRtc.Stun;

namespace Parley.Benchmarks;

/// <summary>Per-packet parsing costs on the receive path: STUN checks, RTP headers, RTCP compounds.</summary>
[MemoryDiagnoser]
public class ParserBenchmarks
{
    private static readonly byte[] IcePassword = "abcdefghijklmnopqrstuvwx"u8.ToArray();
    private byte[] _stun = [];
    private byte[] _rtp = [];
    private byte[] _rtcp = [];
    private readonly TransportFeedbackPacket[] _feedback = new TransportFeedbackPacket[64];

    [GlobalSetup]
    public void Setup()
    {
        // A Chrome-like ICE connectivity check.
        var buffer = new byte[1500];
        var id = new byte[12];
        new Random(1).NextBytes(id);
        var stun = new StunMessageBuilder(buffer, StunMessageType.BindingRequest, id);
        stun.AddUsername("srvUfrag:cliUfrag");
        stun.AddIceControlling(0x1122334455667788);
        stun.AddUseCandidate();
        stun.AddPriority(1_853_824_767);
        stun.AddMessageIntegrity(IcePassword);
        stun.AddFingerprint();
        _stun = stun.Written.ToArray();

        // A video packet as Chrome sends it: mid, abs-send-time, transport-wide-cc extensions.
        var rtp = new RtpPacketBuilder(buffer, 96, 1000, 90000, 0xCAFEBABE, marker: true);
        rtp.AddExtension(1, "0"u8);
        rtp.AddExtension(4, [1, 2, 3]);
        rtp.AddExtension(5, [0, 42]);
        rtp.AddPayload(new byte[1100]);
        _rtp = buffer[..rtp.Length];

        // SR + SDES + REMB + transport-cc (20 packets): a typical receiver-side compound.
        var o = RtcpSenderReport.Write(buffer, 1, 2, 3, 4, 5, [new RtcpReportBlock(6, 0, 0, 7, 8, 9, 10)]);
        o += RtcpSourceDescription.Write(buffer.AsSpan(o), [new RtcpSdesItem(1, 1, "abcdefghijklmnop"u8.ToArray())]);
        o += RtcpRemb.Write(buffer.AsSpan(o), 1, 2_000_000, [6u]);
        var packets = Enumerable.Range(0, 20).Select(i => new TransportFeedbackPacket((ushort)(100 + i), i % 7 != 3, 4 + i)).ToArray();
        o += RtcpTransportFeedback.Write(buffer.AsSpan(o), 1, 6, 1000, 1, packets);
        _rtcp = buffer[..o];
    }

    [Benchmark]
    public bool StunParseAndVerify() =>
        StunMessage.TryParse(_stun, out var m) && m.VerifyFingerprint() && m.VerifyMessageIntegrity(IcePassword) && m.UseCandidate;

    [Benchmark]
    public int RtpParse()
    {
        if (!RtpPacket.TryParse(_rtp, out var rtp))
        {
            return -1;
        }

        rtp.TryGetExtension(1, out var mid);
        rtp.TryGetExtension(5, out var twcc);
        RtpExtensionValues.TryReadTransportSequenceNumber(twcc, out var seq);
        return rtp.Payload.Length + mid.Length + seq + rtp.SequenceNumber;
    }

    [Benchmark]
    public int RtcpCompoundParse()
    {
        var sum = 0;
        foreach (var packet in new RtcpCompoundEnumerator(_rtcp))
        {
            if (RtcpSenderReport.TryParse(packet, out var sr))
            {
                sum += (int)sr.PacketCount + sr.GetReportBlock(0).FractionLost;
            }
            else if (RtcpSourceDescription.TryParse(packet, out var sdes))
            {
                foreach (var item in sdes.Items)
                {
                    sum += item.Value.Length;
                }
            }
            else if (RtcpRemb.TryParse(packet, out var remb))
            {
                sum += (int)(remb.Bitrate >> 10);
            }
            else if (RtcpTransportFeedback.TryParse(packet, out var fb))
            {
                sum += fb.GetPackets(_feedback);
            }
        }

        return sum;
    }
}
