using System.Security.Cryptography;
using Parley.WebRtc.Rtcp;
using Parley.WebRtc.Rtp;
using Parley.WebRtc.Srtp;

namespace Parley.WebRtc.Tests.Srtp;

public class SrtpContextTests
{
    public static TheoryData<SrtpProfile> Profiles => [SrtpProfile.AesCm128HmacSha1_80, SrtpProfile.AeadAes128Gcm];

    private static (SrtpContext Sender, SrtpContext Receiver) Pair(SrtpProfile profile)
    {
        var key = RandomNumberGenerator.GetBytes(SrtpProfiles.MasterKeyLength(profile));
        var salt = RandomNumberGenerator.GetBytes(SrtpProfiles.MasterSaltLength(profile));
        return (new SrtpContext(profile, key, salt), new SrtpContext(profile, key, salt));
    }

    private static byte[] Rtp(ushort seq, uint ssrc = 0x1234, int payloadLength = 1200, bool padding = false)
    {
        var buffer = new byte[payloadLength + 300];
        var builder = new RtpPacketBuilder(buffer, 96, seq, seq * 3000u, ssrc, marker: seq % 2 == 0);
        builder.AddExtension(1, "a"u8);
        var payload = new byte[payloadLength];
        new Random(seq).NextBytes(payload);
        builder.AddPayload(payload);
        if (padding)
        {
            builder.AddPadding(3);
        }

        return buffer[..builder.Length];
    }

