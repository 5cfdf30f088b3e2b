using System.Buffers.Binary;
using System.Diagnostics;
using Parley.WebRtc.Rtcp;
using Parley.WebRtc.Rtp;
using Parley.WebRtc.Srtp;

namespace Parley.Loadtest;

/// <summary>Protects and sends one packet (the buffer needs room for the SRTP tag past the length).</summary>
internal delegate SrtpResult RtpSender(Span<byte> buffer, int length);

/// <summary>One clock for every client of the process: the publisher's send stamp and the subscriber's arrival share it.</summary>
internal static class LoadClock
{
    private static readonly double MicrosecondsPerTick = 1_000_000.0 / Stopwatch.Frequency;

    // Not GetTimestamp() * 1e6 / Frequency: with nanosecond ticks that product overflows a long after ~3 hours of uptime.
    public static long NowMicroseconds => (long)(Stopwatch.GetTimestamp() * MicrosecondsPerTick);
}

/// <summary>
/// What a publish connection carries: SSRCs, payload types and the header extension ids the server
/// accepted (0 = not negotiated, not sent).
/// </summary>
internal sealed record PublishLayout
{
    public bool Audio { get; init; }

    public bool Video { get; init; }

    public uint AudioSsrc { get; init; }

    /// <summary>One SSRC per layer, lowest first.</summary>
    public IReadOnlyList<uint> VideoSsrcs { get; init; } = [];

    /// <summary>Simulcast rids, lowest first; empty for one stream.</summary>
    public IReadOnlyList<string> Rids { get; init; } = [];

    public byte AudioPayloadType { get; init; } = 111;

    public byte VideoPayloadType { get; init; } = 96;

    public string? AudioMid { get; init; }

    public string? VideoMid { get; init; }

    public int MidExtension { get; init; }

    public int RidExtension { get; init; }

    public int AbsSendTimeExtension { get; init; }

    public int TransportCcExtension { get; init; }

    public int AudioLevelExtension { get; init; }

    /// <summary>Speech (voice activity, level -40 dBov) when true; a muted microphone's digital silence (level 127) when false.</summary>
    public bool Talking { get; init; } = true;
}

/// <summary>
/// Synthetic media of one publisher (issue 8): an Opus-sized audio packet every 20 ms, and VP8-shaped
/// video frames at the target bitrate and frame rate split into RTP packets of at most
/// <see cref="MaxPayload"/> bytes, a key frame every <see cref="KeyframeInterval"/> and on request (PLI/FIR),
/// simulcast layers at 1/16, 1/4 and 1 of the bitrate. RTP timestamps follow the media clock (48 kHz,
/// 90 kHz) from the real send time; every packet carries mid (and rid), abs-send-time, transport-wide
/// sequence number and, for audio, the audio level. Each payload holds the send time
/// (<see cref="StampOffset"/>) for the end-to-end delay. <see cref="Tick"/> runs on one scheduler thread
/// and allocates nothing.
/// </summary>
internal sealed class SyntheticPublisher
{
    public const int MaxPayload = 1100;
    public const int FrameRate = 30;
    public const int AudioPayloadBytes = 80; // ≈ 32 kbit/s Opus at 20 ms
    public const long AudioIntervalMicroseconds = 20_000;

    /// <summary>Where the send stamp sits in every payload: after a VP8 descriptor and key frame header (1 + 10 bytes).</summary>
    public const int StampOffset = 12;
    public const uint StampMagic = 0x504C5431; // "PLT1"

    public static readonly TimeSpan KeyframeInterval = TimeSpan.FromSeconds(3);

    private readonly PublishLayout _layout;
    private readonly RtpSender _send;
    private readonly RtpSender _sendRtcp;
    private readonly byte[] _buffer = new byte[1600];
    private readonly byte[] _rtcp = new byte[256];
    private readonly byte[][] _rids;
    private readonly byte[] _audioMid;
    private readonly byte[] _videoMid;
    private readonly int[] _layerBytesPerFrame;
    private readonly ushort[] _videoSequence;
    private readonly long[] _layerPackets;
    private readonly long[] _layerBytes;
    private readonly uint _audioTimestampBase = (uint)Random.Shared.Next();
    private readonly uint _videoTimestampBase = (uint)Random.Shared.Next();
    private ushort _audioSequence = (ushort)Random.Shared.Next(0, 65536);
    private ushort _wideSequence;
    private long _start = -1;
    private long _nextAudio;
    private long _nextFrame;
    private long _nextKeyframe;
    private long _frameIndex;
    private long _audioPackets;
    private long _audioBytes;
    private volatile bool _keyframeRequested;
    private long _packetsSent;
    private long _bytesSent;
    private long _sendErrors;

