using Parley.Bots.Adapters;
using Parley.Bots.Recording;
using Parley.Testing;
using Parley.WebRtc.Rtcp;

namespace Parley.Bots.Tests.Recording;

public sealed class TrackRecorderTests : IDisposable
{
    private const int AudioLevelId = 10;

    private readonly TempDirectory _directory = new();
    private readonly ManualClock _clock = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void A_vp8_track_through_reordering_loss_and_wraps_becomes_a_playable_file_on_the_wall_clock()
    {
        using var session = new RecordingSession(_directory.Path, _clock);
        session.AddParticipant(new MeetingParticipant("p1", "Alice"));
        var track = session.AddTrack(new TrackRecorderOptions { ParticipantId = "p1", Kind = TrackKind.Video, Codec = RecordingCodec.Vp8 });
        _clock.Advance(TimeSpan.FromSeconds(1));

        const uint ssrc = 0xAABB;
        const uint firstTimestamp = uint.MaxValue - 30_000; // wraps after a third of a second
        var ntp = NtpTime.FromDateTime(_clock.GetUtcNow());
        track.OnSenderReport(ssrc, ntp, firstTimestamp - 9000); // the SR instant is 100 ms before the first frame
        var frames = Media.ReadIvf(Media.Vp8IvfPath);
        var feeder = new Feeder(track, _clock, ssrc, 65_500, firstTimestamp);
        feeder.Vp8(frames, reorder: true, retransmitLate: true);
        Assert.False(track.NeedsKeyframe);
        session.Stop();

        var manifest = RecordingManifest.Load(session.ManifestPath)!;
        var entry = Assert.Single(manifest.Tracks);
        Assert.Equal(("p1", "video", "camera", "vp8"), (entry.ParticipantId, entry.Kind, entry.Source, entry.Codec));
        Assert.Equal("01-p1-camera.webm", entry.File);
        Assert.True(entry.Finished);
        Assert.Equal(frames.Count, entry.Frames);
        Assert.Equal("rtcp_sender_report", entry.Clock);
        Assert.Equal(NtpTime.ToDateTime(ntp).AddMilliseconds(100), entry.FirstSampleAt);
        Assert.Equal(1.1, entry.StartOffsetSeconds!.Value, 3);
        Assert.InRange(entry.DurationSeconds!.Value, 1.9, 2.1);
        var resolution = Assert.Single(entry.Resolutions);
        Assert.Equal((0.0, 320, 240), (resolution.AtSeconds, resolution.Width, resolution.Height));
        Assert.Equal(0, track.PacketsLost);

        var path = Path.Combine(_directory.Path, entry.File!);
        var probe = Media.Probe(path);
        Assert.Equal("vp8", Assert.Single(Media.Streams(probe)).GetProperty("codec_name").GetString());
        Assert.InRange(Media.Duration(probe), 1.9, 2.1);
        Assert.Equal("", Media.DecodeErrors(path));
    }

    [Fact]
    public void Video_waits_for_a_key_frame_and_paces_its_requests()
    {
        using var session = new RecordingSession(_directory.Path, _clock);
        var track = session.AddTrack(new TrackRecorderOptions { ParticipantId = "p1", Kind = TrackKind.Video, Codec = RecordingCodec.Vp8 });
        Assert.True(track.NeedsKeyframe);
        Assert.False(track.KeyframeRequestDue()); // nothing received yet: no SSRC to ask

        var frames = Media.ReadIvf(Media.Vp8IvfPath);
        var feeder = new Feeder(track, _clock, 5, 100, 1000);
        feeder.Vp8(frames.Skip(1).Take(3).ToList()); // interframes only
        Assert.True(track.NeedsKeyframe);
        Assert.False(track.IsStarted);
        Assert.Equal(3, track.FramesSkipped);
        Assert.True(track.KeyframeRequestDue());
        Assert.False(track.KeyframeRequestDue());
        _clock.Advance(TimeSpan.FromMilliseconds(500));
        Assert.True(track.KeyframeRequestDue());
        Assert.Equal(2, track.KeyframeRequests);

        feeder.Vp8(frames.Skip(10).Take(5).ToList()); // frame 10 is a key frame (-g 10)
        Assert.False(track.NeedsKeyframe);
        Assert.False(track.KeyframeRequestDue());
        Assert.Equal(5, track.FramesWritten);
    }

