using Microsoft.Extensions.Logging;
using Parley.WebRtc.Rtcp;
using Parley.WebRtc.Rtp;

namespace Parley.Bots.Recording;

public enum TrackKind
{
    Audio,
    Video,
}

/// <summary>What the adapter knows about one remote track when it starts recording it.</summary>
public sealed record TrackRecorderOptions
{
    /// <summary>The meeting's participant id of the publisher.</summary>
    public required string ParticipantId { get; init; }

    public required TrackKind Kind { get; init; }

    public required RecordingCodec Codec { get; init; }

    /// <summary>microphone, camera or screen; defaults by kind.</summary>
    public string? Source { get; init; }

    /// <summary>RTP clock rate of the payload type: 48,000 for Opus, 90,000 for video (RFC 7587, 7741, 6184).</summary>
    public int? ClockRate { get; init; }

    /// <summary>Jitter buffer sizes; <see cref="JitterBufferOptions.Audio"/> or <see cref="JitterBufferOptions.Video"/> by kind.</summary>
    public JitterBufferOptions? JitterBuffer { get; init; }

    /// <summary>Negotiated id of the ssrc-audio-level extension (RFC 6464) on audio, 0 when none: feeds voice activity.</summary>
    public int AudioLevelExtensionId { get; init; }

    /// <summary>How often at most <see cref="TrackRecorder.KeyframeRequestDue"/> says yes while a key frame is awaited.</summary>
    public TimeSpan KeyframeRequestInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    internal string EffectiveSource => Source ?? (Kind == TrackKind.Audio ? "microphone" : "camera");

    internal int EffectiveClockRate => ClockRate ?? (Codec == RecordingCodec.Opus ? 48_000 : 90_000);
}

/// <summary>
/// Records ONE remote track to its own file without transcoding: RTP → <see cref="JitterBuffer"/> →
/// depacketizer → <see cref="WebmWriter"/>. Created by <see cref="RecordingSession.AddTrack"/>.
/// <list type="bullet">
/// <item>Video starts at a key frame, and waits for one again after an unrecoverable loss, a new SSRC or a
/// pause; meanwhile <see cref="NeedsKeyframe"/> is true and <see cref="KeyframeRequestDue"/> paces the PLIs.</item>
/// <item>Timestamps: RTP timestamps unwrapped (32-bit wrap) and scaled to ms from the first frame. A new SSRC or
/// renumbering (simulcast switch the SFU did not hide, publisher restart) continues the same file: its first
/// frame is placed after the previous one by the arrival-time gap.</item>
/// <item>Wall clock: the first frame's time comes from the RTCP sender report mapping of RTP time to NTP time
/// (RFC 3550 §6.4.1) when one is known, else from arrival and corrected when the first report comes; it goes to
/// the manifest so all tracks line up.</item>
/// <item>Picture size changes stay in the same file and are listed in the manifest.</item>
/// </list>
/// Allocation-free per packet after warm-up. Thread-safe: RTP, RTCP, timer and control calls may come from
/// different threads (one uncontended lock per call).
/// </summary>
public sealed partial class TrackRecorder : IJitterBufferOutput, IFrameSink, IDisposable
{
    private readonly Lock _gate = new();
    private readonly RecordingSession _session;
    private readonly TrackRecorderOptions _options;
    private readonly ManifestTrack _manifest;
    private readonly ILogger _logger;
    private readonly JitterBuffer _jitter;
    private readonly IDepacketizer _depacketizer;
    private readonly H264Depacketizer? _h264;
    private readonly int _clockRate;
    private readonly long _keyframeIntervalMilliseconds;
    private readonly bool _video;
    private WebmWriter? _writer;
    private bool _stopped;
    private bool _paused;
    private bool _waitingForKeyframe;
    private int _streams;

    private RtpTimestampUnwrapper _timestamps;
    private bool _anchorPending = true;
    private long _anchorTimestamp;
    private long _anchorMilliseconds;
    private long _lastFrameMilliseconds = -1;
    private long _lastFrameArrival;
    private double _startOffsetSeconds;

    private bool _hasSenderReport;
    private uint _senderReportSsrc;
    private ulong _senderReportNtp;
    private uint _senderReportRtp;
    private bool _startFromArrival;
    private uint _firstSsrc;
    private uint _firstTimestamp;

    private long _lastKeyframeRequest = long.MinValue / 2;
    private bool _hasPendingLevel;
    private byte _pendingLevel;
    private bool _pendingVoice;
    private int _width;
    private int _height;

