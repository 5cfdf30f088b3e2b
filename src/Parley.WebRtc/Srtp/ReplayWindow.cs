namespace Parley.WebRtc.Srtp;

/// <summary>
/// Sliding replay window over packet indices (RFC 3711 §3.3.2): the highest index accepted and a
/// 64-bit map of the ones just below it (bit 0 = the highest). 64 is the minimum the RFC allows and
/// covers the reordering seen on one path.
/// </summary>
internal struct ReplayWindow
{
    public const int Size = 64;

    public ulong Highest;
    public ulong Bitmap;
    public bool Initialized;

    /// <summary>True if <paramref name="index"/> is new: above the highest, or inside the window and not seen.</summary>
    public readonly bool Check(ulong index)
    {
        if (!Initialized || index > Highest)
        {
            return true;
        }

        var delta = Highest - index;
        return delta < Size && (Bitmap & (1UL << (int)delta)) == 0;
    }

    /// <summary>Records an authenticated index.</summary>
    public void Accept(ulong index)
    {
        if (!Initialized)
        {
            Initialized = true;
            Highest = index;
            Bitmap = 1;
            return;
        }

        if (index > Highest)
        {
            var shift = index - Highest;
            Bitmap = shift >= Size ? 1 : (Bitmap << (int)shift) | 1;
            Highest = index;
        }
        else
        {
            Bitmap |= 1UL << (int)(Highest - index);
        }
    }
}
