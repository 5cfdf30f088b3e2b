namespace Parley.Sfu.Routing;

/// <summary>
/// Coalesces keyframe requests towards one publisher stream. An SFU cannot make keyframes: every subscriber
/// that joins, switches layer or loses a picture makes it ask the publisher with PLI (RFC 4585 §6.3.1) or
/// FIR (RFC 5104 §4.3.1), and without a limit a room of subscribers would make the encoder send a keyframe
/// (tens of kilobytes) for each of them.
/// <para>
/// A request is let through when none is outstanding; while one is outstanding, again only after
/// <see cref="MinInterval"/> (the request or the keyframe may have been lost). A keyframe arriving
/// (<see cref="OnKeyframe"/>) closes the outstanding request, so the next need is served at once.
/// </para>
/// <para>
/// Default interval 500 ms: LiveKit throttles PLI per track to 500 ms for its lowest simulcast layer and 1 s
/// for the others; mediasoup keeps one request pending and repeats it after 1 s without a keyframe. A
/// browser answers a PLI within a round trip plus one frame (well under 500 ms on a working path), so a
/// shorter interval mostly duplicates keyframes already on their way, and a longer one leaves a viewer
/// frozen longer when a keyframe is lost. Since a keyframe resets the limiter, the interval only paces
/// repetitions.
/// </para>
/// Not thread-safe: owned by the worker thread of the publisher stream.
/// </summary>
public sealed class KeyframeRequestLimiter
{
    private readonly long _minIntervalMilliseconds;
    private long _lastRequestMilliseconds;
    private byte _firSequence;

    /// <param name="minInterval">Shortest time between two requests while no keyframe arrived; 500 ms by default.</param>
    public KeyframeRequestLimiter(TimeSpan? minInterval = null)
    {
        MinInterval = minInterval ?? TimeSpan.FromMilliseconds(500);
        ArgumentOutOfRangeException.ThrowIfLessThan(MinInterval, TimeSpan.Zero, nameof(minInterval));
        _minIntervalMilliseconds = (long)MinInterval.TotalMilliseconds;
    }

    public TimeSpan MinInterval { get; }

    /// <summary>True while a request has been let through and no keyframe has arrived since.</summary>
    public bool Pending { get; private set; }

    /// <summary>Time of the last <see cref="OnKeyframe"/>, or null if none arrived yet.</summary>
    public long? LastKeyframeMilliseconds { get; private set; }

    /// <summary>
    /// True when the caller should send a keyframe request now (and it is then counted as sent); false when
    /// an earlier request is still outstanding and younger than <see cref="MinInterval"/>.
    /// </summary>
    public bool ShouldRequest(long nowMilliseconds)
    {
        if (Pending && nowMilliseconds - _lastRequestMilliseconds < _minIntervalMilliseconds)
        {
            return false;
        }

        Pending = true;
        _lastRequestMilliseconds = nowMilliseconds;
        return true;
    }

    /// <summary>A keyframe arrived from the publisher: the outstanding request is answered.</summary>
    public void OnKeyframe(long nowMilliseconds)
    {
        Pending = false;
        LastKeyframeMilliseconds = nowMilliseconds;
    }

    /// <summary>
    /// The command sequence number for the next FIR (RFC 5104 §4.3.1.1: increased by 1 modulo 256 for each
    /// new command); the first call returns 0. Call it once per FIR actually sent: a FIR repeated because no
    /// keyframe came must still carry a new number, because libwebrtc ignores a FIR whose number equals the
    /// last one it handled, so a repeated number would never produce the keyframe.
    /// </summary>
    public byte NextFirSequence() => _firSequence++;
}
