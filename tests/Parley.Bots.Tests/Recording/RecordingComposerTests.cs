using System.Globalization;
using System.Text.Json;
using Parley.Bots.Recording;
using Parley.Testing;

namespace Parley.Bots.Tests.Recording;

/// <summary>
/// End to end over real media: two participants' WebM tracks made by <see cref="WebmWriter"/> from libvpx and
/// libopus output, placed on a 4 s recording with a pause from 2.4 to 2.6 s, composed by Debian's ffmpeg.
/// </summary>
public sealed class RecordingComposerTests : IDisposable
{
    private static readonly RecordingComposerOptions SmallVideo = new() { Width = 320, Height = 180, FrameRate = 15, VideoPreset = "ultrafast" };

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private string RecordingFolder => Path.Combine(_directory.Path, "recording");

    private string OutputFolder => Path.Combine(_directory.Path, "out");

    [Fact]
    public async Task Speaker_view_makes_an_mp4_and_a_flac_aligned_on_the_manifest_offsets_with_the_pause_cut()
    {
        WriteRecording();
        var result = await new RecordingComposer(SmallVideo).ComposeAsync(RecordingFolder, RecordingLayout.SpeakerView, OutputFolder);

        Assert.Empty(result.SkippedArtifacts);
        Assert.Null(result.Message);
        Assert.True(result.FfmpegAvailable);
        Assert.Equal(3.8, result.DurationSeconds, 3);

        var audio = Media.Probe(result.AudioPath!);
        Assert.Equal("flac", Assert.Single(Media.Streams(audio)).GetProperty("codec_name").GetString());
        Assert.InRange(Media.Duration(audio), 3.7, 3.9);
        Assert.True(Media.MeanVolume(result.AudioPath!) > -50, "the mixed sines are not silent");

        var video = Media.Probe(result.VideoPath!);
        var streams = Media.Streams(video);
        Assert.Equal(2, streams.Length);
        Assert.Single(streams, s => s.GetProperty("codec_name").GetString() == "h264" && s.GetProperty("width").GetInt32() == 320);
        Assert.Single(streams, s => s.GetProperty("codec_name").GetString() == "aac");
        Assert.InRange(Media.Duration(video), 3.6, 4.0);
        Assert.Equal("", Media.DecodeErrors(result.VideoPath!));

        // Nobody's video before 0.5 s; Alice while she speaks; Bob while he speaks (after the 0.2 s cut: 3.0 → 2.8).
        Assert.Equal(16, Luma(result.VideoPath!, 0.2), 0);
        Assert.True(Luma(result.VideoPath!, 1.0) > 40);
        Assert.True(Luma(result.VideoPath!, 2.8) > 40);
    }

    [Fact]
    public async Task Gallery_view_shows_both_participants_side_by_side()
    {
        WriteRecording();
        var result = await new RecordingComposer(SmallVideo).ComposeAsync(RecordingFolder, RecordingLayout.GalleryView, OutputFolder);
        Assert.Empty(result.SkippedArtifacts);
        var streams = Media.Streams(Media.Probe(result.VideoPath!));
        Assert.Equal(2, streams.Length);
        // At 2.0 s both are live: left cell Alice, right cell Bob. At 0.2 s neither.
        Assert.True(Luma(result.VideoPath!, 2.0, "crop=160:180:0:0") > 40);
        Assert.True(Luma(result.VideoPath!, 2.0, "crop=160:180:160:0") > 40);
        Assert.Equal(16, Luma(result.VideoPath!, 0.2, "crop=160:180:160:0"), 0);
        Assert.Equal(16, Luma(result.VideoPath!, 1.0, "crop=160:180:160:0"), 0); // Bob starts at 1.5 s
    }

    [Fact]
    public async Task Speaker_view_switches_from_the_first_speaker_to_the_second()
    {
        // Solid colours tell who is on screen: Alice red (V high), Bob blue (U high). Alice speaks 0.5–1.5 s, Bob
        // 1.6–3.5 s (2.8 s after the 0.2 s pause is cut).
        var red = SolidVp8("red");
        var blue = SolidVp8("blue");
        WriteRecording(aliceVideo: red, bobVideo: blue);
        var result = await new RecordingComposer(SmallVideo).ComposeAsync(RecordingFolder, RecordingLayout.SpeakerView, OutputFolder);
        Assert.Empty(result.SkippedArtifacts);

        var alice = (U: Stat(result.VideoPath!, 1.0, "UAVG"), V: Stat(result.VideoPath!, 1.0, "VAVG"));
        var bob = (U: Stat(result.VideoPath!, 3.0, "UAVG"), V: Stat(result.VideoPath!, 3.0, "VAVG"));
        Assert.True(alice.V > 200 && alice.U < 128, $"at 1.0 s Alice (red) should be full-frame: U {alice.U:F0}, V {alice.V:F0}");
        Assert.True(bob.U > 200 && bob.V < 160, $"at 3.0 s Bob (blue) should be full-frame: U {bob.U:F0}, V {bob.V:F0}");
    }

