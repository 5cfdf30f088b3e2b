using System.Net;
using Parley.WebRtc.Rtcp;
using Parley.WebRtc.Rtp;
using Parley.WebRtc.Srtp;
using Parley.WebRtc.Stun;
using Parley.WebRtc.Transport;

namespace Parley.WebRtc.Tests.Fuzz;

/// <summary>
/// Feeds 100,000 random and mutated packets to each parser (seeded, reproducible): no exception may
/// escape and no call may hang. Each target also touches everything the parse result exposes, so a
/// parser that accepts a packet it cannot safely describe fails here.
/// </summary>
public class ParserFuzzTests
{
    private static readonly byte[] StunFirstBytes = [0, 1, 2, 3];
    private static readonly byte[] RtpFirstBytes = [0x80, 0x90, 0xA0, 0xB0, 0x81, 0x8F, 0xBF];

    private static byte[][] StunCorpus()
    {
        var id = new byte[12];
        new Random(1).NextBytes(id);
        var list = new List<byte[]>();
        var buffer = new byte[512];
        var b = new StunMessageBuilder(buffer, StunMessageType.BindingRequest, id);
        b.AddUsername("abcd:efgh");
        b.AddPriority(1);
        b.AddIceControlling(2);
        b.AddUseCandidate();
        b.AddMessageIntegrity("0123456789012345678901"u8);
        b.AddFingerprint();
        list.Add(b.Written.ToArray());
        b = new StunMessageBuilder(buffer, StunMessageType.BindingSuccessResponse, id);
        b.AddXorMappedAddress(IPAddress.Parse("2001:db8::1"), 5000);
        b.AddXorMappedAddress(IPAddress.Parse("10.0.0.1"), 6000);
        b.AddMessageIntegrity("k"u8);
        b.AddFingerprint();
        list.Add(b.Written.ToArray());
        b = new StunMessageBuilder(buffer, StunMessageType.BindingErrorResponse, id);
        b.AddErrorCode(401, "Unauthorized");
        b.AddAttribute(0x7777, [1, 2, 3, 4, 5]);
        b.AddFingerprint();
        list.Add(b.Written.ToArray());
        return [.. list];
    }

    private static byte[][] RtpCorpus()
    {
        var list = new List<byte[]>();
        var buffer = new byte[1500];
        var b = new RtpPacketBuilder(buffer, 96, 1, 2, 3, true, [4u, 5u]);
        b.AddExtension(1, "0"u8);
        b.AddExtension(4, [1, 2, 3]);
        b.AddPayload([0x90, 0xE0, 0x81, 0x23, 0x05, 0xA0, 0x10, 0x02, 0x00]); // VP8 descriptor
        b.AddPadding(4);
        list.Add(buffer[..b.Length]);
        b = new RtpPacketBuilder(buffer, 102, 9, 9, 9);
        b.AddExtension(3, "repaired"u8, twoByteForm: true);
        b.AddPayload(Hex.Parse("18 0004 67420001 0002 68ce 7c85")); // H.264 STAP-A
        list.Add(buffer[..b.Length]);
        b = new RtpPacketBuilder(buffer, 111, 7, 960, 1);
        b.AddPayload([0xFB, 0x03, 1, 2, 3]); // Opus code 3
        list.Add(buffer[..b.Length]);
        return [.. list];
    }

