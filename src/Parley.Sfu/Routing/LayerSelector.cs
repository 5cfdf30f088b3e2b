namespace Parley.Sfu.Routing;

/// <summary>
/// Chooses the simulcast spatial layer (RFC 8853 simulcast, one RTP stream per layer) a consumer forwards,
/// from the measured bitrate of each layer, the subscriber's preference and its estimated downlink.
/// Pure function, no allocation, thread-safe.
/// </summary>
public static class LayerSelector
{
    /// <summary>
    /// Moving up needs 15 % headroom over the layer's bitrate: layer bitrates swing with motion and the
    /// estimate with cross traffic, and without a margin a consumer whose estimate sits near a layer's
    /// bitrate would switch up and down every evaluation (each switch costing a keyframe).
    /// </summary>
    public const double UpgradeHeadroom = 1.15;

    /// <summary>
    /// The highest active layer (bitrate &gt; 0) at or below <paramref name="preferredMaxLayer"/> that fits
    /// <paramref name="estimatedBandwidth"/>: the current layer and lower ones fit when the estimate covers
    /// their bitrate, a higher one only with <see cref="UpgradeHeadroom"/>. If none fits (or the preference is
    /// below every active layer), the lowest active layer, so the subscriber keeps some picture; -1 when no
    /// layer is active. A null estimate means unlimited.
    /// </summary>
    /// <param name="layerBitrates">Bits per second per spatial layer, lowest first; 0 = not active / not received.</param>
    /// <param name="preferredMaxLayer">Highest layer the subscriber wants (for example from its video element size).</param>
    /// <param name="estimatedBandwidth">Available bits per second towards the subscriber, or null if unknown.</param>
    /// <param name="currentLayer">The layer forwarded now, or -1.</param>
    public static int Choose(ReadOnlySpan<long> layerBitrates, int preferredMaxLayer, long? estimatedBandwidth, int currentLayer)
    {
        var lowest = -1;
        for (var layer = 0; layer < layerBitrates.Length; layer++)
        {
            if (layerBitrates[layer] > 0)
            {
                lowest = layer;
                break;
            }
        }

        if (lowest < 0)
        {
            return -1;
        }

        for (var layer = Math.Min(preferredMaxLayer, layerBitrates.Length - 1); layer >= 0; layer--)
        {
            var bitrate = layerBitrates[layer];
            if (bitrate <= 0)
            {
                continue;
            }

            if (estimatedBandwidth is not { } estimate)
            {
                return layer;
            }

            var needed = layer > currentLayer ? bitrate * UpgradeHeadroom : bitrate;
            if (estimate >= needed)
            {
                return layer;
            }
        }

        return lowest;
    }
}
