using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Parley.Bots.Recording;
using Parley.Testing;
using Parley.WebRtc.Rtp;

namespace Parley.Bots.Tests.Recording;

/// <summary>Builds RTP packets for the recording tests.</summary>
internal static class Rtp
{
    public static byte[] Packet(ushort sequence, uint timestamp, uint ssrc, ReadOnlySpan<byte> payload, bool marker = false, byte payloadType = 96, int audioLevelId = 0, byte audioLevel = 127, bool voice = false)
    {
        var buffer = new byte[RtpPacket.FixedHeaderLength + 8 + payload.Length];
        var builder = new RtpPacketBuilder(buffer, payloadType, sequence, timestamp, ssrc, marker);
        if (audioLevelId > 0)
        {
            builder.AddExtension(audioLevelId, [RtpExtensionValues.EncodeAudioLevel(voice, audioLevel)]);
        }

        builder.AddPayload(payload);
        return builder.Written.ToArray();
    }

    /// <summary>
    /// VP8 packetization (RFC 7741 §4): descriptor with X=1, I=1 (15-bit picture id), S on the first packet,
    /// partition 0; payload split at <paramref name="maxPayload"/>; marker on the last packet.
    /// </summary>
    public static List<(byte[] Payload, bool Marker)> Vp8Payloads(ReadOnlySpan<byte> frame, int pictureId, int maxPayload = 1000)
    {
        var result = new List<(byte[], bool)>();
        for (var offset = 0; offset < frame.Length; offset += maxPayload)
        {
            var chunk = frame.Slice(offset, Math.Min(maxPayload, frame.Length - offset));
            var payload = new byte[4 + chunk.Length];
            payload[0] = (byte)(0x80 | (offset == 0 ? 0x10 : 0));
            payload[1] = 0x80;
            BinaryPrimitives.WriteUInt16BigEndian(payload.AsSpan(2), (ushort)(0x8000 | (pictureId & 0x7FFF)));
            chunk.CopyTo(payload.AsSpan(4));
            result.Add((payload, offset + chunk.Length >= frame.Length));
        }

        return result;
    }

    /// <summary>
    /// H.264 packetization, mode 1 (RFC 6184): NAL units small enough go together in STAP-A packets, large ones
    /// in FU-A fragments; the marker is on the last packet of the access unit.
    /// </summary>
    public static List<(byte[] Payload, bool Marker)> H264Payloads(IReadOnlyList<byte[]> accessUnit, int mtu = 1000)
    {
        var packets = new List<byte[]>();
        var aggregate = new List<byte[]>();
        void FlushAggregate()
        {
            if (aggregate.Count == 1)
            {
                packets.Add(aggregate[0]);
            }
            else if (aggregate.Count > 1)
            {
                var stap = new List<byte> { (byte)((aggregate.Max(n => n[0] & 0x60)) | 24) };
                foreach (var nal in aggregate)
                {
                    stap.Add((byte)(nal.Length >> 8));
                    stap.Add((byte)nal.Length);
                    stap.AddRange(nal);
                }

                packets.Add([.. stap]);
            }

            aggregate.Clear();
        }

        foreach (var nal in accessUnit)
        {
            if (nal.Length + 3 > mtu)
            {
                FlushAggregate();
                var indicator = (byte)((nal[0] & 0xE0) | 28);
                var type = (byte)(nal[0] & 0x1F);
                var body = nal.AsSpan(1);
                for (var offset = 0; offset < body.Length; offset += mtu - 2)
                {
                    var length = Math.Min(mtu - 2, body.Length - offset);
                    var fragment = new byte[2 + length];
                    fragment[0] = indicator;
                    fragment[1] = (byte)(type | (offset == 0 ? 0x80 : 0) | (offset + length == body.Length ? 0x40 : 0));
                    body.Slice(offset, length).CopyTo(fragment.AsSpan(2));
                    packets.Add(fragment);
                }
            }
            else
            {
                if (aggregate.Sum(n => n.Length + 2) + nal.Length + 3 > mtu)
                {
                    FlushAggregate();
                }

                aggregate.Add(nal);
            }
        }

        FlushAggregate();
        return [.. packets.Select((p, i) => (p, i == packets.Count - 1))];
    }
}

/// <summary>Collects what a jitter buffer or depacketizer emits.</summary>
internal sealed class Collector : IJitterBufferOutput, IFrameSink
{
    public List<string> Events { get; } = [];