    [Fact]
    public void A_new_ssrc_and_a_smaller_picture_continue_the_same_file()
    {
        using var session = new RecordingSession(_directory.Path, _clock);
        var track = session.AddTrack(new TrackRecorderOptions { ParticipantId = "p1", Kind = TrackKind.Video, Codec = RecordingCodec.Vp8 });
        var big = Media.ReadIvf(Media.Vp8IvfPath);
        var small = Media.ReadIvf(Media.Vp8IvfSmallPath);
        new Feeder(track, _clock, 1, 10, 50_000).Vp8(big.Take(15).ToList());
        _clock.Advance(TimeSpan.FromMilliseconds(67));
        // A simulcast layer switch the SFU did not hide: another SSRC, numbering and timestamp base, lower resolution.
        new Feeder(track, _clock, 2, 40_000, 7).Vp8(small.Take(15).ToList());
        Assert.Equal(30, track.FramesWritten);
        session.Stop();

        var entry = Assert.Single(RecordingManifest.Load(session.ManifestPath)!.Tracks);
        Assert.Equal(1, entry.StreamRestarts);
        Assert.Equal([(320, 240), (160, 120)], entry.Resolutions.Select(r => (r.Width, r.Height)));
        Assert.InRange(entry.Resolutions[1].AtSeconds, 0.95, 1.1); // after the first 15 frames at 15 fps
        Assert.InRange(entry.DurationSeconds!.Value, 1.9, 2.1); // continuous, not restarted at 0

        var path = Path.Combine(_directory.Path, entry.File!);
        Assert.Equal("", Media.DecodeErrors(path));
        var (sizes, _, _) = Media.Run("ffprobe", $"-v error -select_streams v:0 -show_entries frame=width -of csv=p=0 \"{path}\"");
        Assert.Equal(["320", "160"], sizes.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct());
    }

    [Fact]
    public void A_lost_video_packet_waits_for_the_next_key_frame()
    {
        using var session = new RecordingSession(_directory.Path, _clock);
        var track = session.AddTrack(new TrackRecorderOptions { ParticipantId = "p1", Kind = TrackKind.Video, Codec = RecordingCodec.Vp8 });
        var frames = Media.ReadIvf(Media.Vp8IvfPath);
        var feeder = new Feeder(track, _clock, 1, 10, 0);
        feeder.Vp8(frames.Take(3).ToList());
        feeder.Vp8([frames[3]], dropPacketIndex: 0); // a packet never arrives
        feeder.Vp8(frames.Skip(4).Take(3).ToList());
        _clock.Advance(TimeSpan.FromSeconds(1));
        track.Poll(); // the jitter buffer gives the gap up
        Assert.Equal(1, track.PacketsLost);
        Assert.True(track.NeedsKeyframe);
        Assert.Equal(3, track.FramesSkipped); // 4-6 were whole but reference the lost frame 3
        feeder.Vp8(frames.Skip(7).Take(6).ToList()); // 7, 8, 9 skipped; 10 is a key frame
        Assert.False(track.NeedsKeyframe);
        Assert.Equal(6, track.FramesSkipped);
        Assert.Equal(3 + 3, track.FramesWritten); // 0-2, then 10-12
    }

    [Fact]
    public void A_sender_report_after_the_first_frame_corrects_the_start_time()
    {
        using var session = new RecordingSession(_directory.Path, _clock);
        var track = session.AddTrack(new TrackRecorderOptions { ParticipantId = "p1", Kind = TrackKind.Audio, Codec = RecordingCodec.Opus });
        _clock.Advance(TimeSpan.FromSeconds(2));
        var feeder = new Feeder(track, _clock, 9, 1, 480_000);
        feeder.Opus(10);
        var early = session.GetManifest().Tracks[0];
        Assert.Equal("arrival", early.Clock);

        // The sender's clock says the first packet was captured 2.05 s after the recording started.
        var firstCapture = session.StartedAt.AddSeconds(2.05);
        track.OnSenderReport(9, NtpTime.FromDateTime(firstCapture.AddMilliseconds(100)), 480_000 + 4800);
        var corrected = session.GetManifest().Tracks[0];
        Assert.Equal("rtcp_sender_report", corrected.Clock);
        Assert.Equal(2.05, corrected.StartOffsetSeconds!.Value, 3);
    }