    private static byte[][] RtcpCorpus()
    {
        var buffer = new byte[1500];
        var o = 0;
        o += RtcpSenderReport.Write(buffer.AsSpan(o), 1, 2, 3, 4, 5, [new RtcpReportBlock(1, 2, 3, 4, 5, 6, 7)]);
        o += RtcpSourceDescription.Write(buffer.AsSpan(o), [new RtcpSdesItem(1, 1, "cname"u8.ToArray()), new RtcpSdesItem(2, 1, "x"u8.ToArray())]);
        var compound1 = buffer[..o];
        o = 0;
        o += RtcpReceiverReport.Write(buffer.AsSpan(o), 1, [new RtcpReportBlock(1, 2, -3, 4, 5, 6, 7)]);
        o += RtcpNack.Write(buffer.AsSpan(o), 1, 2, [1, 2, 5, 40]);
        o += RtcpPli.Write(buffer.AsSpan(o), 1, 2);
        o += RtcpFir.Write(buffer.AsSpan(o), 1, [(2u, (byte)3)]);
        o += RtcpRemb.Write(buffer.AsSpan(o), 1, 123456789, [2u, 3u]);
        o += RtcpBye.Write(buffer.AsSpan(o), [1u, 2u], "bye"u8);
        var compound2 = buffer[..o];
        o = RtcpReceiverReport.Write(buffer, 1, []);
        o += RtcpTransportFeedback.Write(buffer.AsSpan(o), 1, 2, 100, 1,
            [new(10, true, 1), new(11, false, 0), new(12, true, 300), new(13, true, -4), new(14, true, 2)]);
        return [compound1, compound2, buffer[..o]];
    }

    [Fact]
    public void Stun_parser_survives_fuzzing()
    {
        Fuzzer.Run(5389, StunCorpus(), input =>
        {
            if (!StunMessage.TryParse(input, out var m))
            {
                return;
            }

            _ = (m.Method, m.Class, m.TransactionId.Length, m.Username.Length, m.Priority, m.UseCandidate);
            _ = (m.IceControlled, m.IceControlling, m.UnknownComprehensionRequired);
            m.VerifyFingerprint();
            m.VerifyMessageIntegrity("0123456789012345678901"u8);
            Span<byte> address = stackalloc byte[16];
            m.TryGetXorMappedAddress(address, out _, out _);
            m.GetXorMappedEndPoint();
            m.TryGetErrorCode(out _, out _);
        }, StunFirstBytes);
    }

    [Fact]
    public void Demultiplexer_survives_fuzzing_and_counts_every_packet()
    {
        var demux = new PacketDemultiplexer();
        var corpus = StunCorpus().Concat(RtpCorpus()).Concat(RtcpCorpus()).Append(Hex.Parse("16fefd000000000000000000010000")).ToArray();
        var total = 0L;
        Fuzzer.Run(7983, corpus, input =>
        {
            demux.Classify(input);
            total++;
        }, [0, 1, 3, 16, 20, 22, 63, 64, 79, 128, 191, 192, 255]);
        Assert.Equal(total, demux.StunPackets + demux.DtlsPackets + demux.RtpPackets + demux.RtcpPackets + demux.DroppedPackets);
    }

    [Fact]
    public void Rtp_parser_and_payload_helpers_survive_fuzzing()
    {
        var scratch = new byte[4096];
        Fuzzer.Run(3550, RtpCorpus(), input =>
        {
            if (!RtpPacket.TryParse(input, out var rtp))
            {
                return;
            }

            _ = (rtp.Marker, rtp.PayloadType, rtp.SequenceNumber, rtp.Timestamp, rtp.Ssrc, rtp.ExtensionProfile);
            for (var i = 0; i < rtp.CsrcCount; i++)
            {
                _ = rtp.GetCsrc(i);
            }

            foreach (var element in rtp.Extensions)
            {
                RtpExtensionValues.TryReadAbsSendTime(element.Value, out _);
                RtpExtensionValues.TryReadTransportSequenceNumber(element.Value, out _);
                RtpExtensionValues.TryReadAudioLevel(element.Value, out _, out _);
            }

            rtp.TryGetExtension(1, out _);
            var payload = rtp.Payload;
            Vp8PayloadDescriptor.TryParse(payload, out _);
            H264Keyframe.IsKeyframe(payload);
            OpusToc.TryParse(payload, out _);
            Rtx.TryDecapsulate(input, scratch, 96, 1, out _);
            Rtx.TryEncapsulate(input, scratch, 97, 2, 3, out _);
        }, RtpFirstBytes);
    }

    [Fact]
    public void Rtcp_parsers_survive_fuzzing()
    {
        var lost = new ushort[1024];
        var feedback = new TransportFeedbackPacket[256];
        Fuzzer.Run(4585, RtcpCorpus(), input =>
        {
            var packets = new RtcpCompoundEnumerator(input);
            while (packets.MoveNext())
            {
                Touch(packets.Current, lost, feedback);
            }
        }, RtpFirstBytes);
    }

