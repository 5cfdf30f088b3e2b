using System.Collections.Concurrent;
using System.Net;
using Parley.Sfu.Rooms;
using Parley.WebRtc.Rtp;
using Parley.WebRtc.Sdp;
using Parley.WebRtc.Transport;

namespace Parley.Sfu.Tests.Engine;

/// <summary>
/// A native publisher (full ICE, DTLS client) on its own loopback socket: offers Opus and VP8 (optionally
/// simulcast with RIDs) and sends synthetic RTP with the MID/RID extensions Chrome would put on it.
/// </summary>
internal sealed class NativePublisher : IDisposable
{
    public const uint AudioSsrc = 0x1000_0001;
    private readonly UdpSocketLoop _socket = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly PeerConnection _connection;
    private readonly byte[] _buffer = new byte[1500];
    private readonly ushort[] _videoSequence = new ushort[3];
    private readonly int[] _pictureIds = new int[3];
    private ushort _audioSequence;
    private uint _videoTimestamp;
    private uint _audioTimestamp;

    public NativePublisher()
    {
        _socket.Start();
        _connection = new PeerConnection(new PeerConnectionOptions { Socket = _socket, IsServer = false });
    }

    public string[] Rids { get; private set; } = [];

    public PeerConnection Connection => _connection;

    public static uint VideoSsrc(int layer) => 0x2000_0001u + (uint)layer;

    /// <summary>Video as H.264 (packetization-mode 1, single NAL units) instead of VP8.</summary>
    public bool H264 { get; init; }

    public string Offer(bool audio = true, bool video = true, params string[] rids)
    {
        Rids = rids;
        var sections = new List<SdpOfferSection>();
        if (audio)
        {
            sections.Add(new SdpOfferSection("audio", "0", "sendonly", [SdpCodec.Opus()])
            {
                Extensions = [new SdpExtmap(1, null, RtpExtensionUri.Mid, null), new SdpExtmap(10, null, RtpExtensionUri.AudioLevel, null)],
                Sources = [new SdpSource(AudioSsrc, "native", "s", "a")],
            });
        }

        if (video)
        {
            sections.Add(new SdpOfferSection("video", "1", "sendonly", [H264 ? SdpCodec.H264() : SdpCodec.Vp8()])
            {
                Extensions = [new SdpExtmap(1, null, RtpExtensionUri.Mid, null), new SdpExtmap(2, null, RtpExtensionUri.Rid, null)],
                Sources = rids.Length == 0 ? [new SdpSource(VideoSsrc(0), "native", "s", "v")] : [],
                SendRids = rids,
            });
        }

        return _connection.CreateOffer(sections);
    }

    public static Dictionary<string, (string Kind, string Source)> Tracks(bool audio = true, bool video = true)
    {
        var tracks = new Dictionary<string, (string, string)>();
        if (audio)
        {
            tracks["0"] = ("audio", "microphone");
        }

        if (video)
        {
            tracks["1"] = ("video", "camera");
        }

        return tracks;
    }

    public Task AcceptAsync(string answer)
    {
        _connection.AcceptAnswer(answer);
        return _connection.ConnectAsync().WaitAsync(TimeSpan.FromSeconds(15));
    }

