using Parley.Sfu.Rooms;
using Parley.WebRtc.Rtp;
using Parley.WebRtc.Sdp;

namespace Parley.Sfu.Routing;

/// <summary>One received RTP stream of a producer: a simulcast layer, or the only stream.</summary>
internal sealed class ProducerLayer(int index, string? rid, int clockRate)
{
    public int Index { get; } = index;

    public string? Rid { get; } = rid;

    /// <summary>The media SSRC, learned from the first packet (0 until then).</summary>
    public uint Ssrc { get; set; }

    public RetransmissionBuffer Buffer { get; } = new();

    public NackTracker Nacks { get; } = new();

    public BitrateMeter Bitrate { get; } = new();

    public KeyframeRequestLimiter KeyframeLimiter { get; } = new();

    public RtpReceiveStatistics? Statistics { get; set; }

    public int ClockRate { get; } = clockRate;

    public long LastPacketMicroseconds { get; set; }

    /// <summary>A layer counts as active while packets arrived within the last 2 s (Chrome pauses layers it cannot afford).</summary>
    public bool IsActive(long nowMicroseconds) => LastPacketMicroseconds != 0 && nowMicroseconds - LastPacketMicroseconds < 2_000_000;
}

/// <summary>
/// A published track (mediasoup's Producer): one m= section of a participant's publish connection,
/// with its codecs as negotiated, its simulcast layers (RFC 8853 rids, lowest first as the client lists
/// them) and the consumers it feeds. Owned by its room's worker: every member is used under the worker lock.
/// </summary>
public sealed class Producer
{
    private Consumer[] _consumers = [];

    internal Producer(string id, Participant owner, string mid, string kind, string source, IReadOnlyList<SdpCodec> codecs,
        IReadOnlyDictionary<int, int> rtxToApt, IReadOnlyList<string> rids)
    {
        Id = id;
        Owner = owner;
        Mid = mid;
        Kind = kind;
        Source = source;
        Codecs = codecs;
        RtxToApt = rtxToApt;
        var clockRate = codecs.Count > 0 ? codecs[0].ClockRate : (kind == "audio" ? 48000 : 90000);
        Layers = rids.Count == 0
            ? [new ProducerLayer(0, null, clockRate)]
            : rids.Select((rid, i) => new ProducerLayer(i, rid, clockRate)).ToArray();
    }

    public string Id { get; }

    public Participant Owner { get; }

    public string Mid { get; }

    /// <summary>"audio" or "video".</summary>
    public string Kind { get; }

    /// <summary>"microphone", "camera" or "screen".</summary>
    public string Source { get; }

    public bool Muted { get; internal set; }

    public bool IsVideo => Kind == "video";

    /// <summary>The codecs the publish answer accepted for this section (payload types as the publisher uses them).</summary>
    public IReadOnlyList<SdpCodec> Codecs { get; }

    /// <summary>RTX payload type → the payload type it repairs (RFC 4588 apt).</summary>
    internal IReadOnlyDictionary<int, int> RtxToApt { get; }

    internal ProducerLayer[] Layers { get; }

    public IReadOnlyList<string> Rids => Layers.Where(l => l.Rid is not null).Select(l => l.Rid!).ToList();

    internal Consumer[] Consumers => _consumers;

    public string? CodecName => Codecs.Count > 0 ? Codecs[0].Name : null;

    internal long CreatedAtMicroseconds { get; } = Workers.SfuWorker.NowMicroseconds;

    internal bool Closed { get; private set; }

    internal void AddConsumer(Consumer consumer) => _consumers = [.. _consumers, consumer];

    internal void RemoveConsumer(Consumer consumer) => _consumers = _consumers.Where(c => !ReferenceEquals(c, consumer)).ToArray();

    internal void Close()
    {
        Closed = true;
        _consumers = [];
    }

    internal bool IsVp8(byte payloadType)
    {
        foreach (var codec in Codecs)
        {
            if (codec.PayloadType == payloadType)
            {
                return codec.Name.Equals("VP8", StringComparison.OrdinalIgnoreCase);
            }
        }

        return false;
    }

    internal ProducerLayer? LayerOf(string? rid)
    {
        if (rid is null)
        {
            return Layers[0];
        }

        foreach (var layer in Layers)
        {
            if (layer.Rid == rid)
            {
                return layer;
            }
        }

        return null;
    }

    internal ProducerLayer? LayerBySsrc(uint ssrc)
    {
        foreach (var layer in Layers)
        {
            if (layer.Ssrc == ssrc)
            {
                return layer;
            }
        }

        return null;
    }

    /// <summary>Bitrate per layer for <see cref="LayerSelector"/> (0 for inactive layers).</summary>
    internal void FillLayerBitrates(Span<long> destination, long nowMicroseconds)
    {
        for (var i = 0; i < Layers.Length && i < destination.Length; i++)
        {
            destination[i] = Layers[i].IsActive(nowMicroseconds) ? Math.Max(1, Layers[i].Bitrate.BitsPerSecond(nowMicroseconds / 1000)) : 0;
        }
    }
}
