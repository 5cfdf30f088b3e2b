using System.Buffers.Binary;
using Parley.Bots.Recording;
using Parley.Testing;

namespace Parley.Bots.Tests.Recording;

public sealed class WebmWriterTests
{
    private const uint Segment = 0x18538067;
    private const uint Cluster = 0x1F43B675;
    private const uint SimpleBlock = 0xA3;

    [Fact]
    public void An_opus_file_has_the_header_track_clusters_cues_and_duration()
    {
        using var stream = new MemoryStream();
        using (var writer = new WebmWriter(stream, new WebmTrackInfo { Codec = RecordingCodec.Opus, Name = "Alice" }, ownsStream: false))
        {
            for (var i = 0; i < 600; i++) // 12 s of 20 ms packets
            {
                writer.WriteFrame([0xFC, (byte)i, 1, 2], i * 20, keyframe: true);
            }
        }

        var top = EbmlReader.Parse(stream.ToArray());
        Assert.Equal(2, top.Count);
        var ebml = top[0];
        Assert.Equal("webm", ebml.Child(0x4282)!.String);
        Assert.Equal(4ul, ebml.Child(0x4287)!.UInt);

        var segment = top[1];
        Assert.Equal(Segment, segment.Id);
        Assert.False(segment.UnknownSize); // fixed on finish
        Assert.Equal(stream.Length, segment.DataOffset + segment.Size);

        var info = segment.Child(0x1549A966)!;
        Assert.Equal(1_000_000ul, info.Child(0x2AD7B1)!.UInt);
        Assert.Equal(11_980 + 20, info.Child(0x4489)!.Float);

        var track = segment.Child(0x1654AE6B)!.Child(0xAE)!;
        Assert.Equal(1ul, track.Child(0xD7)!.UInt);
        Assert.Equal(2ul, track.Child(0x83)!.UInt);
        Assert.Equal("A_OPUS", track.Child(0x86)!.String);
        Assert.Equal("Alice", track.Child(0x536E)!.String);
        var opusHead = track.Child(0x63A2)!.Data;
        Assert.Equal("OpusHead", System.Text.Encoding.ASCII.GetString(opusHead, 0, 8));
        Assert.Equal(2, opusHead[9]);
        Assert.Equal(312, BinaryPrimitives.ReadUInt16LittleEndian(opusHead.AsSpan(10)));
        Assert.Equal(6_500_000ul, track.Child(0x56AA)!.UInt); // CodecDelay = pre-skip in ns
        Assert.Equal(80_000_000ul, track.Child(0x56BB)!.UInt);
        var audio = track.Child(0xE1)!;
        Assert.Equal(48_000.0, audio.Child(0xB5)!.Float);
        Assert.Equal(2ul, audio.Child(0x9F)!.UInt);

        // A cluster every 5 s: 0, 5000, 10000.
        var clusters = segment.All(Cluster).ToList();
        Assert.Equal([0ul, 5000ul, 10000ul], clusters.Select(c => c.Child(0xE7)!.UInt));
        Assert.All(clusters, c => Assert.False(c.UnknownSize));
        Assert.Equal(600, clusters.Sum(c => c.All(SimpleBlock).Count()));
        var block = clusters[1].All(SimpleBlock).ElementAt(3).Data;
        Assert.Equal(0x81, block[0]); // track 1
        Assert.Equal(60, BinaryPrimitives.ReadInt16BigEndian(block.AsSpan(1))); // 5060 - 5000
        Assert.Equal(0x80, block[3]); // key frame
        Assert.Equal([0xFC, 253, 1, 2], block[4..]);

        AssertCuesPointAtClusters(segment, stream.ToArray(), clusters);
        AssertSeekHeadPointsAtElements(segment);
    }

    [Fact]
    public void A_video_file_starts_a_cluster_at_every_key_frame()
    {
        using var stream = new MemoryStream();
        using (var writer = new WebmWriter(stream, new WebmTrackInfo { Codec = RecordingCodec.Vp8, Width = 640, Height = 480 }, ownsStream: false))
        {
            for (var i = 0; i < 30; i++)
            {
                writer.WriteFrame(i % 10 == 0 ? Vp8DepacketizerTests.Keyframe() : Vp8DepacketizerTests.Interframe(), i * 100, keyframe: i % 10 == 0);
            }
        }

        var segment = EbmlReader.Parse(stream.ToArray())[1];
        var track = segment.Child(0x1654AE6B)!.Child(0xAE)!;
        Assert.Equal("V_VP8", track.Child(0x86)!.String);
        Assert.Equal(1ul, track.Child(0x83)!.UInt);
        Assert.Equal(640ul, track.Child(0xE0)!.Child(0xB0)!.UInt);
        Assert.Equal(480ul, track.Child(0xE0)!.Child(0xBA)!.UInt);

        var clusters = segment.All(Cluster).ToList();
        Assert.Equal([0ul, 1000ul, 2000ul], clusters.Select(c => c.Child(0xE7)!.UInt));
        Assert.All(clusters, c =>
        {
            var blocks = c.All(SimpleBlock).ToList();
            Assert.Equal(10, blocks.Count);
            Assert.Equal(0x80, blocks[0].Data[3]);
            Assert.All(blocks.Skip(1), b => Assert.Equal(0x00, b.Data[3]));
        });
        AssertCuesPointAtClusters(segment, stream.ToArray(), clusters);
    }