    public SyntheticPublisher(PublishLayout layout, int videoBitrateKbps, RtpSender send, RtpSender sendRtcp)
    {
        _layout = layout;
        _send = send;
        _sendRtcp = sendRtcp;
        _rids = layout.Rids.Select(r => System.Text.Encoding.ASCII.GetBytes(r)).ToArray();
        _audioMid = System.Text.Encoding.ASCII.GetBytes(layout.AudioMid ?? "0");
        _videoMid = System.Text.Encoding.ASCII.GetBytes(layout.VideoMid ?? "1");
        var layers = Math.Max(1, layout.VideoSsrcs.Count);
        _layerBytesPerFrame = new int[layers];
        for (var i = 0; i < layers; i++)
        {
            // Top layer at the target, each lower one a quarter of the next (half the width and height).
            var bitrate = videoBitrateKbps * 1000L >> (2 * (layers - 1 - i));
            _layerBytesPerFrame[i] = (int)Math.Max(200, bitrate / 8 / FrameRate);
        }

        _videoSequence = new ushort[layers];
        for (var i = 0; i < layers; i++)
        {
            _videoSequence[i] = (ushort)Random.Shared.Next(0, 65536);
        }

        _layerPackets = new long[layers];
        _layerBytes = new long[layers];
    }

    public long PacketsSent => Volatile.Read(ref _packetsSent);

    public long BytesSent => Volatile.Read(ref _bytesSent);

    public long SendErrors => Volatile.Read(ref _sendErrors);

    public long KeyframesSent { get; private set; }

    public long KeyframeRequests { get; private set; }

    /// <summary>A PLI or FIR named one of our SSRCs (socket thread): the next frame is a key frame.</summary>
    public void OnKeyframeRequest(uint ssrc)
    {
        if (_layout.Video && _layout.VideoSsrcs.Contains(ssrc))
        {
            _keyframeRequested = true;
        }
    }

    /// <summary>Sends whatever is due at <paramref name="now"/> (µs of <see cref="LoadClock"/>).</summary>
    public void Tick(long now)
    {
        if (_start < 0)
        {
            _start = now;
            _nextAudio = now;
            _nextFrame = now;
            _nextKeyframe = now; // the first frame is a key frame
        }

        // After a stall (a slow machine), skip ahead rather than burst out seconds of media at once.
        if (now - _nextAudio > 200_000)
        {
            _nextAudio = now;
        }

        if (now - _nextFrame > 200_000)
        {
            _frameIndex = ((now - _start) * FrameRate / 1_000_000) + 1;
            _nextFrame = _start + (_frameIndex * 1_000_000 / FrameRate);
        }

        while (_layout.Audio && _nextAudio <= now)
        {
            SendAudio(_nextAudio);
            _nextAudio += AudioIntervalMicroseconds;
        }

        while (_layout.Video && _nextFrame <= now)
        {
            var keyframe = _keyframeRequested || _nextFrame >= _nextKeyframe;
            if (keyframe)
            {
                if (_keyframeRequested)
                {
                    KeyframeRequests++;
                }

                _keyframeRequested = false;
                _nextKeyframe = _nextFrame + (long)KeyframeInterval.TotalMicroseconds;
                KeyframesSent++;
            }

            for (var layer = 0; layer < _layerBytesPerFrame.Length; layer++)
            {
                SendFrame(layer, keyframe);
            }

            // Frame n at start + n/30 s with timestamp n × 3000: exact, no drift from rounding 33,333 µs.
            _frameIndex++;
            _nextFrame = _start + (_frameIndex * 1_000_000 / FrameRate);
        }
    }

    /// <summary>RTCP sender reports for every stream (RFC 3550 §6.4.1), once a second from the feedback thread.</summary>
    public void SendReports(long now)
    {
        if (_start < 0)
        {
            return;
        }

        var ntp = NtpTime.FromDateTime(DateTimeOffset.UtcNow);
        lock (_rtcp)
        {
            if (_layout.Audio)
            {
                var rtp = _audioTimestampBase + (uint)((now - _start) * 48 / 1000);
                var length = RtcpSenderReport.Write(_rtcp, _layout.AudioSsrc, ntp, rtp, (uint)Volatile.Read(ref _audioPackets), (uint)Volatile.Read(ref _audioBytes), []);
                _sendRtcp(_rtcp, length);
            }

            for (var layer = 0; _layout.Video && layer < _layout.VideoSsrcs.Count; layer++)
            {
                var rtp = _videoTimestampBase + (uint)((now - _start) * 90 / 1000);
                var length = RtcpSenderReport.Write(_rtcp, _layout.VideoSsrcs[layer], ntp, rtp, (uint)Volatile.Read(ref _layerPackets[layer]), (uint)Volatile.Read(ref _layerBytes[layer]), []);
                _sendRtcp(_rtcp, length);
            }
        }
    }