    [Fact]
    public void Audio_levels_become_speech_segments_in_the_manifest()
    {
        using var session = new RecordingSession(_directory.Path, _clock);
        session.AddParticipant(new MeetingParticipant("p2", "Bob"));
        var track = session.AddTrack(new TrackRecorderOptions { ParticipantId = "p2", Kind = TrackKind.Audio, Codec = RecordingCodec.Opus, AudioLevelExtensionId = AudioLevelId });
        var feeder = new Feeder(track, _clock, 3, 1, 0);
        feeder.Opus(50, level: 100); // 1 s quiet
        feeder.Opus(50, level: 30); // 1 s speech
        feeder.Opus(100, level: 110); // 2 s quiet
        session.Stop();

        var speech = Assert.Single(RecordingManifest.Load(session.ManifestPath)!.Speech);
        Assert.Equal("p2", speech.ParticipantId);
        Assert.Equal(1.0, speech.StartOffsetSeconds, 2);
        Assert.Equal(2.0, speech.EndOffsetSeconds, 2);
    }

    [Fact]
    public void Pausing_stops_writing_and_is_kept_in_the_manifest()
    {
        using var session = new RecordingSession(_directory.Path, _clock);
        var track = session.AddTrack(new TrackRecorderOptions { ParticipantId = "p1", Kind = TrackKind.Audio, Codec = RecordingCodec.Opus });
        var feeder = new Feeder(track, _clock, 3, 1, 0);
        feeder.Opus(50);
        session.Pause();
        Assert.True(session.IsPaused);
        feeder.Opus(100);
        session.Resume();
        feeder.Opus(50);
        session.Stop();

        Assert.Equal(100, track.FramesWritten);
        var manifest = RecordingManifest.Load(session.ManifestPath)!;
        var paused = Assert.Single(manifest.Paused);
        Assert.Equal(1.0, paused.StartOffsetSeconds, 2);
        Assert.Equal(3.0, paused.EndOffsetSeconds!.Value, 2);
        Assert.InRange(manifest.Tracks[0].DurationSeconds!.Value, 3.9, 4.1); // the gap stays in the file's timeline
        Assert.NotNull(manifest.EndedAt);
    }

    [Fact]
    public void A_crash_leaves_a_playable_file_and_a_manifest_that_names_it()
    {
        var session = new RecordingSession(_directory.Path, _clock);
        session.AddParticipant(new MeetingParticipant("p1", "Alice"));
        session.AddChatMessage("p1", "Alice", "hello", "m1");
        var track = session.AddTrack(new TrackRecorderOptions { ParticipantId = "p1", Kind = TrackKind.Audio, Codec = RecordingCodec.Opus });
        var packets = Media.ReadOggOpus(Media.OpusOggPath);
        var feeder = new Feeder(track, _clock, 3, 1, 0);
        List<byte[]> sixSeconds = [.. packets, .. packets, .. packets];
        feeder.Opus(sixSeconds.Count, payloads: sixSeconds);
        // No Stop: the process is killed. The manifest on disk and the file are what remain.

        var manifest = RecordingManifest.Load(session.ManifestPath)!;
        var entry = Assert.Single(manifest.Tracks);
        Assert.False(entry.Finished);
        Assert.Null(manifest.EndedAt);
        Assert.Equal("hello", Assert.Single(manifest.ChatMessages).Text);
        var path = Path.Combine(_directory.Path, entry.File!);
        var copy = Path.Combine(_directory.Path, "after-crash.webm");
        File.Copy(path, copy);
        var probe = Media.Probe(copy);
        Assert.Equal("opus", Assert.Single(Media.Streams(probe)).GetProperty("codec_name").GetString());
        // The first cluster (5 s) was closed and flushed; the open one may still sit in the file buffer.
        var (packetCount, _, _) = Media.Run("ffprobe", $"-v error -count_packets -show_entries stream=nb_read_packets -of csv=p=0 \"{copy}\"");
        Assert.True(int.Parse(packetCount.Trim(), System.Globalization.CultureInfo.InvariantCulture) >= 250, packetCount);
        var (_, _, code) = Media.Run("ffmpeg", $"-v error -i \"{copy}\" -f null -");
        Assert.Equal(0, code);
        session.Stop();
    }

    [Fact]
    public void An_h264_track_is_recorded_into_matroska()
    {
        using var session = new RecordingSession(_directory.Path, _clock);
        var track = session.AddTrack(new TrackRecorderOptions { ParticipantId = "p1", Kind = TrackKind.Video, Codec = RecordingCodec.H264 });
        var units = Media.ReadH264AccessUnits(Media.H264Path);
        var feeder = new Feeder(track, _clock, 4, 300, 12_345);
        feeder.H264(units);
        session.Stop();
        Assert.True(track.FramesWritten == units.Count, $"written {track.FramesWritten}, skipped {track.FramesSkipped}, lost {track.PacketsLost}, key frame requests {track.KeyframeRequests}");

        var entry = Assert.Single(RecordingManifest.Load(session.ManifestPath)!.Tracks);
        Assert.Equal("01-p1-camera.mkv", entry.File);
        Assert.Equal(units.Count, entry.Frames);
        Assert.Equal((320, 240), (entry.Resolutions[0].Width, entry.Resolutions[0].Height));
        var path = Path.Combine(_directory.Path, entry.File!);
        var stream = Assert.Single(Media.Streams(Media.Probe(path)));
        Assert.Equal("h264", stream.GetProperty("codec_name").GetString());
        Assert.Equal("", Media.DecodeErrors(path));
    }

