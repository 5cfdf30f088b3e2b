using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Parley.Bots.Recording;

/// <summary>Codecs a track recording holds: what the SFU forwards, written as it came (no transcoding).</summary>
public enum RecordingCodec
{
    Opus,
    Vp8,
    H264,
}

/// <summary>The one track of a <see cref="WebmWriter"/> file.</summary>
public sealed record WebmTrackInfo
{
    public required RecordingCodec Codec { get; init; }

    /// <summary>Video: picture size of the first key frame (later changes are allowed in the stream).</summary>
    public int Width { get; init; }

    public int Height { get; init; }

    /// <summary>
    /// Codec initialisation data: for H.264 the AVCDecoderConfigurationRecord (<see cref="WebmWriter.CreateAvcConfiguration"/>);
    /// for Opus the OpusHead (<see cref="WebmWriter.CreateOpusHead"/>, made from the fields below when empty).
    /// </summary>
    public ReadOnlyMemory<byte> CodecPrivate { get; init; }

    public int Channels { get; init; } = 2;

    public int SampleRate { get; init; } = 48_000;

    /// <summary>
    /// Opus pre-skip in 48 kHz samples (RFC 7845 §4.2), also written as CodecDelay. 312 is libopus's encoder
    /// look-ahead, which is what WebRTC senders (libwebrtc, Firefox) use; the receiver cannot learn it from RTP.
    /// </summary>
    public int OpusPreSkip { get; init; } = 312;

    /// <summary>Track name shown by players (the participant's name).</summary>
    public string? Name { get; init; }

    /// <summary>Wall-clock time of the first frame, written as DateUTC.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    public bool IsVideo => Codec != RecordingCodec.Opus;

    /// <summary>WebM allows VP8, VP9, AV1, Opus and Vorbis only: H.264 goes into plain Matroska.</summary>
    public string DocType => Codec == RecordingCodec.H264 ? "matroska" : "webm";

    public string FileExtension => Codec == RecordingCodec.H264 ? ".mkv" : ".webm";
}

/// <summary>
/// Writes one track into a WebM file (Matroska, RFC 9559, with WebM's codec rules), live-style: the Segment and
/// each Cluster start with an unknown size (RFC 8794 §6.2), so the file plays up to its last complete block even
/// when the process dies before <see cref="Finish"/>. Frames arrive in order with millisecond timestamps
/// (TimestampScale 1 ms) relative to the track start; a Cluster starts at every video key frame and at least
/// every <see cref="MaxClusterDuration"/>. On a seekable stream each Cluster's size is filled in when it closes
/// (and the stream flushed, so a crash loses at most the open cluster's buffered bytes), and Finish writes the
/// Cues (one point per cluster that starts with a key frame), the SeekHead entry for them, the Duration and the
/// Segment size into space reserved at the start.
/// <code>
/// EBML header (DocType webm | matroska)
/// Segment (size unknown → patched)
///   SeekHead [Info, Tracks, (Cues: reserved Void → patched)]
///   Info [TimestampScale 1000000, MuxingApp, WritingApp, DateUTC?, (Duration: reserved Void → patched)]
///   Tracks [TrackEntry: 1, V_VP8 | V_MPEG4/ISO/AVC | A_OPUS, CodecPrivate, Video | Audio]
///   Cluster (size unknown → patched) [Timestamp, SimpleBlock, SimpleBlock, ...]  ...
///   Cues [CuePoint(CueTime, CueTrackPositions(CueTrack 1, CueClusterPosition))...]   (at Finish)
/// </code>
/// Writing a frame allocates nothing (cue points grow a list once per cluster). Not thread-safe.
/// </summary>
public sealed class WebmWriter : IDisposable
{
    /// <summary>Longest cluster: past this a new one starts at the next frame (and at the next key frame for video).</summary>
    public static readonly TimeSpan MaxClusterDuration = TimeSpan.FromSeconds(5);

    private const int TrackNumber = 1;