    private void SendAudio(long sendTime)
    {
        var timestamp = _audioTimestampBase + (uint)((sendTime - _start) * 48 / 1000);
        var builder = new RtpPacketBuilder(_buffer, _layout.AudioPayloadType, _audioSequence++, timestamp, _layout.AudioSsrc);
        AddCommonExtensions(ref builder, _audioMid, null);
        if (_layout.AudioLevelExtension != 0)
        {
            Span<byte> level = [_layout.Talking
                ? RtpExtensionValues.EncodeAudioLevel(true, 40)
                : RtpExtensionValues.EncodeAudioLevel(false, RtpExtensionValues.SilenceLevel)];
            builder.AddExtension(_layout.AudioLevelExtension, level);
        }

        Span<byte> payload = stackalloc byte[AudioPayloadBytes];
        payload[0] = 0xFC; // Opus TOC: config 31 (CELT FB 20 ms), stereo, one frame
        Stamp(payload);
        builder.AddPayload(payload);
        var length = builder.Length;
        Send(length);
        Volatile.Write(ref _audioPackets, _audioPackets + 1);
        Volatile.Write(ref _audioBytes, _audioBytes + length);
    }

    /// <summary>
    /// One VP8 frame of a layer as RTP packets (RFC 7741): the first carries S=1 and, for a key frame, the
    /// 10-byte key frame header (P=0, start code 9d 01 2a, size); the last has the marker bit.
    /// </summary>
    private void SendFrame(int layer, bool keyframe)
    {
        var timestamp = _videoTimestampBase + (uint)(_frameIndex * (90_000 / FrameRate));
        var frameBytes = keyframe ? _layerBytesPerFrame[layer] * 3 : _layerBytesPerFrame[layer];
        var packets = (frameBytes + MaxPayload - 1) / MaxPayload;
        var ssrc = _layout.VideoSsrcs[layer];
        Span<byte> scratch = stackalloc byte[MaxPayload];
        for (var i = 0; i < packets; i++)
        {
            var size = i == packets - 1 ? frameBytes - (MaxPayload * (packets - 1)) : MaxPayload;
            size = Math.Max(size, StampOffset + 12);
            var builder = new RtpPacketBuilder(_buffer, _layout.VideoPayloadType, _videoSequence[layer]++, timestamp, ssrc, marker: i == packets - 1);
            AddCommonExtensions(ref builder, _videoMid, _rids.Length > layer ? _rids[layer] : null);
            var payload = scratch[..size];
            payload.Clear();
            if (i == 0)
            {
                payload[0] = 0x10; // X=0 N=0 S=1 PID=0
                payload[1] = (byte)(keyframe ? 0x10 : 0x11); // frame tag: show_frame=1, P = 0 for a key frame
                if (keyframe)
                {
                    payload[4] = 0x9d;
                    payload[5] = 0x01;
                    payload[6] = 0x2a;
                    BinaryPrimitives.WriteUInt16LittleEndian(payload[7..], (ushort)(320 << layer));
                    BinaryPrimitives.WriteUInt16LittleEndian(payload[9..], (ushort)(180 << layer));
                }
            }

            Stamp(payload);
            builder.AddPayload(payload);
            var length = builder.Length;
            Send(length);
            Volatile.Write(ref _layerPackets[layer], _layerPackets[layer] + 1);
            Volatile.Write(ref _layerBytes[layer], _layerBytes[layer] + length);
        }
    }

    private void AddCommonExtensions(ref RtpPacketBuilder builder, byte[] mid, byte[]? rid)
    {
        if (_layout.MidExtension != 0)
        {
            builder.AddExtension(_layout.MidExtension, mid);
        }

        if (rid is not null && _layout.RidExtension != 0)
        {
            builder.AddExtension(_layout.RidExtension, rid);
        }

        Span<byte> value = stackalloc byte[3];
        if (_layout.AbsSendTimeExtension != 0)
        {
            RtpExtensionValues.WriteAbsSendTime(value, RtpExtensionValues.ToAbsSendTime(LoadClock.NowMicroseconds));
            builder.AddExtension(_layout.AbsSendTimeExtension, value);
        }

        if (_layout.TransportCcExtension != 0)
        {
            RtpExtensionValues.WriteTransportSequenceNumber(value, _wideSequence++);
            builder.AddExtension(_layout.TransportCcExtension, value[..2]);
        }
    }

    private static void Stamp(Span<byte> payload)
    {
        BinaryPrimitives.WriteInt64BigEndian(payload[StampOffset..], LoadClock.NowMicroseconds);
        BinaryPrimitives.WriteUInt32BigEndian(payload[(StampOffset + 8)..], StampMagic);
    }

    private void Send(int length)
    {
        if (_send(_buffer, length) == SrtpResult.Ok)
        {
            Volatile.Write(ref _packetsSent, _packetsSent + 1);
            Volatile.Write(ref _bytesSent, _bytesSent + length);
        }
        else
        {
            Volatile.Write(ref _sendErrors, _sendErrors + 1);
        }
    }

    /// <summary>The send stamp of a payload this tool wrote, or -1 for any other payload.</summary>
    public static long ReadStamp(ReadOnlySpan<byte> payload) =>
        payload.Length >= StampOffset + 12 && BinaryPrimitives.ReadUInt32BigEndian(payload[(StampOffset + 8)..]) == StampMagic
            ? BinaryPrimitives.ReadInt64BigEndian(payload[StampOffset..])
            : -1;
}