    /// <summary>One VP8 packet (a whole small frame) of a layer; a keyframe when asked.</summary>
    public void SendVideo(int layer, bool keyframe)
    {
        var sequence = _videoSequence[layer]++;
        var builder = new RtpPacketBuilder(_buffer, (byte)(H264 ? 102 : 96), sequence, _videoTimestamp += 3000, VideoSsrc(layer), marker: true);
        builder.AddExtension(1, "1"u8);
        if (Rids.Length > 0)
        {
            builder.AddExtension(2, System.Text.Encoding.ASCII.GetBytes(Rids[layer]));
        }

        Span<byte> payload = stackalloc byte[200];
        if (H264)
        {
            payload[0] = (byte)(keyframe ? 0x65 : 0x41); // NAL header: type 5 (IDR slice) or 1 (non-IDR slice)
            payload[1] = 0x88;
        }
        else
        {
            // VP8 descriptor (RFC 7741 §4.2): X=1 S=1, I=1, a 15-bit picture id counted per layer as a
            // simulcast encoder does (layers far apart), then the VP8 payload header with P=0 for a keyframe.
            var pictureId = (ushort)((_pictureIds[layer]++ + (layer * 10_000)) & 0x7FFF);
            payload[0] = 0x90;
            payload[1] = 0x80;
            payload[2] = (byte)(0x80 | (pictureId >> 8));
            payload[3] = (byte)pictureId;
            payload[4] = (byte)(keyframe ? 0x00 : 0x01);
        }

        payload[^1] = (byte)layer;
        builder.AddPayload(payload);
        _connection.SendRtp(_buffer, builder.Length);
    }

    /// <summary>One Opus packet; <paramref name="voice"/> false with level 127 is what a muted microphone sends.</summary>
    public void SendAudio(byte level = 30, bool voice = true)
    {
        var builder = new RtpPacketBuilder(_buffer, 111, _audioSequence++, _audioTimestamp += 960, AudioSsrc);
        builder.AddExtension(1, "0"u8);
        builder.AddExtension(10, [RtpExtensionValues.EncodeAudioLevel(voice, level)]);
        Span<byte> payload = stackalloc byte[60];
        payload[0] = 0xFC; // Opus TOC: 20 ms frame
        builder.AddPayload(payload);
        _connection.SendRtp(_buffer, builder.Length);
    }

    public void Dispose()
    {
        _connection.Dispose();
        _socket.Dispose();
    }
}

/// <summary>A native subscriber: answers the SFU's offers and records every RTP packet it receives.</summary>
internal sealed class NativeSubscriber : IDisposable
{
    private readonly UdpSocketLoop _socket = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly PeerConnection _connection;
    private Task? _connect;

    public NativeSubscriber()
    {
        _socket.Start();
        _connection = new PeerConnection(new PeerConnectionOptions { Socket = _socket, IsServer = false, AnswerDirection = "recvonly" });
        _connection.RtpReceived += (_, packet) =>
        {
            if (RtpPacket.TryParse(packet, out var rtp))
            {
                var payload = rtp.Payload;
                var pictureId = rtp.PayloadType == 96 && Vp8PayloadDescriptor.TryParse(payload, out var vp8) && vp8.HasPictureId ? vp8.PictureId : -1;
                Received.Enqueue((rtp.Ssrc, rtp.SequenceNumber, rtp.Timestamp, rtp.PayloadType, payload.Length > 0 ? payload[^1] : (byte)0,
                    payload.Length >= 2 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(payload) : (ushort)0, pictureId));
            }
        };
    }

    /// <summary>
    /// Every packet: Marker is the synthetic layer byte NativePublisher puts last in its payload;
    /// OriginalSequence the first two payload bytes (the RTX OSN); PictureId the VP8 picture id (-1 if none).
    /// </summary>
    public ConcurrentQueue<(uint Ssrc, ushort Sequence, uint Timestamp, byte PayloadType, byte Marker, ushort OriginalSequence, int PictureId)> Received { get; } = new();

    public PeerConnection Connection => _connection;

    /// <summary>Answers the latest subscribe offer of <paramref name="sink"/> and hands the answer to the SFU.</summary>
    public async Task AnswerLatestAsync(Participant participant, RecordingSink sink, int offerIndex)
    {
        var offer = await sink.WaitAsync<SubscribeOfferMessage>(skip: offerIndex);
        var answer = _connection.AcceptOffer(offer.Sdp);
        EngineFixture.Under(participant, () => participant.AcceptSubscribeAnswer(answer));
        _connect ??= _connection.ConnectAsync();
        await _connect.WaitAsync(TimeSpan.FromSeconds(15));
    }

    public void Dispose()
    {
        _connection.Dispose();
        _socket.Dispose();
    }
}