    internal TrackRecorder(RecordingSession session, TrackRecorderOptions options, ManifestTrack manifest, string fileName, ILogger logger)
    {
        _session = session;
        _options = options;
        _manifest = manifest;
        _logger = logger;
        FilePath = Path.Combine(session.Directory, fileName);
        _video = options.Kind == TrackKind.Video;
        _waitingForKeyframe = _video;
        _clockRate = options.EffectiveClockRate;
        _keyframeIntervalMilliseconds = (long)options.KeyframeRequestInterval.TotalMilliseconds;
        _jitter = new JitterBuffer(options.JitterBuffer ?? (_video ? JitterBufferOptions.Video : JitterBufferOptions.Audio), this);
        switch (options.Codec)
        {
            case RecordingCodec.Vp8:
                _depacketizer = new Vp8Depacketizer(this);
                break;
            case RecordingCodec.H264:
                _h264 = new H264Depacketizer(this, H264OutputFormat.Avcc);
                _depacketizer = _h264;
                break;
            default:
                _depacketizer = new OpusDepacketizer(this);
                break;
        }
    }

    /// <summary>The manifest's id of this track.</summary>
    public string Id => _manifest.Id;

    public string ParticipantId => _options.ParticipantId;

    public TrackKind Kind => _options.Kind;

    /// <summary>Path of the track's file (chosen when the track was added; created at the first frame written).</summary>
    public string FilePath { get; }

    /// <summary>SSRC of the stream being recorded (for NACK and PLI), 0 before the first packet.</summary>
    public uint MediaSsrc
    {
        get
        {
            lock (_gate)
            {
                return _jitter.Ssrc;
            }
        }
    }

    /// <summary>Video waits for a key frame (start, loss, new SSRC, after a pause): the adapter should send a PLI.</summary>
    public bool NeedsKeyframe
    {
        get
        {
            lock (_gate)
            {
                return _video && _waitingForKeyframe && !_stopped && !_paused;
            }
        }
    }

    public bool IsStarted
    {
        get
        {
            lock (_gate)
            {
                return _writer is not null;
            }
        }
    }

    public long FramesWritten { get; private set; }

    /// <summary>Video frames dropped while waiting for a key frame.</summary>
    public long FramesSkipped { get; private set; }

    public long KeyframeRequests { get; private set; }

    /// <summary>Packets the jitter buffer gave up on.</summary>
    public long PacketsLost
    {
        get
        {
            lock (_gate)
            {
                return _jitter.PacketsLost;
            }
        }
    }

    /// <summary>When the jitter buffer next gives up a gap (see <see cref="Poll"/>), in the session's milliseconds.</summary>
    public long? NextPollDeadline
    {
        get
        {
            lock (_gate)
            {
                return _jitter.NextDeadline;
            }
        }
    }

    /// <summary>One decrypted RTP packet of the track (RTX already unwrapped). Copied; never throws on bad input.</summary>
    public JitterBufferInsertResult OnRtpPacket(ReadOnlySpan<byte> packet)
    {
        lock (_gate)
        {
            return _stopped ? JitterBufferInsertResult.Dropped : _jitter.Insert(packet, _session.NowMilliseconds());
        }
    }

    /// <summary>
    /// An RTCP sender report for the track's SSRC (RFC 3550 §6.4.1): NTP wall clock and the RTP timestamp of the
    /// same instant. Reports for other SSRCs are ignored.
    /// </summary>
    public void OnSenderReport(uint ssrc, ulong ntpTimestamp, uint rtpTimestamp)
    {
        lock (_gate)
        {
            if (_stopped || (_jitter.Ssrc != 0 && ssrc != _jitter.Ssrc))
            {
                return;
            }

            _hasSenderReport = true;
            _senderReportSsrc = ssrc;
            _senderReportNtp = ntpTimestamp;
            _senderReportRtp = rtpTimestamp;
            if (_startFromArrival && ssrc == _firstSsrc)
            {
                // The first frame's time was its arrival: the sender's own clock mapping is better (no network delay).
                _startFromArrival = false;
                var firstSample = WallClockOf(_firstTimestamp);
                _startOffsetSeconds = _session.SetTrackStart(_manifest, firstSample, "rtcp_sender_report", null);
                LogClockFromSenderReport(_logger, Id, firstSample);
            }
        }
    }