    /// <summary>SeekHead with three Seek entries of fixed size (SeekPosition in 8 octets): 4 + 1 + 3 × 21.</summary>
    private const int SeekHeadLength = 68;

    private const int SeekEntryLength = 21;

    /// <summary>Duration: 2-octet ID, 1-octet size, 8-octet float.</summary>
    private const int DurationLength = 11;

    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly WebmTrackInfo _track;
    private readonly long _maxClusterMilliseconds;
    /// <summary>Room for 256 cue points (21 minutes of 5 s clusters) before the list grows.</summary>
    private readonly List<(long Time, long Position)> _cues = new(256);
    private readonly long _segmentSizePosition;
    private readonly long _segmentDataStart;
    private readonly long _seekHeadPosition;
    private readonly long _durationPosition;
    private readonly long _infoPosition;
    private readonly long _tracksPosition;
    private long _clusterPosition = -1;
    private long _clusterTime;
    private long _lastTime = -1;
    private long _lastDelta;
    private bool _finished;
    private bool _disposed;

    /// <summary>Writes the EBML header, SeekHead, Info and Tracks at once.</summary>
    /// <param name="stream">Where the file goes; a seekable stream gets sizes, Duration and Cues fixed on finish.</param>
    /// <param name="ownsStream">Dispose the stream with the writer.</param>
    public WebmWriter(Stream stream, WebmTrackInfo track, bool ownsStream = true, TimeSpan? maxClusterDuration = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(track);
        if (track.Codec == RecordingCodec.H264 && track.CodecPrivate.IsEmpty)
        {
            throw new ArgumentException("An H.264 track needs its AVCDecoderConfigurationRecord (CreateAvcConfiguration).", nameof(track));
        }

        _stream = stream;
        _ownsStream = ownsStream;
        _track = track;
        _maxClusterMilliseconds = (long)(maxClusterDuration ?? MaxClusterDuration).TotalMilliseconds;
        var start = stream.CanSeek ? stream.Position : 0;

        var header = new Ebml.Builder().Master(MatroskaId.Ebml, e => e
            .UInt(MatroskaId.EbmlVersion, 1)
            .UInt(MatroskaId.EbmlReadVersion, 1)
            .UInt(MatroskaId.EbmlMaxIdLength, 4)
            .UInt(MatroskaId.EbmlMaxSizeLength, 8)
            .String(MatroskaId.DocType, track.DocType)
            .UInt(MatroskaId.DocTypeVersion, 4)
            .UInt(MatroskaId.DocTypeReadVersion, 2));

        var info = new Ebml.Builder().Master(MatroskaId.Info, i =>
        {
            i.UInt(MatroskaId.TimestampScale, 1_000_000)
                .String(MatroskaId.MuxingApp, "Parley")
                .String(MatroskaId.WritingApp, "Parley recording bot");
            if (track.StartedAt is { } startedAt)
            {
                // DateUTC: nanoseconds since 2001-01-01T00:00:00 UTC (RFC 9559 §5.1.2.10).
                var epoch = new DateTimeOffset(2001, 1, 1, 0, 0, 0, TimeSpan.Zero);
                i.Int64(MatroskaId.DateUtc, (startedAt - epoch).Ticks * 100);
            }

            i.Void(DurationLength);
        });
        var tracks = new Ebml.Builder().Master(MatroskaId.Tracks, t => t.Master(MatroskaId.TrackEntry, WriteTrackEntry));

        _stream.Write(header.WrittenSpan);
        Span<byte> segment = stackalloc byte[12];
        var n = Ebml.WriteId(segment, MatroskaId.Segment);
        _segmentSizePosition = start + header.Length + n;
        n += Ebml.WriteSize(segment[n..], Ebml.UnknownSize8 & ~(1UL << 56), 8);
        _stream.Write(segment[..n]);
        _segmentDataStart = start + header.Length + n;

        _seekHeadPosition = _segmentDataStart;
        _infoPosition = SeekHeadLength;
        _tracksPosition = _infoPosition + info.Length;
        _stream.Write(BuildSeekHead(cuesPosition: null));
        _stream.Write(info.WrittenSpan);
        _durationPosition = _segmentDataStart + _tracksPosition - DurationLength;
        _stream.Write(tracks.WrittenSpan);
        _stream.Flush(); // a file that exists has a complete header
    }

