namespace Parley.Sfu.Routing;

/// <summary>
/// Copies of the most recent packets of ONE RTP stream, kept so that a generic NACK (RFC 4585 §6.2.1) from a
/// subscriber can be answered by retransmitting the original bytes (RFC 4588 §4 wraps them for RTX).
/// <para>
/// Slots are preallocated: one flat array of <see cref="Capacity"/> × <see cref="MaxPacketSize"/> bytes,
/// allocated on the first <see cref="Store"/> (an audio-only or never-NACKed stream costs nothing until
/// then), never again. Packet <c>n</c> lives in slot <c>n mod Capacity</c>; the capacity is a power of two
/// so that the 16-bit sequence space (2^16) is a whole number of rounds and a wrap from 65535 to 0 lands
/// in the next slot instead of skipping part of the ring.
/// </para>
/// Not thread-safe: owned by the worker thread that forwards the stream.
/// </summary>
public sealed class RetransmissionBuffer
{
    /// <summary>Ethernet MTU: WebRTC senders keep RTP packets below it (libwebrtc aims at ~1,200 bytes).</summary>
    public const int DefaultMaxPacketSize = 1500;

    // Half of the sequence space: beyond that "older" and "newer" are ambiguous (RFC 3550 §A.1 arithmetic).
    private const int MaxCapacity = 1 << 15;

    private readonly int _mask;
    private readonly long _maxAgeMicroseconds;
    private readonly ushort[] _sequenceNumbers;
    private readonly int[] _lengths;             // 0 = empty slot
    private readonly long[] _storedAt;
    private byte[]? _data;

    /// <param name="capacity">Packets kept; rounded up to a power of two, at most 32768.</param>
    /// <param name="maxAge">How long a packet may be retransmitted; 1 s by default. A receiver's jitter
    /// buffer gives up on a packet well before that, so an older copy would only waste bandwidth.</param>
    /// <param name="maxPacketSize">Slot size; a larger packet is not stored.</param>
    public RetransmissionBuffer(int capacity = 1024, TimeSpan? maxAge = null, int maxPacketSize = DefaultMaxPacketSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, MaxCapacity);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPacketSize);
        var age = maxAge ?? TimeSpan.FromSeconds(1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(age, TimeSpan.Zero, nameof(maxAge));

        Capacity = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity);
        MaxPacketSize = maxPacketSize;
        _mask = Capacity - 1;
        _maxAgeMicroseconds = age.Ticks / TimeSpan.TicksPerMicrosecond;
        _sequenceNumbers = new ushort[Capacity];
        _lengths = new int[Capacity];
        _storedAt = new long[Capacity];
    }

    /// <summary>Number of slots (the requested capacity rounded up to a power of two).</summary>
    public int Capacity { get; }

    public int MaxPacketSize { get; }

    /// <summary>
    /// Packets held. Ageing is checked lazily in <see cref="TryGet"/>, so this includes packets older
    /// than the maximum age that no newer packet has overwritten yet.
    /// </summary>
    public int Count { get; private set; }

    /// <summary>
    /// Keeps a copy of <paramref name="rtpPacket"/> under <paramref name="sequenceNumber"/>. Ignored when the
    /// packet is empty or larger than a slot, when it is a duplicate of the packet held, or when the slot
    /// holds a newer, still fresh packet (a late arrival must not evict a packet that can still be NACKed).
    /// </summary>
    public void Store(ReadOnlySpan<byte> rtpPacket, ushort sequenceNumber, long nowMicroseconds)
    {
        if (rtpPacket.IsEmpty || rtpPacket.Length > MaxPacketSize)
        {
            return;
        }

        var slot = sequenceNumber & _mask;
        if (_lengths[slot] != 0)
        {
            var held = _sequenceNumbers[slot];
            var fresh = nowMicroseconds - _storedAt[slot] <= _maxAgeMicroseconds;
            // RFC 3550 §A.1 serial arithmetic: a negative 16-bit distance means "older than the held one".
            if (fresh && (held == sequenceNumber || (short)(ushort)(sequenceNumber - held) < 0))
            {
                return;
            }
        }
        else
        {
            Count++;
        }

        _data ??= new byte[Capacity * MaxPacketSize];
        rtpPacket.CopyTo(_data.AsSpan(slot * MaxPacketSize, MaxPacketSize));
        _sequenceNumbers[slot] = sequenceNumber;
        _lengths[slot] = rtpPacket.Length;
        _storedAt[slot] = nowMicroseconds;
    }

    /// <summary>
    /// Copies the packet stored under <paramref name="sequenceNumber"/> into <paramref name="destination"/>.
    /// False when it was never stored, was overwritten by a newer packet sharing its slot, is older than the
    /// maximum age, or does not fit <paramref name="destination"/>.
    /// </summary>
    public bool TryGet(ushort sequenceNumber, long nowMicroseconds, Span<byte> destination, out int length)
    {
        length = 0;
        var slot = sequenceNumber & _mask;
        var stored = _lengths[slot];
        if (stored == 0
            || _sequenceNumbers[slot] != sequenceNumber
            || nowMicroseconds - _storedAt[slot] > _maxAgeMicroseconds
            || stored > destination.Length)
        {
            return false;
        }

        _data!.AsSpan(slot * MaxPacketSize, stored).CopyTo(destination);
        length = stored;
        return true;
    }

    /// <summary>Forgets every packet (for example when the publisher's stream restarts); keeps the memory.</summary>
    public void Clear()
    {
        Array.Clear(_lengths);
        Count = 0;
    }
}
