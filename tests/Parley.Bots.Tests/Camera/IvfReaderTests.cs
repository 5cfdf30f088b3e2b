using System.Buffers.Binary;
using Parley.Bots.Camera;
using Parley.Bots.Tests.Recording;

namespace Parley.Bots.Tests.Camera;

public sealed class IvfReaderTests
{
    [Fact]
    public void A_file_ffmpeg_wrote_gives_every_frame_starting_with_a_key_frame()
    {
        var file = File.ReadAllBytes(Media.Vp8IvfPath);
        var frames = new List<IvfFrame>();

        Assert.True(IvfReader.TryReadFrames(file, frames, out var header));

        Assert.True(header.IsVp8);
        Assert.Equal((320, 240), (header.Width, header.Height));
        Assert.Equal(30, frames.Count); // 2 s at 15 fps
        Assert.True(IvfReader.IsVp8Keyframe(file.AsSpan(frames[0].Offset, frames[0].Length)));
        Assert.False(IvfReader.IsVp8Keyframe(file.AsSpan(frames[1].Offset, frames[1].Length)));
        Assert.Equal(file.Length, frames[^1].Offset + frames[^1].Length);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (long)i), frames.Select(f => f.Timestamp));
    }

    [Fact]
    public void A_truncated_file_keeps_the_complete_frames_before_the_cut()
    {
        var file = File.ReadAllBytes(Media.Vp8IvfPath);
        var all = new List<IvfFrame>();
        Assert.True(IvfReader.TryReadFrames(file, all, out _));

        // Cut inside the data of frame 5, then inside the 12-byte header of frame 5.
        foreach (var cut in new[] { all[5].Offset + (all[5].Length / 2), all[5].Offset - 5 })
        {
            var frames = new List<IvfFrame>();
            Assert.True(IvfReader.TryReadFrames(file.AsSpan(0, cut), frames, out _));
            Assert.Equal(all.Take(5), frames);
        }
    }

    [Fact]
    public void Garbage_short_files_and_lying_headers_return_false_or_stop_without_throwing()
    {
        var frames = new List<IvfFrame>();
        Assert.False(IvfReader.TryReadFrames([], frames, out _));
        Assert.False(IvfReader.TryReadFrames("DKIF"u8, frames, out _));
        Assert.False(IvfReader.TryReadFrames("<html><body>Not found</body></html>"u8, frames, out _));

        var random = new Random(7);
        for (var i = 0; i < 2000; i++)
        {
            var bytes = new byte[random.Next(0, 200)];
            random.NextBytes(bytes);
            if (i % 2 == 0 && bytes.Length >= 8)
            {
                "DKIF"u8.CopyTo(bytes);
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(6), (ushort)random.Next(0, 64));
            }

            frames.Clear();
            if (IvfReader.TryReadFrames(bytes, frames, out var header))
            {
                Assert.All(frames, f => Assert.True(f.Offset >= header.HeaderLength && f.Offset + f.Length <= bytes.Length));
            }
        }

        // A header length beyond the file, and a frame size of 4 GiB.
        var header32 = new byte[44];
        "DKIF"u8.CopyTo(header32);
        BinaryPrimitives.WriteUInt16LittleEndian(header32.AsSpan(6), 100);
        Assert.False(IvfReader.TryReadFrames(header32, frames, out _));
        BinaryPrimitives.WriteUInt16LittleEndian(header32.AsSpan(6), 32);
        BinaryPrimitives.WriteUInt32LittleEndian(header32.AsSpan(32), uint.MaxValue);
        frames.Clear();
        Assert.True(IvfReader.TryReadFrames(header32, frames, out var h));
        Assert.False(h.IsVp8);
        Assert.Empty(frames);
        Assert.False(IvfReader.IsVp8Keyframe([]));
    }
}