    /// <summary>Gives up gaps that waited too long (call on a timer, e.g. every 20–100 ms, or at <see cref="NextPollDeadline"/>).</summary>
    public void Poll()
    {
        lock (_gate)
        {
            if (!_stopped)
            {
                _jitter.Poll(_session.NowMilliseconds());
            }
        }
    }

    /// <summary>Sequence numbers to NACK now for <see cref="MediaSsrc"/> (RFC 4585 §6.2.1); returns how many were written.</summary>
    public int CollectNacks(Span<ushort> destination, long rttMilliseconds)
    {
        lock (_gate)
        {
            return _stopped ? 0 : _jitter.CollectNacks(_session.NowMilliseconds(), rttMilliseconds, destination);
        }
    }

    /// <summary>
    /// True when a key frame is awaited and no request was made within the request interval: the caller sends a
    /// PLI (RFC 4585 §6.3.1) for <see cref="MediaSsrc"/> now. Counts the request.
    /// </summary>
    public bool KeyframeRequestDue()
    {
        lock (_gate)
        {
            if (!_video || !_waitingForKeyframe || _stopped || _paused || _jitter.Ssrc == 0)
            {
                return false;
            }

            var now = _session.NowMilliseconds();
            if (now - _lastKeyframeRequest < _keyframeIntervalMilliseconds)
            {
                return false;
            }

            _lastKeyframeRequest = now;
            KeyframeRequests++;
            return true;
        }
    }

    /// <summary>Pauses or resumes writing (the session does this for all tracks). Video resumes at a key frame.</summary>
    internal void SetPaused(bool paused)
    {
        lock (_gate)
        {
            _paused = paused;
            if (_video)
            {
                _waitingForKeyframe = true;
            }
        }
    }

    /// <summary>Writes what the jitter buffer still holds, finishes the file (Cues, Duration) and updates the manifest.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }

            _jitter.Flush();
            _stopped = true;
            double? duration = null;
            if (_writer is not null)
            {
                duration = _writer.DurationMilliseconds / 1000.0;
                _writer.Dispose();
            }