    [Fact]
    public void Recording_an_audio_packet_allocates_nothing_after_warm_up()
    {
        using var session = new RecordingSession(_directory.Path, _clock);
        var track = session.AddTrack(new TrackRecorderOptions { ParticipantId = "p1", Kind = TrackKind.Audio, Codec = RecordingCodec.Opus, AudioLevelExtensionId = AudioLevelId });
        var payload = new byte[] { 0xFC, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
        var packets = Enumerable.Range(0, 2000).Select(i => Rtp.Packet((ushort)i, (uint)i * 960, 7, payload, payloadType: 111, audioLevelId: AudioLevelId, audioLevel: 90)).ToArray();
        for (var i = 0; i < 1000; i++)
        {
            track.OnRtpPacket(packets[i]);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 1000; i < 2000; i++)
        {
            track.OnRtpPacket(packets[i]);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>Packetizes media into RTP and hands it to a track recorder as the network would.</summary>
    private sealed class Feeder(TrackRecorder track, ManualClock clock, uint ssrc, ushort firstSequence, uint firstTimestamp)
    {
        private ushort _sequence = firstSequence;
        private uint _timestamp = firstTimestamp;
        private long _lastMs = -1;
        private byte[]? _late;

        public void Vp8(IReadOnlyList<(byte[] Data, long Ms)> frames, bool reorder = false, bool retransmitLate = false, int dropPacketIndex = -1)
        {
            for (var i = 0; i < frames.Count; i++)
            {
                Advance(frames[i].Ms, 90);
                var packets = Rtp.Vp8Payloads(frames[i].Data, i, 600)
                    .Select(p => Rtp.Packet(_sequence++, _timestamp, ssrc, p.Payload, p.Marker)).ToList();
                if (dropPacketIndex >= 0 && packets.Count > dropPacketIndex)
                {
                    packets.RemoveAt(dropPacketIndex);
                }

                if (reorder && packets.Count >= 2 && i % 3 == 1)
                {
                    (packets[0], packets[1]) = (packets[1], packets[0]);
                }

                if (retransmitLate && i % 5 == 2 && packets.Count >= 2)
                {
                    // Held back: "lost", then retransmitted after a NACK while the next frame arrives.
                    _late = packets[0];
                    packets.RemoveAt(0);
                }
                else if (_late is not null)
                {
                    packets.Insert(1, _late);
                    _late = null;
                }

                foreach (var packet in packets)
                {
                    track.OnRtpPacket(packet);
                }
            }

            if (_late is not null)
            {
                track.OnRtpPacket(_late);
                _late = null;
            }
        }

        public void H264(IReadOnlyList<List<byte[]>> units)
        {
            for (var i = 0; i < units.Count; i++)
            {
                Advance(i * 1000L / 15, 90);
                foreach (var (payload, marker) in Rtp.H264Payloads(units[i], 1100))
                {
                    track.OnRtpPacket(Rtp.Packet(_sequence++, _timestamp, ssrc, payload, marker));
                }
            }
        }

        /// <summary>20 ms Opus packets; a level makes them carry the RFC 6464 extension.</summary>
        public void Opus(int count, byte? level = null, IReadOnlyList<byte[]>? payloads = null)
        {
            for (var i = 0; i < count; i++)
            {
                byte[] payload = payloads?[i] ?? [0xFC, 0x01, 0x02];
                track.OnRtpPacket(Rtp.Packet(_sequence++, _timestamp, ssrc, payload, payloadType: 111,
                    audioLevelId: level is null ? 0 : AudioLevelId, audioLevel: level ?? 127));
                _timestamp += 960;
                clock.Advance(TimeSpan.FromMilliseconds(20));
            }
        }

        private void Advance(long ms, int ticksPerMs)
        {
            if (_lastMs >= 0)
            {
                clock.Advance(TimeSpan.FromMilliseconds(ms - _lastMs));
                _timestamp += (uint)((ms - _lastMs) * ticksPerMs);
            }

            _lastMs = ms;
        }
    }
}