    private static void Touch(RtcpPacket packet, ushort[] lost, TransportFeedbackPacket[] feedback)
    {
        _ = (packet.SenderSsrc, packet.Count, packet.Body.Length);
        if (RtcpSenderReport.TryParse(packet, out var sr))
        {
            _ = (sr.Ssrc, sr.NtpTimestamp, sr.RtpTimestamp, sr.PacketCount, sr.OctetCount);
            for (var i = 0; i < sr.ReportCount; i++)
            {
                _ = sr.GetReportBlock(i);
            }
        }

        if (RtcpReceiverReport.TryParse(packet, out var rr))
        {
            for (var i = 0; i < rr.ReportCount; i++)
            {
                _ = rr.GetReportBlock(i);
            }
        }

        if (RtcpSourceDescription.TryParse(packet, out var sdes))
        {
            foreach (var item in sdes.Items)
            {
                _ = (item.Ssrc, item.Type, item.Value.Length);
            }
        }

        if (RtcpBye.TryParse(packet, out var bye))
        {
            for (var i = 0; i < bye.SourceCount; i++)
            {
                _ = bye.GetSsrc(i);
            }

            _ = bye.Reason.Length;
        }

        if (RtcpNack.TryParse(packet, out var nack))
        {
            nack.GetLostSequenceNumbers(lost);
            nack.GetLostSequenceNumbers(lost.AsSpan(0, 3));
        }

        RtcpPli.TryParse(packet, out _);
        if (RtcpFir.TryParse(packet, out var fir))
        {
            for (var i = 0; i < fir.EntryCount; i++)
            {
                _ = fir.GetEntry(i);
            }
        }

        if (RtcpRemb.TryParse(packet, out var remb))
        {
            _ = remb.Bitrate;
            for (var i = 0; i < remb.SsrcCount; i++)
            {
                _ = remb.GetSsrc(i);
            }
        }

        if (RtcpTransportFeedback.TryParse(packet, out var twcc))
        {
            _ = (twcc.BaseSequenceNumber, twcc.ReferenceTime, twcc.FeedbackPacketCount);
            twcc.GetPackets(feedback);
        }
    }

    [Theory]
    [InlineData(SrtpProfile.AesCm128HmacSha1_80)]
    [InlineData(SrtpProfile.AeadAes128Gcm)]
    public void Srtp_unprotect_survives_fuzzing(SrtpProfile profile)
    {
        var key = new byte[16];
        var salt = new byte[SrtpProfiles.MasterSaltLength(profile)];
        new Random(3711).NextBytes(key);
        using var sender = new SrtpContext(profile, key, salt);
        using var receiver = new SrtpContext(profile, key, salt);

        // Seeds are valid SRTP and SRTCP packets, so mutations reach the authentication and replay paths.
        var corpus = new List<byte[]>();
        foreach (var plain in RtpCorpus())
        {
            var buffer = new byte[plain.Length + 16];
            plain.CopyTo(buffer, 0);
            Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(buffer, plain.Length, out var length));
            corpus.Add(buffer[..length]);
        }

        foreach (var plain in RtcpCorpus())
        {
            var buffer = new byte[plain.Length + 20];
            plain.CopyTo(buffer, 0);
            Assert.Equal(SrtpResult.Ok, sender.ProtectRtcp(buffer, plain.Length, out var length));
            corpus.Add(buffer[..length]);
        }

        var accepted = 0;
        Fuzzer.Run(7714, corpus, input =>
        {
            var kind = PacketDemultiplexer.Inspect(input);
            var result = kind == PacketKind.Rtcp
                ? receiver.UnprotectRtcp(input, out _)
                : receiver.UnprotectRtp(input, out _);
            if (result == SrtpResult.Ok)
            {
                accepted++;
            }
        }, RtpFirstBytes);

        // Unmutated seeds can pass once each (mutations that leave a packet intact); forgeries cannot.
        Assert.True(accepted <= corpus.Count, $"{accepted} fuzzed packets authenticated");
    }
}