    public List<ushort> Sequences { get; } = [];

    public List<(byte[] Data, uint Timestamp, bool Keyframe, int Width, int Height)> Frames { get; } = [];

    public int Lost { get; private set; }

    public void OnPacket(RtpPacket packet)
    {
        Sequences.Add(packet.SequenceNumber);
        Events.Add($"p{packet.SequenceNumber}");
    }

    public void OnLoss(int count)
    {
        Lost += count;
        Events.Add($"loss{count}");
    }

    public void OnStreamStart(uint ssrc) => Events.Add($"start{ssrc}");

    public void OnFrame(EncodedFrame frame) =>
        Frames.Add((frame.Data.ToArray(), frame.RtpTimestamp, frame.Keyframe, frame.Width, frame.Height));
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualClock : TimeProvider
{
    private DateTimeOffset _now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private long _ticks = 1_000_000_000;

    public override DateTimeOffset GetUtcNow() => _now;

    public override long GetTimestamp() => _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public void Advance(TimeSpan by)
    {
        _now += by;
        _ticks += by.Ticks;
    }
}

/// <summary>An element of a parsed EBML file.</summary>
internal sealed record EbmlElement(uint Id, long Offset, long DataOffset, long Size, bool UnknownSize, byte[] Data, List<EbmlElement> Children)
{
    public EbmlElement? Child(uint id) => Children.Find(c => c.Id == id);

    public IEnumerable<EbmlElement> All(uint id) => Children.Where(c => c.Id == id);

    public ulong UInt => Data.Aggregate(0UL, (value, b) => (value << 8) | b);

    public double Float => Data.Length == 8 ? BinaryPrimitives.ReadDoubleBigEndian(Data) : BinaryPrimitives.ReadSingleBigEndian(Data);

    public string String => System.Text.Encoding.UTF8.GetString(Data).TrimEnd('\0');
}

/// <summary>
/// A small EBML reader (RFC 8794) for checking the writer's output independently of it: known master elements
/// are descended into; an unknown-size master ends where an element that cannot be its child starts, or at the
/// end of the data (a truncated file).
/// </summary>
internal static class EbmlReader
{
    private static readonly HashSet<uint> Masters =
    [
        0x1A45DFA3, 0x18538067, 0x114D9B74, 0x4DBB, 0x1549A966, 0x1654AE6B, 0xAE, 0xE0, 0xE1, 0x1F43B675, 0x1C53BB6B, 0xBB, 0xB7,
    ];

    /// <summary>Elements that can follow a Cluster at segment level (they end an unknown-size Cluster).</summary>
    private static readonly HashSet<uint> SegmentLevel = [0x1F43B675, 0x1C53BB6B, 0x114D9B74, 0x1549A966, 0x1654AE6B, 0x1254C367, 0x1043A770, 0x1941A469];

    public static List<EbmlElement> Parse(byte[] data)
    {
        var position = 0L;
        return ParseChildren(data, ref position, data.Length, parent: 0);
    }

    private static List<EbmlElement> ParseChildren(byte[] data, ref long position, long end, uint parent)
    {
        var children = new List<EbmlElement>();
        while (position < end)
        {
            var start = position;
            if (!TryReadId(data, ref position, out var id) || !TryReadSize(data, ref position, out var size, out var unknown))
            {
                position = end;
                break;
            }

            if (parent == 0x1F43B675 && SegmentLevel.Contains(id))
            {
                position = start; // the unknown-size Cluster ended here
                break;
            }

            var dataOffset = position;
            if (Masters.Contains(id))
            {
                var childEnd = unknown ? end : Math.Min(end, dataOffset + size);
                var inner = ParseChildren(data, ref position, childEnd, id);
                children.Add(new EbmlElement(id, start, dataOffset, unknown ? position - dataOffset : size, unknown, [], inner));
                if (!unknown)
                {
                    position = dataOffset + size;
                }
            }
            else
            {
                var available = Math.Min(size, data.Length - dataOffset);
                children.Add(new EbmlElement(id, start, dataOffset, size, unknown, data.AsSpan((int)dataOffset, (int)Math.Max(0, available)).ToArray(), []));
                position = dataOffset + size;
            }
        }

        return children;
    }

