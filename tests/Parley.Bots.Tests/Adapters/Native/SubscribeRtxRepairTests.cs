using Parley.Bots.Adapters.Native;
using Parley.Bots.Recording;
using Parley.Bots.Tests.Recording;
using Parley.Testing;
using Parley.WebRtc.Rtp;
using Parley.WebRtc.Sdp;

namespace Parley.Bots.Tests.Adapters.Native;

/// <summary>
/// RTX on the bot's subscribe connection (found by the Chromium end-to-end test): Chromium negotiates RTX, so the SFU
/// offers it to the bot and answers its NACKs on the RTX SSRC. The adapter must hand the recorder the original packet.
/// </summary>
public sealed class SubscribeRtxRepairTests : IDisposable
{
    private const uint MediaSsrc = 0x1111_2222;
    private const uint RtxSsrc = 0x3333_4444;

    /// <summary>The shape of the SFU's subscribe offer for a Chromium camera (ParticipantSubscribe.Section).</summary>
    private static readonly string Offer = string.Join("\r\n",
        "v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0 1",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111", "c=IN IP4 0.0.0.0", "a=mid:0", "a=sendonly", "a=rtcp-mux",
        "a=rtpmap:111 opus/48000/2", "a=ssrc:5555 cname:p1",
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97", "c=IN IP4 0.0.0.0", "a=mid:1", "a=sendonly", "a=rtcp-mux",
        "a=rtpmap:96 VP8/90000", "a=rtpmap:97 rtx/90000", "a=fmtp:97 apt=96",
        $"a=ssrc-group:FID {MediaSsrc} {RtxSsrc}", $"a=ssrc:{MediaSsrc} cname:p1", $"a=ssrc:{RtxSsrc} cname:p1", "") + "\r\n";

    private readonly TempDirectory _directory = new();
    private readonly ManualClock _clock = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void An_rtx_retransmission_becomes_the_original_packet_and_fills_the_gap()
    {
        var repair = Repair();
        Assert.Equal(["1"], repair.Mids);
        var original = Rtp.Packet(1002, 9000, MediaSsrc, [0x10, 1, 2, 3, 4, 5], marker: true, payloadType: 96);
        var rtx = new byte[2048];
        Assert.True(Rtx.TryEncapsulate(original, rtx, 97, RtxSsrc, 40_000, out var rtxLength));

        var restored = new byte[2048];
        Assert.True(repair.TryUnwrap("1", rtx.AsSpan(0, rtxLength), 0, restored, out var length));
        Assert.Equal(original, restored.AsSpan(0, length).ToArray());

        // Media packets and packets of sections without RTX pass untouched.
        Assert.False(repair.TryUnwrap("1", original, 0, restored, out _));
        Assert.False(repair.TryUnwrap("0", rtx.AsSpan(0, rtxLength), 0, restored, out _));

        // Through the recorder: 1000, 1001, (1002 lost), 1003; the retransmission fills the gap on the same stream.
        using var session = new RecordingSession(_directory.Path, _clock);
        var track = session.AddTrack(new TrackRecorderOptions { ParticipantId = "p1", Kind = TrackKind.Audio, Codec = RecordingCodec.Opus });
        foreach (var sequence in new ushort[] { 1000, 1001, 1003 })
        {
            track.OnRtpPacket(Rtp.Packet(sequence, (uint)(sequence * 960), MediaSsrc, [0xF8, 0xFF, 0xFE], payloadType: 96));
        }

        var opus = Rtp.Packet(1002, 1002 * 960, MediaSsrc, [0xF8, 0xFF, 0xFE], payloadType: 96);
        Assert.True(Rtx.TryEncapsulate(opus, rtx, 97, RtxSsrc, 40_001, out rtxLength));
        Assert.True(repair.TryUnwrap("1", rtx.AsSpan(0, rtxLength), 0, restored, out length));
        Assert.Equal(JitterBufferInsertResult.Accepted, track.OnRtpPacket(restored.AsSpan(0, length)));
        _clock.Advance(TimeSpan.FromSeconds(2));
        track.Poll();
        Assert.Equal(MediaSsrc, track.MediaSsrc);
        Assert.Equal(0, track.PacketsLost);
    }

    [Fact]
    public void Rtx_padding_is_dropped_and_the_track_ssrc_stands_in_for_a_missing_fid_group()
    {
        var repair = Repair(Offer.Replace($"a=ssrc-group:FID {MediaSsrc} {RtxSsrc}\r\n", "", StringComparison.Ordinal));
        var restored = new byte[2048];

        // A bandwidth probe: RTX payload type, no OSN.
        var padding = Rtp.Packet(7, 0, RtxSsrc, [], payloadType: 97);
        Assert.True(repair.TryUnwrap("1", padding, MediaSsrc, restored, out var length));
        Assert.Equal(0, length);

        var original = Rtp.Packet(500, 1234, MediaSsrc, [0x10, 9, 9], payloadType: 96);
        var rtx = new byte[2048];
        Assert.True(Rtx.TryEncapsulate(original, rtx, 97, RtxSsrc, 1, out var rtxLength));
        Assert.True(repair.TryUnwrap("1", rtx.AsSpan(0, rtxLength), MediaSsrc, restored, out length));
        Assert.Equal(original, restored.AsSpan(0, length).ToArray());

        // Without a FID group or a known track SSRC there is nothing to restore it to: dropped, never recorded as a new stream.
        Assert.True(repair.TryUnwrap("1", rtx.AsSpan(0, rtxLength), 0, restored, out length));
        Assert.Equal(0, length);
    }

    private static SubscribeRtxRepair Repair(string? sdp = null)
    {
        Assert.True(SessionDescription.TryParse(sdp ?? Offer, out var description, out var error), error);
        return SubscribeRtxRepair.FromOffer(description);
    }
}