    [Fact]
    public void An_unfinished_file_is_live_style_and_still_parses()
    {
        using var stream = new MemoryStream();
        var writer = new WebmWriter(stream, new WebmTrackInfo { Codec = RecordingCodec.Opus }, ownsStream: false);
        for (var i = 0; i < 400; i++)
        {
            writer.WriteFrame([0xFC, 1, 2, 3], i * 20, keyframe: true);
        }

        writer.Flush(); // the process dies here: no Finish

        var segment = EbmlReader.Parse(stream.ToArray())[1];
        Assert.True(segment.UnknownSize);
        var clusters = segment.All(Cluster).ToList();
        Assert.Equal(2, clusters.Count);
        Assert.False(clusters[0].UnknownSize); // closed when the next one started
        Assert.True(clusters[1].UnknownSize); // still open
        Assert.Equal(400, clusters.Sum(c => c.All(SimpleBlock).Count()));
        Assert.Null(segment.Child(0x1549A966)!.Child(0x4489)); // no Duration yet: its space is a Void
        Assert.Null(segment.Child(0x1C53BB6B)); // no Cues yet
    }

    [Fact]
    public void Timestamps_going_backwards_are_held_at_the_previous_one()
    {
        using var stream = new MemoryStream();
        using var writer = new WebmWriter(stream, new WebmTrackInfo { Codec = RecordingCodec.Opus }, ownsStream: false);
        writer.WriteFrame([1], 100, true);
        writer.WriteFrame([2], 80, true);
        Assert.Equal(1, writer.ReorderedTimestamps);
        Assert.Equal(100, writer.LastTimestamp);
    }

    [Fact]
    public void A_non_seekable_stream_gets_a_valid_live_file()
    {
        using var inner = new MemoryStream();
        using (var writer = new WebmWriter(new ForwardOnlyStream(inner), new WebmTrackInfo { Codec = RecordingCodec.Opus }))
        {
            for (var i = 0; i < 300; i++)
            {
                writer.WriteFrame([0xFC, 1], i * 20, keyframe: true);
            }
        }

        var segment = EbmlReader.Parse(inner.ToArray())[1];
        Assert.True(segment.UnknownSize);
        Assert.Equal(300, segment.All(Cluster).Sum(c => c.All(SimpleBlock).Count()));
    }

    [Fact]
    public void Real_vp8_written_through_the_writer_probes_and_decodes()
    {
        var frames = Media.ReadIvf(Media.Vp8IvfPath);
        using var directory = new TempDirectory();
        var path = Path.Combine(directory.Path, "vp8.webm");
        using (var writer = new WebmWriter(File.Create(path), new WebmTrackInfo { Codec = RecordingCodec.Vp8, Width = 320, Height = 240 }))
        {
            foreach (var (data, ms) in frames)
            {
                writer.WriteFrame(data, ms, Vp8FrameHeader.TryParse(data, out var h) && h.Keyframe);
            }
        }

        var probe = Media.Probe(path);
        var stream = Assert.Single(Media.Streams(probe));
        Assert.Equal("vp8", stream.GetProperty("codec_name").GetString());
        Assert.Equal(320, stream.GetProperty("width").GetInt32());
        Assert.Equal(240, stream.GetProperty("height").GetInt32());
        Assert.InRange(Media.Duration(probe), 1.9, 2.1);
        Assert.Equal("", Media.DecodeErrors(path));
    }

    [Fact]
    public void Real_opus_written_through_the_writer_probes_and_decodes()
    {
        var packets = Media.ReadOggOpus(Media.OpusOggPath);
        using var directory = new TempDirectory();
        var path = Path.Combine(directory.Path, "opus.webm");
        using (var writer = new WebmWriter(File.Create(path), new WebmTrackInfo { Codec = RecordingCodec.Opus }))
        {
            for (var i = 0; i < packets.Count; i++)
            {
                writer.WriteFrame(packets[i], i * 20, keyframe: true);
            }
        }

        var probe = Media.Probe(path);
        var stream = Assert.Single(Media.Streams(probe));
        Assert.Equal("opus", stream.GetProperty("codec_name").GetString());
        Assert.Equal("48000", stream.GetProperty("sample_rate").GetString());
        Assert.Equal(2, stream.GetProperty("channels").GetInt32());
        Assert.InRange(Media.Duration(probe), 1.9, 2.1);
        Assert.Equal("", Media.DecodeErrors(path));
        Assert.True(Media.MeanVolume(path) > -30, "the sine should be loud");
    }