    [Fact]
    public async Task Speaker_view_without_any_video_is_a_black_picture_with_the_mixed_audio()
    {
        WriteRecording(audioOnly: true);
        var result = await new RecordingComposer(SmallVideo).ComposeAsync(RecordingFolder, RecordingLayout.SpeakerView, OutputFolder);
        Assert.Empty(result.SkippedArtifacts);
        var probe = Media.Probe(result.VideoPath!);
        Assert.Equal(2, Media.Streams(probe).Length);
        Assert.InRange(Media.Duration(probe), 3.6, 4.0);
        Assert.Equal(16, Luma(result.VideoPath!, 1.0), 0);
        Assert.True(Media.MeanVolume(result.VideoPath!) > -50);
    }

    [Fact]
    public async Task Audio_only_makes_the_flac_and_no_video()
    {
        WriteRecording();
        var result = await new RecordingComposer(SmallVideo).ComposeAsync(RecordingFolder, RecordingLayout.AudioOnly, OutputFolder);
        Assert.Null(result.VideoPath);
        Assert.False(File.Exists(Path.Combine(OutputFolder, RecordingComposer.VideoFileName)));
        Assert.Empty(result.SkippedArtifacts);
        Assert.InRange(Media.Duration(Media.Probe(result.AudioPath!)), 3.7, 3.9);
    }

    [Fact]
    public async Task Without_ffmpeg_the_json_artifacts_and_track_files_remain_and_the_message_names_the_package()
    {
        WriteRecording(withMedia: false);
        var composer = new RecordingComposer(new RecordingComposerOptions { FfmpegBinaryFolder = Path.Combine(_directory.Path, "no-such-bin") });
        var result = await composer.ComposeAsync(RecordingFolder, RecordingLayout.SpeakerView, OutputFolder);

        Assert.False(result.FfmpegAvailable);
        Assert.Equal(["video", "audio"], result.SkippedArtifacts);
        Assert.Null(result.AudioPath);
        Assert.Null(result.VideoPath);
        Assert.Contains("ffmpeg was not found", result.Message, StringComparison.Ordinal);
        Assert.Contains("Debian package ffmpeg", result.Message, StringComparison.Ordinal);
        Assert.Equal(4, result.TrackFiles.Count);
        Assert.All(result.TrackFiles, f => Assert.True(File.Exists(f)));

        var participants = JsonDocument.Parse(File.ReadAllText(result.ParticipantsPath)).RootElement;
        Assert.Equal([(1, "Alice"), (2, "Bob")], participants.EnumerateArray().Select(p => (p.GetProperty("id").GetInt32(), p.GetProperty("name").GetString()!)));
        Assert.Equal(2, JsonDocument.Parse(File.ReadAllText(result.SpeakersPath)).RootElement.GetArrayLength());

        var diarization = File.ReadAllLines(result.DiarizationPath).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(
            [("Alice", 1, 0.5, 1.5), ("Bob", 2, 1.6, 3.3)],
            diarization.Select(d => (d.GetProperty("speaker").GetString()!, d.GetProperty("user_id").GetInt32(), d.GetProperty("start_time").GetDouble(), d.GetProperty("end_time").GetDouble())));

        var chat = JsonDocument.Parse(File.ReadAllText(result.ChatMessagesPath)).RootElement;
        var message = Assert.Single(chat.EnumerateArray());
        Assert.Equal("hello everyone", message.GetProperty("text").GetString());
        Assert.Equal("Alice", message.GetProperty("sender_name").GetString());
        Assert.Equal(1, message.GetProperty("user_id").GetInt32());
    }

    [Fact]
    public async Task A_recording_left_by_a_crash_is_composed_from_probed_durations()
    {
        WriteRecording(crashed: true);
        var result = await new RecordingComposer(SmallVideo).ComposeAsync(RecordingFolder, RecordingLayout.AudioOnly, OutputFolder);
        Assert.Empty(result.SkippedArtifacts);
        // No end time: the recording lasts until its last track ends (Bob: 1.5 + 2.0), less the pause.
        Assert.Equal(3.3, result.DurationSeconds, 1);
        Assert.InRange(Media.Duration(Media.Probe(result.AudioPath!)), 3.1, 3.5);
    }

    /// <summary>recording.json and four track files: Alice from 0.5 s, Bob from 1.5 s, 2 s each.</summary>
    private void WriteRecording(bool withMedia = true, bool crashed = false, bool audioOnly = false, string? aliceVideo = null, string? bobVideo = null)
    {
        Directory.CreateDirectory(RecordingFolder);
        var start = new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.Zero);
        var manifest = new RecordingManifest { StartedAt = start, EndedAt = crashed ? null : start.AddSeconds(4) };
        manifest.Participants.Add(new ManifestParticipant { Id = "alice-id", Name = "Alice" });
        manifest.Participants.Add(new ManifestParticipant { Id = "bob-id", Name = "Bob" });
        manifest.Participants.Add(new ManifestParticipant { Id = "bot", Name = "Recorder", IsBot = true });
        manifest.Paused.Add(new ManifestPausedSpan { StartOffsetSeconds = 2.4, EndOffsetSeconds = 2.6 });
        manifest.Speech.Add(new ManifestSpeechSegment { ParticipantId = "alice-id", StartOffsetSeconds = 0.5, EndOffsetSeconds = 1.5 });
        manifest.Speech.Add(new ManifestSpeechSegment { ParticipantId = "bob-id", StartOffsetSeconds = 1.6, EndOffsetSeconds = 3.5 });
        manifest.ChatMessages.Add(new ManifestChatMessage { ParticipantId = "alice-id", SenderName = "Alice", Text = "hello everyone", MessageId = "m1", SentAt = start.AddSeconds(1) });