    public WebmTrackInfo Track => _track;

    public long FramesWritten { get; private set; }

    public long ClustersWritten { get; private set; }

    /// <summary>Frames whose timestamp went backwards and were written at the previous timestamp instead.</summary>
    public long ReorderedTimestamps { get; private set; }

    /// <summary>Timestamp of the last frame written (ms from the track start), or -1.</summary>
    public long LastTimestamp => _lastTime;

    /// <summary>What the Duration will say: the last timestamp plus one frame (the previous frame interval).</summary>
    public long DurationMilliseconds => _lastTime < 0 ? 0 : _lastTime + Math.Clamp(_lastDelta, 1, 1000);

    /// <summary>
    /// Appends one frame as a SimpleBlock. Timestamps are milliseconds from the track start and should not
    /// decrease (one that does is written at the previous timestamp and counted).
    /// </summary>
    public void WriteFrame(ReadOnlySpan<byte> data, long timestampMilliseconds, bool keyframe)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        var time = Math.Max(0, timestampMilliseconds);
        if (time < _lastTime)
        {
            ReorderedTimestamps++;
            time = _lastTime;
        }

        var keyForCluster = keyframe || !_track.IsVideo;
        var relative = time - _clusterTime;
        if (_clusterPosition < 0
            || (_track.IsVideo && keyframe && relative > 0)
            || relative >= _maxClusterMilliseconds
            || relative > short.MaxValue)
        {
            StartCluster(time, keyForCluster);
            relative = 0;
        }

        // SimpleBlock (RFC 9559 §10.2): track number VINT, int16 timestamp relative to the cluster, flags.
        Span<byte> head = stackalloc byte[16];
        var blockSize = 4 + data.Length;
        head[0] = (byte)MatroskaId.SimpleBlock;
        var n = 1 + Ebml.WriteSize(head[1..], (ulong)blockSize);
        head[n++] = 0x80 | TrackNumber;
        BinaryPrimitives.WriteInt16BigEndian(head[n..], (short)relative);
        n += 2;
        head[n++] = (byte)(keyframe ? 0x80 : 0x00);
        _stream.Write(head[..n]);
        _stream.Write(data);

        if (_lastTime >= 0 && time > _lastTime)
        {
            _lastDelta = time - _lastTime;
        }

