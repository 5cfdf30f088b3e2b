using System.Text;
using Microsoft.Extensions.Logging;
using Parley.Sfu.Client;
using Parley.WebRtc.Rtcp;
using Parley.WebRtc.Rtp;
using Parley.WebRtc.Srtp;

namespace Parley.Bots.Camera;

/// <summary>
/// The bot's camera track: bot_image frames, encoded once (<see cref="BotImageEncoder"/>), sent as VP8 RTP
/// (RFC 7741, <see cref="Vp8Packetizer"/>) on the publish connection of a <see cref="MeetingClient"/> that published
/// video. <see cref="FrameRate"/> frames a second: the image's repeat frame (about 100–500 bytes), and its key frame
/// when the image changes, when the SFU asks (PLI/FIR, at most every <see cref="MinKeyframeSpacing"/>) and every
/// <see cref="KeyframeInterval"/> so that a subscriber who lost a packet recovers without asking. RTP timestamps run
/// on the 90 kHz clock from the real send time (RFC 3550 §5.1, RFC 7741 §4.1); a sender report goes out every
/// <see cref="ReportInterval"/> so that recorders can place the track on the meeting's time axis.
/// <para>
/// Cost: one timer tick per frame, one SRTP packet for a repeat frame, a key frame's packets every few seconds; one
/// buffer reused for every packet; no allocation per frame.
/// </para>
/// </summary>
public sealed partial class BotCamera : IAsyncDisposable
{
    public const int FrameRate = 5;
    public const int MaxPayload = 1100;
    public static readonly TimeSpan KeyframeInterval = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan MinKeyframeSpacing = TimeSpan.FromMilliseconds(300);
    public static readonly TimeSpan ReportInterval = TimeSpan.FromSeconds(5);

    /// <summary>When the encoder gave no repeat frame: the key frame instead, but only this often (it is 10–100 KB).</summary>
    private static readonly TimeSpan KeyframeOnlyInterval = TimeSpan.FromSeconds(1);

    private readonly MeetingClient _client;
    private readonly IReadOnlyList<EncodedBotImage> _images;
    private readonly BotImageLoopMode _mode;
    private readonly TimeSpan _imageDuration;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly uint _ssrc;
    private readonly byte _payloadType;
    private readonly int _midExtension;
    private readonly byte[] _mid;
    private readonly byte[] _packet = new byte[1600];
    private readonly byte[] _rtcp = new byte[256];
    private readonly uint _timestampBase = (uint)Random.Shared.Next();
    private readonly CancellationTokenSource _stop = new();
    private ushort _sequence = (ushort)Random.Shared.Next(0, 65536);
    private volatile int _statusSlot;
    private volatile bool _keyframeRequested;
    private long _start;
    private long _lastKeyframe = long.MinValue;
    private long _lastReport = long.MinValue;
    private int _shown = -1;
    private uint _packetsSent;
    private uint _octetsSent;
    private Task? _loop;

    public BotCamera(MeetingClient client, LocalPublication publication, IReadOnlyList<EncodedBotImage> images, BotImageLoopMode mode, TimeSpan imageDuration, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(publication);
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0 || publication.VideoSsrcs.Count == 0)
        {
            throw new ArgumentException("A camera needs an image and a published video track.", nameof(images));
        }