            _depacketizer.Dispose();
            _session.FinishTrack(_manifest, duration, FramesWritten);
            LogFinished(_logger, Id, FramesWritten, duration ?? 0, _jitter.PacketsLost, FramesSkipped);
        }
    }

    public void Dispose() => Stop();

    void IJitterBufferOutput.OnStreamStart(uint ssrc)
    {
        _streams++;
        _depacketizer.Reset();
        _timestamps.Reset();
        _anchorPending = true;
        if (_video)
        {
            _waitingForKeyframe = true;
        }

        if (_hasSenderReport && _senderReportSsrc != ssrc)
        {
            _hasSenderReport = false;
        }

        if (_streams > 1)
        {
            _session.UpdateTrack(_manifest, static m => m.StreamRestarts++);
            LogStreamRestart(_logger, Id, ssrc);
        }
    }

    void IJitterBufferOutput.OnPacket(RtpPacket packet)
    {
        _hasPendingLevel = false;
        if (_options.AudioLevelExtensionId > 0
            && packet.TryGetExtension(_options.AudioLevelExtensionId, out var value)
            && RtpExtensionValues.TryReadAudioLevel(value, out var voice, out var level))
        {
            _hasPendingLevel = true;
            _pendingLevel = level;
            _pendingVoice = voice;
        }

        _depacketizer.Push(packet);
    }

    void IJitterBufferOutput.OnLoss(int count)
    {
        _depacketizer.OnLoss();
        if (_video)
        {
            // The frames after a lost one reference it: showing them would smear until the next key frame.
            _waitingForKeyframe = true;
        }
    }

    void IFrameSink.OnFrame(EncodedFrame frame)
    {
        if (_paused)
        {
            return;
        }

        if (_video && _waitingForKeyframe)
        {
            if (!frame.Keyframe || (_h264 is not null && _writer is null && (_h264.SequenceParameterSet.IsEmpty || _h264.PictureParameterSet.IsEmpty)))
            {
                FramesSkipped++;
                return;
            }
        }

        var now = _session.NowMilliseconds();
        var timestamp = _timestamps.Unwrap(frame.RtpTimestamp);
        if (_anchorPending)
        {
            _anchorPending = false;
            _anchorTimestamp = timestamp;
            // A new stream continues the file after the last frame, by the time that passed in between.
            _anchorMilliseconds = _lastFrameMilliseconds < 0 ? 0 : _lastFrameMilliseconds + Math.Max(1, now - _lastFrameArrival);
        }

        var milliseconds = _anchorMilliseconds + ((timestamp - _anchorTimestamp) * 1000 / _clockRate);
        if (_writer is null)
        {
            StartWriter(frame);
        }

        _waitingForKeyframe = false;
        if (_video && frame.Keyframe && frame.Width > 0 && (frame.Width != _width || frame.Height != _height))
        {
            var resolution = new ManifestResolution { AtSeconds = milliseconds / 1000.0, Width = frame.Width, Height = frame.Height };
            _width = resolution.Width;
            _height = resolution.Height;
            _session.UpdateTrack(_manifest, m => m.Resolutions.Add(resolution));
            LogResolution(_logger, Id, resolution.Width, resolution.Height, resolution.AtSeconds);
        }

        _writer!.WriteFrame(frame.Data, milliseconds, frame.Keyframe);
        _lastFrameMilliseconds = Math.Max(_lastFrameMilliseconds, milliseconds);
        _lastFrameArrival = now;
        FramesWritten++;
        if (_hasPendingLevel)
        {
            _session.VoiceActivity.OnAudioLevel(_options.ParticipantId, _startOffsetSeconds + (milliseconds / 1000.0), _pendingLevel, _pendingVoice);
        }
    }

    private void StartWriter(EncodedFrame frame)
    {
        DateTimeOffset firstSample;
        string clock;
        var ssrc = _jitter.Ssrc;
        if (_hasSenderReport && _senderReportSsrc == ssrc)
        {
            firstSample = WallClockOf(frame.RtpTimestamp);
            clock = "rtcp_sender_report";
        }
        else
        {
            firstSample = _session.UtcNow();
            clock = "arrival";
            _startFromArrival = true;
        }

        _firstSsrc = ssrc;
        _firstTimestamp = frame.RtpTimestamp;
        byte[] codecPrivate = [];
        if (_h264 is not null)
        {
            codecPrivate = WebmWriter.CreateAvcConfiguration(_h264.SequenceParameterSet, _h264.PictureParameterSet);
        }

        var info = new WebmTrackInfo
        {
            Codec = _options.Codec,
            Width = frame.Width,
            Height = frame.Height,
            CodecPrivate = codecPrivate,
            Name = _session.ParticipantName(_options.ParticipantId),
            StartedAt = firstSample,
        };
        // Shared read: uploads or a live preview may read the growing file.
        var stream = new FileStream(FilePath, FileMode.Create, FileAccess.ReadWrite, FileShare.Read, 64 * 1024);
        _writer = new WebmWriter(stream, info);
        _startOffsetSeconds = _session.SetTrackStart(_manifest, firstSample, clock, Path.GetFileName(FilePath));
        LogStarted(_logger, Id, _options.ParticipantId, FilePath, clock);
    }

    /// <summary>RFC 3550 §6.4.1: wall clock = SR's NTP time + (RTP timestamp − SR's RTP timestamp) / clock rate.</summary>
    private DateTimeOffset WallClockOf(uint rtpTimestamp)
    {
        var ticks = (long)(int)(rtpTimestamp - _senderReportRtp) * TimeSpan.TicksPerSecond / _clockRate;
        return NtpTime.ToDateTime(_senderReportNtp).AddTicks(ticks);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Recording track {TrackId} of {ParticipantId} to {File} (wall clock from {Clock})")]
    private static partial void LogStarted(ILogger logger, string trackId, string participantId, string file, string clock);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Track {TrackId}: start time corrected from the first sender report to {FirstSample:O}")]
    private static partial void LogClockFromSenderReport(ILogger logger, string trackId, DateTimeOffset firstSample);

    [LoggerMessage(Level = LogLevel.Information, Message = "Track {TrackId}: new stream (SSRC {Ssrc}), continuing the same file")]
    private static partial void LogStreamRestart(ILogger logger, string trackId, uint ssrc);

    [LoggerMessage(Level = LogLevel.Information, Message = "Track {TrackId}: picture size {Width}x{Height} from {AtSeconds:F3} s")]
    private static partial void LogResolution(ILogger logger, string trackId, int width, int height, double atSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Track {TrackId} finished: {Frames} frames, {DurationSeconds:F3} s, {PacketsLost} packets lost, {FramesSkipped} frames skipped waiting for key frames")]
    private static partial void LogFinished(ILogger logger, string trackId, long frames, double durationSeconds, long packetsLost, long framesSkipped);
}