        _lastTime = time;
        FramesWritten++;
    }

    /// <summary>Pushes buffered bytes to the file (done at every cluster start anyway).</summary>
    public void Flush() => _stream.Flush();

    /// <summary>
    /// Closes the last cluster and writes the Cues; on a seekable stream also the Cues' SeekHead entry, the
    /// Duration and the Segment size. The file stays valid without this; it only adds seeking and duration.
    /// </summary>
    public void Finish()
    {
        if (_finished)
        {
            return;
        }

        _finished = true;
        CloseCluster();
        var cuesPosition = _stream.CanSeek ? _stream.Position - _segmentDataStart : -1;
        if (_cues.Count > 0)
        {
            var cues = new Ebml.Builder().Master(MatroskaId.Cues, c =>
            {
                foreach (var (time, position) in _cues)
                {
                    c.Master(MatroskaId.CuePoint, p => p
                        .UInt(MatroskaId.CueTime, (ulong)time)
                        .Master(MatroskaId.CueTrackPositions, t => t
                            .UInt(MatroskaId.CueTrack, TrackNumber)
                            .UInt(MatroskaId.CueClusterPosition, (ulong)position)));
                }
            });
            _stream.Write(cues.WrittenSpan);
        }

        if (_stream.CanSeek)
        {
            var end = _stream.Position;
            if (_cues.Count > 0)
            {
                _stream.Position = _seekHeadPosition;
                _stream.Write(BuildSeekHead(cuesPosition));
            }

            var duration = new Ebml.Builder().Float(MatroskaId.Duration, DurationMilliseconds);
            _stream.Position = _durationPosition;
            _stream.Write(duration.WrittenSpan);

            Span<byte> size = stackalloc byte[8];
            Ebml.WriteSize(size, (ulong)(end - _segmentDataStart), 8);
            _stream.Position = _segmentSizePosition;
            _stream.Write(size);
            _stream.Position = end;
        }

        _stream.Flush();
    }

    /// <summary>Finishes the file (see <see cref="Finish"/>) and closes the stream when owned.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            Finish();
        }
        finally
        {
            if (_ownsStream)
            {
                _stream.Dispose();
            }
        }
    }

    /// <summary>
    /// The AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1) that is CodecPrivate of V_MPEG4/ISO/AVC,
    /// from one SPS and one PPS NAL unit (headers included), with 4-octet NAL length prefixes.
    /// <code>
    /// | version=1 | profile | compat | level | 111111 lengthSizeMinusOne=3 | 111 numSPS=1 | len16 SPS | numPPS=1 | len16 PPS |
    /// </code>
    /// </summary>
    public static byte[] CreateAvcConfiguration(ReadOnlySpan<byte> sps, ReadOnlySpan<byte> pps)
    {
        if (sps.Length < 4 || pps.Length < 1)
        {
            throw new ArgumentException("An SPS of at least 4 bytes and a PPS are needed.", nameof(sps));
        }

        var record = new byte[11 + sps.Length + pps.Length];
        record[0] = 1;
        record[1] = sps[1];
        record[2] = sps[2];
        record[3] = sps[3];
        record[4] = 0xFF;
        record[5] = 0xE1;
        BinaryPrimitives.WriteUInt16BigEndian(record.AsSpan(6), (ushort)sps.Length);
        sps.CopyTo(record.AsSpan(8));
        var offset = 8 + sps.Length;
        record[offset] = 1;
        BinaryPrimitives.WriteUInt16BigEndian(record.AsSpan(offset + 1), (ushort)pps.Length);
        pps.CopyTo(record.AsSpan(offset + 3));
        return record;
    }

    /// <summary>
    /// The OpusHead identification header (RFC 7845 §5.1), CodecPrivate of A_OPUS: mapping family 0 (mono or
    /// stereo), all fields little endian.
    /// <code>
    /// | "OpusHead" | version=1 | channels | pre-skip (16) | input sample rate (32) | output gain (16) | mapping=0 |
    /// </code>
    /// </summary>
    public static byte[] CreateOpusHead(int channels, int preSkip, int inputSampleRate)
    {
        var head = new byte[19];
        "OpusHead"u8.CopyTo(head);
        head[8] = 1;
        head[9] = (byte)channels;
        BinaryPrimitives.WriteUInt16LittleEndian(head.AsSpan(10), (ushort)preSkip);
        BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(12), (uint)inputSampleRate);
        return head;
    }

    private void WriteTrackEntry(Ebml.Builder t)
    {
        var uid = BinaryPrimitives.ReadUInt64BigEndian(RandomNumberGenerator.GetBytes(8)) >> 8 | 1;
        t.UInt(MatroskaId.TrackNumber, TrackNumber)
            .UInt(MatroskaId.TrackUid, uid)
            .UInt(MatroskaId.TrackType, _track.IsVideo ? 1UL : 2UL)
            .UInt(MatroskaId.FlagLacing, 0);
        if (_track.Name is { Length: > 0 } name)
        {
            t.String(MatroskaId.Name, name);
        }

        switch (_track.Codec)
        {
            case RecordingCodec.Vp8:
                t.String(MatroskaId.CodecId, "V_VP8");
                break;
            case RecordingCodec.H264:
                t.String(MatroskaId.CodecId, "V_MPEG4/ISO/AVC").Binary(MatroskaId.CodecPrivate, _track.CodecPrivate.Span);
                break;
            default:
                var head = _track.CodecPrivate.IsEmpty
                    ? CreateOpusHead(_track.Channels, _track.OpusPreSkip, _track.SampleRate)
                    : _track.CodecPrivate.ToArray();
                var preSkip = BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(10));
                // WebM's Opus rules: CodecDelay = pre-skip in ns, SeekPreRoll = 80 ms (RFC 7845 §4.6).
                t.String(MatroskaId.CodecId, "A_OPUS")
                    .Binary(MatroskaId.CodecPrivate, head)
                    .UInt(MatroskaId.CodecDelay, (ulong)preSkip * 1_000_000_000UL / 48_000UL)
                    .UInt(MatroskaId.SeekPreRoll, 80_000_000);
                break;
        }

        if (_track.IsVideo)
        {
            t.Master(MatroskaId.Video, v => v
                .UInt(MatroskaId.PixelWidth, (ulong)Math.Max(1, _track.Width))
                .UInt(MatroskaId.PixelHeight, (ulong)Math.Max(1, _track.Height)));
        }
        else
        {
            t.Master(MatroskaId.Audio, a => a
                .Float(MatroskaId.SamplingFrequency, _track.SampleRate)
                .UInt(MatroskaId.Channels, (ulong)_track.Channels));
        }
    }

    /// <summary>The SeekHead at a fixed 68 octets: Info and Tracks, and Cues or a Void in its place.</summary>
    private byte[] BuildSeekHead(long? cuesPosition)
    {
        var head = new Ebml.Builder().Master(MatroskaId.SeekHead, s =>
        {
            Seek(s, MatroskaId.Info, _infoPosition);
            Seek(s, MatroskaId.Tracks, _tracksPosition);
            if (cuesPosition is { } cues)
            {
                Seek(s, MatroskaId.Cues, cues);
            }
            else
            {
                s.Void(SeekEntryLength);
            }
        });
        return head.WrittenSpan.ToArray();

        static void Seek(Ebml.Builder s, uint id, long position)
        {
            Span<byte> idBytes = stackalloc byte[4];
            Ebml.WriteId(idBytes, id);
            var seekId = idBytes[..Ebml.IdLength(id)].ToArray();
            s.Master(MatroskaId.Seek, e => e.Binary(MatroskaId.SeekId, seekId).UInt64Fixed(MatroskaId.SeekPosition, (ulong)position));
        }
    }

    private void StartCluster(long time, bool startsWithKeyframe)
    {
        CloseCluster();
        _clusterPosition = _stream.CanSeek ? _stream.Position : -1;
        _clusterTime = time;
        ClustersWritten++;
        if (startsWithKeyframe && _stream.CanSeek)
        {
            _cues.Add((time, _clusterPosition - _segmentDataStart));
        }

        Span<byte> head = stackalloc byte[24];
        var n = Ebml.WriteId(head, MatroskaId.Cluster);
        n += Ebml.WriteSize(head[n..], Ebml.UnknownSize8 & ~(1UL << 56), 8);
        head[n++] = (byte)MatroskaId.Timestamp;
        var length = Ebml.UIntLength((ulong)time);
        head[n++] = (byte)(0x80 | length);
        for (var i = 0; i < length; i++)
        {
            head[n++] = (byte)((ulong)time >> (8 * (length - 1 - i)));
        }

        _stream.Write(head[..n]);
        if (!_stream.CanSeek)
        {
            _clusterPosition = 0; // a cluster is open; positions are unknown
        }
    }

    /// <summary>Fills in the size of the open cluster (seekable streams) and flushes, so it survives a crash.</summary>
    private void CloseCluster()
    {
        if (_clusterPosition < 0)
        {
            return;
        }

        if (_stream.CanSeek)
        {
            var end = _stream.Position;
            var sizePosition = _clusterPosition + 4;
            Span<byte> size = stackalloc byte[8];
            Ebml.WriteSize(size, (ulong)(end - sizePosition - 8), 8);
            _stream.Position = sizePosition;
            _stream.Write(size);
            _stream.Position = end;
        }

        _clusterPosition = -1;
        _stream.Flush();
    }
}