    private static byte[] Protect(SrtpContext sender, byte[] plain)
    {
        var buffer = new byte[plain.Length + 32];
        plain.CopyTo(buffer, 0);
        Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(buffer, plain.Length, out var length));
        Assert.Equal(plain.Length + SrtpProfiles.RtpOverhead(sender.Profile), length);
        return buffer[..length];
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Rtp_round_trips_across_sequence_number_rollover(SrtpProfile profile)
    {
        var (sender, receiver) = Pair(profile);
        using (sender)
        using (receiver)
        {
            // 65530 .. 65535 then 0 .. 9: the ROC moves to 1 on both sides.
            for (var i = 0; i < 16; i++)
            {
                var seq = (ushort)(65530 + i);
                var plain = Rtp(seq, padding: i % 3 == 0);
                var wire = Protect(sender, plain);
                Assert.NotEqual(Hex.Of(plain.AsSpan(plain.Length - 100)), Hex.Of(wire.AsSpan(plain.Length - 100, 100)));
                Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(wire, out var length));
                Assert.Equal(Hex.Of(plain), Hex.Of(wire.AsSpan(0, length)));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Roc_guess_accepts_a_late_packet_from_before_the_wrap(SrtpProfile profile)
    {
        var (sender, receiver) = Pair(profile);
        using (sender)
        using (receiver)
        {
            var first = Protect(sender, Rtp(65534));
            var late = Protect(sender, Rtp(65535));
            var wrapped = Protect(sender, Rtp(2));
            Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(first, out _));
            Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(wrapped, out _));      // ROC 1
            Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(late, out var length)); // ROC 0, after ROC 1 was seen
            Assert.Equal(Hex.Of(Rtp(65535)), Hex.Of(late.AsSpan(0, length)));
        }
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Replays_and_packets_older_than_the_window_are_rejected(SrtpProfile profile)
    {
        var (sender, receiver) = Pair(profile);
        using (sender)
        using (receiver)
        {
            var wires = Enumerable.Range(0, 100).Select(i => Protect(sender, Rtp((ushort)(1000 + i), payloadLength: 50))).ToArray();
            Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp((byte[])wires[10].Clone(), out _));
            Assert.Equal(SrtpResult.Replayed, receiver.UnprotectRtp((byte[])wires[10].Clone(), out _));
            Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp((byte[])wires[99].Clone(), out _));
            Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp((byte[])wires[40].Clone(), out _));  // 59 behind: inside
            Assert.Equal(SrtpResult.Replayed, receiver.UnprotectRtp((byte[])wires[30].Clone(), out _)); // 69 behind: outside
            Assert.Equal(SrtpResult.Replayed, receiver.UnprotectRtp((byte[])wires[40].Clone(), out _));
        }
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Tampering_anywhere_fails_authentication(SrtpProfile profile)
    {
        var (sender, receiver) = Pair(profile);
        using (sender)
        using (receiver)
        {
            var wire = Protect(sender, Rtp(7, payloadLength: 100));
            foreach (var position in new[] { 1, 5, 12, 40, wire.Length - 1 })
            {
                var copy = (byte[])wire.Clone();
                copy[position] ^= 0x04;
                Assert.Equal(SrtpResult.AuthenticationFailed, receiver.UnprotectRtp(copy, out _));
            }

            Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(wire, out _));
        }
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Keys_of_another_session_do_not_verify(SrtpProfile profile)
    {
        var (sender, _) = Pair(profile);
        var (_, stranger) = Pair(profile);
        using (sender)
        using (stranger)
        {
            Assert.Equal(SrtpResult.AuthenticationFailed, stranger.UnprotectRtp(Protect(sender, Rtp(1)), out _));
        }
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Rtcp_compound_round_trips_and_replays_are_rejected(SrtpProfile profile)
    {
        var (sender, receiver) = Pair(profile);
        using (sender)
        using (receiver)
        {
            var plain = new byte[256];
            var length = RtcpSenderReport.Write(plain, 0xAAAA, 1, 2, 3, 4, [new RtcpReportBlock(5, 1, 2, 3, 4, 5, 6)]);
            length += RtcpSourceDescription.Write(plain.AsSpan(length), [new RtcpSdesItem(0xAAAA, 1, "cname"u8.ToArray())]);
            var expected = Hex.Of(plain.AsSpan(0, length));

            var wires = new List<byte[]>();
            for (var i = 0; i < 3; i++)
            {
                var buffer = new byte[300];
                plain.AsSpan(0, length).CopyTo(buffer);
                Assert.Equal(SrtpResult.Ok, sender.ProtectRtcp(buffer, length, out var protectedLength));
                Assert.Equal(length + SrtpProfiles.RtcpOverhead(profile), protectedLength);
                wires.Add(buffer[..protectedLength]);
            }

            foreach (var wire in wires)
            {
                var copy = (byte[])wire.Clone();
                Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtcp(copy, out var plainLength));
                Assert.Equal(expected, Hex.Of(copy.AsSpan(0, plainLength)));
            }

            Assert.Equal(SrtpResult.Replayed, receiver.UnprotectRtcp((byte[])wires[1].Clone(), out _));
            var tampered = (byte[])wires[2].Clone();
            tampered[10] ^= 1;
            using var fresh = new SrtpContext(profile, [.. new byte[16]], new byte[SrtpProfiles.MasterSaltLength(profile)]);
            Assert.Equal(SrtpResult.AuthenticationFailed, fresh.UnprotectRtcp(tampered, out _));
        }
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Short_buffers_and_garbage_give_result_codes(SrtpProfile profile)
    {
        var (sender, receiver) = Pair(profile);
        using (sender)
        using (receiver)
        {
            var plain = Rtp(1, payloadLength: 20);
            Assert.Equal(SrtpResult.BufferTooSmall, sender.ProtectRtp(plain, plain.Length, out _));
            Assert.Equal(SrtpResult.Malformed, sender.ProtectRtp(new byte[40], 40, out _)); // version 0
            Assert.Equal(SrtpResult.Malformed, sender.ProtectRtp(new byte[40], 41, out _)); // length past the buffer
            Assert.Equal(SrtpResult.Malformed, receiver.UnprotectRtp(new byte[5], out _));
            Assert.Equal(SrtpResult.Malformed, receiver.UnprotectRtcp(new byte[10], out _));
            Assert.Equal(SrtpResult.BufferTooSmall, sender.ProtectRtcp(new byte[] { 0x80, 201, 0, 1, 0, 0, 0, 1 }, 8, out _));
        }
    }

    [Fact]
    public void Index_estimation_follows_rfc3711_appendix_a()
    {
        var window = default(ReplayWindow);
        window.Accept(0x0001_FFF0); // ROC 1, s_l 0xFFF0
        Assert.True(SrtpContext.EstimateIndex(window, 0x0005, out var index));
        Assert.Equal(0x0002_0005ul, index); // wrapped forward
        Assert.True(SrtpContext.EstimateIndex(window, 0xFFE0, out index));
        Assert.Equal(0x0001_FFE0ul, index);

        window = default;
        window.Accept(0x0002_0003); // ROC 2, s_l 3
        Assert.True(SrtpContext.EstimateIndex(window, 0xFFFE, out index));
        Assert.Equal(0x0001_FFFEul, index); // late packet from ROC 1

        window = default;
        window.Accept(0x0000_0003); // ROC 0: nothing precedes it
        Assert.False(SrtpContext.EstimateIndex(window, 0xFFFE, out _));
    }

    [Fact]
    public void Constructor_rejects_wrong_key_sizes()
    {
        Assert.Throws<ArgumentException>(() => new SrtpContext(SrtpProfile.AesCm128HmacSha1_80, new byte[16], new byte[12]));
        Assert.Throws<ArgumentException>(() => new SrtpContext(SrtpProfile.AeadAes128Gcm, new byte[16], new byte[14]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SrtpContext((SrtpProfile)2, new byte[16], new byte[14]));
    }
}