    private static bool TryReadId(byte[] data, ref long position, out uint id)
    {
        id = 0;
        if (position >= data.Length || data[position] == 0)
        {
            return false;
        }

        var length = BitOperations.LeadingZeroCount((uint)data[position]) - 24 + 1;
        if (length > 4 || position + length > data.Length)
        {
            return false;
        }

        for (var i = 0; i < length; i++)
        {
            id = (id << 8) | data[position + i];
        }

        position += length;
        return true;
    }

    private static bool TryReadSize(byte[] data, ref long position, out long size, out bool unknown)
    {
        size = 0;
        unknown = false;
        if (position >= data.Length || data[position] == 0)
        {
            return false;
        }

        var length = BitOperations.LeadingZeroCount((uint)data[position]) - 24 + 1;
        if (position + length > data.Length)
        {
            return false;
        }

        ulong value = (ulong)(data[position] & (0xFF >> length));
        for (var i = 1; i < length; i++)
        {
            value = (value << 8) | data[position + i];
        }

        position += length;
        unknown = value == (1UL << (7 * length)) - 1;
        size = unknown ? -1 : (long)value;
        return true;
    }
}

/// <summary>
/// Real media made by Debian's ffmpeg, once per test run. Tests that need ffmpeg or ffprobe fail with a message
/// naming the package when it is missing (./test.sh installs it); they never skip.
/// </summary>
internal static class Media
{
    private static readonly Lazy<string> Folder = new(() =>
    {
        var folder = Path.Combine(Path.GetTempPath(), "parley-tests", "media-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(folder);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // Left for the OS temp cleaner.
            }
        };
        return folder;
    });

    private static readonly Lazy<string> Vp8Ivf = new(() => Make("vp8.ivf",
        "-f lavfi -i testsrc=size=320x240:rate=15 -t 2 -c:v libvpx -b:v 400k -g 10 -auto-alt-ref 0 -f ivf"));

    private static readonly Lazy<string> Vp8IvfSmall = new(() => Make("vp8-small.ivf",
        "-f lavfi -i testsrc2=size=160x120:rate=15 -t 2 -c:v libvpx -b:v 200k -g 10 -auto-alt-ref 0 -f ivf"));

    private static readonly Lazy<string> OpusOgg = new(() => Make("opus.ogg",
        "-f lavfi -i sine=frequency=440:sample_rate=48000:duration=2 -ac 2 -c:a libopus -b:a 48k -frame_duration 20 -f ogg"));

    private static readonly Lazy<string> H264AnnexB = new(() => Make("h264.h264",
        "-f lavfi -i testsrc=size=320x240:rate=15 -t 2 -c:v libx264 -profile:v baseline -g 10 -pix_fmt yuv420p -bsf:v h264_mp4toannexb -f h264"));

    public static string Vp8IvfPath => Vp8Ivf.Value;

    public static string Vp8IvfSmallPath => Vp8IvfSmall.Value;

    public static string OpusOggPath => OpusOgg.Value;

    public static string H264Path => H264AnnexB.Value;

