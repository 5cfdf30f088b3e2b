namespace Parley.Bots.Recording;

/// <summary>
/// Extends 32-bit RTP timestamps to 64 bits (RFC 3550 §5.1: the timestamp wraps, at 90 kHz every 13.3 hours,
/// and starts at a random value). Each timestamp is taken as the closest value to the previous one, so the
/// wrap needs no special case and small steps back (reordering) stay small. A value type: no allocation.
/// </summary>
public struct RtpTimestampUnwrapper
{
    private bool _started;
    private long _last;

    public bool HasStarted => _started;

    /// <summary>The extended value; the first timestamp extends to itself.</summary>
    public long Unwrap(uint timestamp)
    {
        if (!_started)
        {
            _started = true;
            _last = timestamp;
            return _last;
        }

        _last += (int)(timestamp - (uint)_last);
        return _last;
    }

    /// <summary>Forgets the history: the next timestamp starts a new space (new SSRC).</summary>
    public void Reset() => _started = false;
}