    [Fact]
    public void Real_h264_goes_into_matroska_with_an_avc_configuration()
    {
        var units = Media.ReadH264AccessUnits(Media.H264Path);
        var sps = units[0].First(n => (n[0] & 0x1F) == 7);
        var pps = units[0].First(n => (n[0] & 0x1F) == 8);
        var config = WebmWriter.CreateAvcConfiguration(sps, pps);
        Assert.Equal([1, sps[1], sps[2], sps[3], 0xFF, 0xE1], config[..6]);

        using var directory = new TempDirectory();
        var info = new WebmTrackInfo { Codec = RecordingCodec.H264, Width = 320, Height = 240, CodecPrivate = config };
        Assert.Equal(".mkv", info.FileExtension);
        var path = Path.Combine(directory.Path, "h264" + info.FileExtension);
        using (var writer = new WebmWriter(File.Create(path), info))
        {
            for (var i = 0; i < units.Count; i++)
            {
                writer.WriteFrame(H264DepacketizerTests.Avcc([.. units[i]]), i * 1000 / 15, units[i].Exists(n => (n[0] & 0x1F) == 5));
            }
        }

        Assert.Equal("matroska", EbmlReader.Parse(File.ReadAllBytes(path))[0].Child(0x4282)!.String);
        var probe = Media.Probe(path);
        var stream = Assert.Single(Media.Streams(probe));
        Assert.Equal("h264", stream.GetProperty("codec_name").GetString());
        Assert.Equal(320, stream.GetProperty("width").GetInt32());
        Assert.InRange(Media.Duration(probe), 1.9, 2.1);
        Assert.Equal("", Media.DecodeErrors(path));
    }

    [Fact]
    public void A_file_cut_off_mid_write_still_probes_and_decodes()
    {
        var frames = Media.ReadIvf(Media.Vp8IvfPath);
        using var directory = new TempDirectory();
        var path = Path.Combine(directory.Path, "live.webm");
        var stream = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read);
        var writer = new WebmWriter(stream, new WebmTrackInfo { Codec = RecordingCodec.Vp8, Width = 320, Height = 240 });
        foreach (var (data, ms) in frames)
        {
            writer.WriteFrame(data, ms, Vp8FrameHeader.TryParse(data, out var h) && h.Keyframe);
        }

        writer.Flush();
        // The process dies: whatever reached the file is all there is, and the last block may be cut in half.
        byte[] bytes;
        using (var reader = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            bytes = new byte[reader.Length];
            reader.ReadExactly(bytes);
        }

        var truncated = Path.Combine(directory.Path, "truncated.webm");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length - 700)]);
        stream.Dispose();

        var probe = Media.Probe(truncated);
        var video = Assert.Single(Media.Streams(probe));
        Assert.Equal("vp8", video.GetProperty("codec_name").GetString());
        Assert.Equal(320, video.GetProperty("width").GetInt32());
        var (output, _, code) = Media.Run("ffmpeg", $"-v error -i \"{truncated}\" -f null -");
        Assert.Equal(0, code);
        var (frameCount, _, _) = Media.Run("ffprobe", $"-v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 \"{truncated}\"");
        Assert.InRange(int.Parse(frameCount.Trim(), System.Globalization.CultureInfo.InvariantCulture), frames.Count - 3, frames.Count - 1);
        Assert.Empty(output);
    }

    private static void AssertCuesPointAtClusters(EbmlElement segment, byte[] file, List<EbmlElement> clusters)
    {
        var cues = segment.Child(0x1C53BB6B)!.All(0xBB).ToList();
        Assert.Equal(clusters.Count, cues.Count);
        for (var i = 0; i < cues.Count; i++)
        {
            Assert.Equal(clusters[i].Child(0xE7)!.UInt, cues[i].Child(0xB3)!.UInt);
            var position = cues[i].Child(0xB7)!.Child(0xF1)!.UInt;
            Assert.Equal(clusters[i].Offset, segment.DataOffset + (long)position);
            Assert.Equal(Cluster, BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan((int)clusters[i].Offset)));
        }
    }

    private static void AssertSeekHeadPointsAtElements(EbmlElement segment)
    {
        var seeks = segment.Child(0x114D9B74)!.All(0x4DBB).ToList();
        Assert.Equal(3, seeks.Count);
        foreach (var seek in seeks)
        {
            var id = (uint)seek.Child(0x53AB)!.UInt;
            var position = segment.DataOffset + (long)seek.Child(0x53AC)!.UInt;
            Assert.Contains(segment.Children, e => e.Id == id && e.Offset == position);
        }
    }

    private sealed class ForwardOnlyStream(Stream inner) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    }
}