        var n = 0;
        foreach (var (participant, offset, ivf) in new[] { ("alice-id", 0.5, aliceVideo ?? Media.Vp8IvfPath), ("bob-id", 1.5, bobVideo ?? Media.Vp8IvfSmallPath) })
        {
            var video = $"{++n:D2}-{participant}-camera.webm";
            var audio = $"{++n:D2}-{participant}-microphone.webm";
            if (withMedia)
            {
                WriteVp8(Path.Combine(RecordingFolder, video), ivf);
                WriteOpus(Path.Combine(RecordingFolder, audio));
            }
            else
            {
                File.WriteAllBytes(Path.Combine(RecordingFolder, video), [0x1A, 0x45, 0xDF, 0xA3]);
                File.WriteAllBytes(Path.Combine(RecordingFolder, audio), [0x1A, 0x45, 0xDF, 0xA3]);
            }

            if (!audioOnly)
            {
                manifest.Tracks.Add(Track(n - 1, participant, "video", "camera", "vp8", video, offset, start, crashed));
            }

            manifest.Tracks.Add(Track(n, participant, "audio", "microphone", "opus", audio, offset, start, crashed));
        }

        // A track announced but never started: no file, ignored.
        manifest.Tracks.Add(new ManifestTrack { Id = "t5", ParticipantId = "bob-id", Kind = "video", Source = "screen", Codec = "vp8" });
        manifest.Save(Path.Combine(RecordingFolder, RecordingManifest.FileName));
    }

    private static ManifestTrack Track(int index, string participant, string kind, string source, string codec, string file, double offset, DateTimeOffset start, bool crashed) => new()
    {
        Id = "t" + index.ToString(CultureInfo.InvariantCulture),
        ParticipantId = participant,
        Kind = kind,
        Source = source,
        Codec = codec,
        File = file,
        FirstSampleAt = start.AddSeconds(offset),
        StartOffsetSeconds = offset,
        Clock = "rtcp_sender_report",
        DurationSeconds = crashed ? null : 2.0,
        Finished = !crashed,
    };

    private static void WriteVp8(string path, string ivf)
    {
        var frames = Media.ReadIvf(ivf);
        Assert.True(Vp8FrameHeader.TryParse(frames[0].Data, out var first));
        using var writer = new WebmWriter(File.Create(path), new WebmTrackInfo { Codec = RecordingCodec.Vp8, Width = first.Width, Height = first.Height });
        foreach (var (data, ms) in frames)
        {
            writer.WriteFrame(data, ms, Vp8FrameHeader.TryParse(data, out var header) && header.Keyframe);
        }
    }

    private static void WriteOpus(string path)
    {
        var packets = Media.ReadOggOpus(Media.OpusOggPath);
        using var writer = new WebmWriter(File.Create(path), new WebmTrackInfo { Codec = RecordingCodec.Opus });
        for (var i = 0; i < packets.Count; i++)
        {
            writer.WriteFrame(packets[i], i * 20, keyframe: true);
        }
    }

    /// <summary>2 s of one colour as VP8 in an IVF file.</summary>
    private string SolidVp8(string colour)
    {
        var path = Path.Combine(_directory.Path, colour + ".ivf");
        var (_, error, code) = Media.Run("ffmpeg", $"-v error -y -f lavfi -i color=c={colour}:size=320x240:rate=15 -t 2 -c:v libvpx -b:v 200k -g 10 -auto-alt-ref 0 -f ivf \"{path}\"");
        Assert.True(code == 0, error);
        return path;
    }

    /// <summary>Mean luma of the frame at <paramref name="seconds"/> (16 is black in limited range).</summary>
    internal static double Luma(string path, double seconds, string? crop = null) => Stat(path, seconds, "YAVG", crop);

    /// <summary>A signalstats value (YAVG, UAVG, VAVG) of the frame at <paramref name="seconds"/>.</summary>
    internal static double Stat(string path, double seconds, string key, string? crop = null)
    {
        var filter = (crop is null ? "" : crop + ",") + $"signalstats,metadata=print:key=lavfi.signalstats.{key}";
        var (_, error, code) = Media.Run("ffmpeg", string.Create(CultureInfo.InvariantCulture, $"-v info -ss {seconds} -i \"{path}\" -frames:v 1 -vf {filter} -f null -"));
        Assert.Equal(0, code);
        var line = error.Split('\n').Last(l => l.Contains($"lavfi.signalstats.{key}=", StringComparison.Ordinal));
        return double.Parse(line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..].Trim(), CultureInfo.InvariantCulture);
    }
}