        _client = client;
        _images = images;
        _mode = mode;
        _imageDuration = imageDuration;
        _time = time ?? TimeProvider.System;
        _logger = logger;
        _ssrc = publication.VideoSsrcs[0];
        _payloadType = (byte)publication.VideoPayloadType;
        _midExtension = publication.VideoMidExtensionId;
        _mid = Encoding.ASCII.GetBytes(publication.VideoMid ?? "1");
        _start = _time.GetTimestamp();
    }

    /// <summary>The index of the image shown now (-1 before the first frame).</summary>
    public int ShownImage => Volatile.Read(ref _shown);

    public long KeyframesSent { get; private set; }

    public long FramesSent { get; private set; }

    /// <summary>Starts sending frames; the first is a key frame.</summary>
    public void Start()
    {
        _start = _time.GetTimestamp();
        _client.KeyframeRequested += OnKeyframeRequested;
        _loop = RunAsync(_stop.Token);
    }

    /// <summary>The bot's status changed (any thread); in bot_status mode the next frame shows the image of that status.</summary>
    public void OnStatus(string status)
    {
        var slot = BotImageSchedule.SlotOf(status);
        if (slot >= 0)
        {
            _statusSlot = slot;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _client.KeyframeRequested -= OnKeyframeRequested;
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    /// <summary>As if the SFU sent a PLI for our SSRC (tests).</summary>
    internal void RequestKeyframeForTest() => OnKeyframeRequested(_ssrc);

    private void OnKeyframeRequested(uint ssrc)
    {
        if (ssrc == _ssrc)
        {
            _keyframeRequested = true;
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / FrameRate), _time);
            do
            {
                SendFrame();
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
            // The meeting client was disposed under us: the bot is leaving.
        }
    }

    /// <summary>One frame now: which image, key or repeat frame, packets, and the sender report when due.</summary>
    internal void SendFrame()
    {
        var now = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(_start, now);
        var index = BotImageSchedule.Current(_mode, _images.Count, _imageDuration, elapsed, _statusSlot);
        var image = _images[index];
        var sinceKeyframe = _lastKeyframe == long.MinValue ? TimeSpan.MaxValue : _time.GetElapsedTime(_lastKeyframe, now);
        var requested = _keyframeRequested && sinceKeyframe >= MinKeyframeSpacing;
        var keyframe = index != _shown || requested || sinceKeyframe >= KeyframeInterval;
        if (!keyframe && image.InterFrame is null && sinceKeyframe < KeyframeOnlyInterval)
        {
            return;
        }

        if (index != _shown)
        {
            LogImageShown(_logger, index, image.Source.ToString());
            Volatile.Write(ref _shown, index);
        }

        if (keyframe || image.InterFrame is null)
        {
            _keyframeRequested = false;
            _lastKeyframe = now;
            KeyframesSent++;
        }

        var frame = keyframe || image.InterFrame is null ? image.Keyframe : image.InterFrame;
        // 90 kHz media clock from the real time: a late tick gets the timestamp of when it is sent.
        var timestamp = _timestampBase + (uint)(elapsed.Ticks * 9 / 1000);
        var packets = Vp8Packetizer.PacketCount(frame.Length, MaxPayload);
        for (var i = 0; i < packets; i++)
        {
            var builder = new RtpPacketBuilder(_packet, _payloadType, _sequence++, timestamp, _ssrc, marker: i == packets - 1);
            if (_midExtension != 0)
            {
                builder.AddExtension(_midExtension, _mid);
            }

            Vp8Packetizer.AddPayload(ref builder, frame, i, MaxPayload);
            if (_client.SendRtp(_packet, builder.Length) == SrtpResult.Ok)
            {
                _packetsSent++;
            }
        }

        // The sender report's octet count is payload octets (RFC 3550 §6.4.1): the frame and one descriptor byte a packet.
        _octetsSent += (uint)(frame.Length + packets);

        FramesSent++;
        if (_lastReport == long.MinValue || _time.GetElapsedTime(_lastReport, now) >= ReportInterval)
        {
            _lastReport = now;
            var length = RtcpSenderReport.Write(_rtcp, _ssrc, NtpTime.FromDateTime(_time.GetUtcNow()), timestamp, _packetsSent, _octetsSent, []);
            _client.SendPublishRtcp(_rtcp, length);
        }
    }

    [LoggerMessage(EventId = 7135, Level = LogLevel.Information, Message = "Camera shows bot_image {Index} ({Url})")]
    private static partial void LogImageShown(ILogger logger, int index, string url);
}