    /// <summary>The path of a Debian ffmpeg tool, or a failure that says how to get it.</summary>
    public static string Require(string tool)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(directory, tool);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new InvalidOperationException(
            $"This test needs {tool} from the Debian package ffmpeg (apt-get install ffmpeg), which ./test.sh installs. Run the tests with ./test.sh.");
    }

    /// <summary>Runs a tool to completion; returns stdout, stderr and the exit code.</summary>
    public static (string Output, string Error, int ExitCode) Run(string tool, string arguments)
    {
        var info = new ProcessStartInfo(Require(tool), arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (output.Result, error.Result, process.ExitCode);
    }

    /// <summary>ffprobe's JSON for format and streams.</summary>
    public static JsonElement Probe(string path)
    {
        var (output, error, code) = Run("ffprobe", $"-v error -print_format json -show_format -show_streams \"{path}\"");
        Assert.True(code == 0, $"ffprobe failed on {path}: {error}");
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    public static double Duration(JsonElement probe) =>
        double.Parse(probe.GetProperty("format").GetProperty("duration").GetString()!, CultureInfo.InvariantCulture);

    public static JsonElement[] Streams(JsonElement probe) => [.. probe.GetProperty("streams").EnumerateArray()];

    /// <summary>Decodes every frame; returns ffmpeg's error output (empty when the file decodes cleanly).</summary>
    public static string DecodeErrors(string path)
    {
        var (_, error, code) = Run("ffmpeg", $"-v error -xerror -i \"{path}\" -f null -");
        return code == 0 ? error.Trim() : $"exit {code}: {error}";
    }

    /// <summary>Mean volume in dB (volumedetect).</summary>
    public static double MeanVolume(string path)
    {
        var (_, error, _) = Run("ffmpeg", $"-v info -i \"{path}\" -af volumedetect -f null -");
        var line = error.Split('\n').First(l => l.Contains("mean_volume:", StringComparison.Ordinal));
        var value = line[(line.IndexOf("mean_volume:", StringComparison.Ordinal) + 12)..].Replace("dB", "", StringComparison.Ordinal).Trim();
        return double.Parse(value, CultureInfo.InvariantCulture);
    }

    /// <summary>Frames of an IVF file (VP8): 32-byte header, then per frame a 12-byte header (size, pts).</summary>
    public static List<(byte[] Data, long TimestampMilliseconds)> ReadIvf(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal("DKIF", System.Text.Encoding.ASCII.GetString(bytes, 0, 4));
        var headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(6));
        var rate = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(16));
        var scale = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(20));
        var frames = new List<(byte[], long)>();
        var offset = (int)headerLength;
        while (offset + 12 <= bytes.Length)
        {
            var size = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset));
            var pts = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(offset + 4));
            frames.Add((bytes.AsSpan(offset + 12, size).ToArray(), pts * scale * 1000 / rate));
            offset += 12 + size;
        }

        return frames;
    }

    /// <summary>Opus packets of an Ogg file (RFC 7845), without the OpusHead and OpusTags header packets.</summary>
    public static List<byte[]> ReadOggOpus(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var packets = new List<byte[]>();
        var current = new List<byte>();
        var offset = 0;
        while (offset + 27 <= bytes.Length)
        {
            Assert.Equal("OggS", System.Text.Encoding.ASCII.GetString(bytes, offset, 4));
            var segments = bytes[offset + 26];
            var body = offset + 27 + segments;
            for (var i = 0; i < segments; i++)
            {
                var lacing = bytes[offset + 27 + i];
                current.AddRange(bytes.AsSpan(body, lacing).ToArray());
                body += lacing;
                if (lacing < 255)
                {
                    packets.Add([.. current]);
                    current.Clear();
                }
            }

            offset = body;
        }

        return [.. packets.Skip(2)];
    }

    /// <summary>Access units of an Annex-B H.264 stream: NAL units split at start codes, a new unit at each first slice.</summary>
    public static List<List<byte[]>> ReadH264AccessUnits(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var nals = new List<byte[]>();
        var starts = new List<(int Start, int CodeLength)>();
        for (var i = 0; i + 3 <= bytes.Length; i++)
        {
            if (bytes[i] == 0 && bytes[i + 1] == 0 && bytes[i + 2] == 1)
            {
                var codeLength = i > 0 && bytes[i - 1] == 0 ? 4 : 3;
                starts.Add((i + 3, codeLength));
                i += 2;
            }
        }

        for (var k = 0; k < starts.Count; k++)
        {
            var end = k + 1 < starts.Count ? starts[k + 1].Start - starts[k + 1].CodeLength : bytes.Length;
            nals.Add(bytes.AsSpan(starts[k].Start, end - starts[k].Start).ToArray());
        }

        var units = new List<List<byte[]>>();
        var unit = new List<byte[]>();
        var hasSlice = false;
        foreach (var nal in nals)
        {
            var type = nal[0] & 0x1F;
            var firstSlice = type is 1 or 5 && (nal[1] & 0x80) != 0;
            var beforeSlice = type is 6 or 7 or 8 or 9;
            if (hasSlice && (firstSlice || beforeSlice))
            {
                units.Add(unit);
                unit = [];
                hasSlice = false;
            }

            unit.Add(nal);
            hasSlice |= type is 1 or 5;
        }

        if (unit.Count > 0)
        {
            units.Add(unit);
        }

        return units;
    }

    private static string Make(string name, string arguments)
    {
        var path = Path.Combine(Folder.Value, name);
        var (_, error, code) = Run("ffmpeg", $"-v error -y {arguments} \"{path}\"");
        if (code != 0)
        {
            throw new InvalidOperationException($"ffmpeg could not make {name}: {error}");
        }

        return path;
    }
}
