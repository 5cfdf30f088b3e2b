namespace Parley.WebRtc.Rtcp;

/// <summary>
/// Receiver side of transport-wide congestion control (draft-holmer-rmcat-transport-wide-cc-extensions-01
/// §3): remembers when each transport sequence number arrived and turns what arrived since the last
/// feedback into a transport-cc RTCP packet. Without such feedback Chrome's sender stays near its start
/// bitrate (interop notes). Call <see cref="Build"/> every 50–100 ms. No allocation per packet.
/// Not thread-safe: the receive loop owns it.
/// </summary>
public sealed class TransportFeedbackRecorder
{
    // A ring of arrival times indexed by extended sequence number; 4,096 covers ~4 s at 1,000 packets/s.
    private const int Window = 4096;
    private readonly long[] _arrivals = new long[Window];
    private readonly TransportFeedbackPacket[] _scratch = new TransportFeedbackPacket[Window];
    private long _highest = -1;
    private long _nextToReport = -1;
    private byte _feedbackCount;

    /// <summary>Records a packet's transport-wide sequence number and its arrival time.</summary>
    public void OnPacket(ushort transportSequenceNumber, long arrivalMicroseconds)
    {
        long extended;
        if (_highest < 0)
        {
            extended = transportSequenceNumber;
            _nextToReport = extended;
        }
        else
        {
            // Unwrap relative to the highest seen: the nearest value with these low 16 bits.
            var delta = (short)(transportSequenceNumber - (ushort)_highest);
            extended = _highest + delta;
            if (extended < _nextToReport)
            {
                return; // already reported (or older): nothing to add
            }
        }

        if (extended > _highest)
        {
            // Slots between the old highest and this one have not arrived (yet).
            for (var s = Math.Max(_highest + 1, extended - Window + 1); s < extended; s++)
            {
                _arrivals[s % Window] = -1;
            }

            _highest = extended;
            if (_highest - _nextToReport >= Window)
            {
                _nextToReport = _highest - Window + 1; // too far behind: give up on the oldest
            }
        }

        _arrivals[extended % Window] = arrivalMicroseconds;
    }

    /// <summary>
    /// Writes feedback for everything not yet reported into <paramref name="destination"/> (give it at
    /// least 1,200 bytes); returns its length, or 0 when there is nothing to report. The deltas are in
    /// 250 µs ticks; a gap longer than a 16-bit delta can hold ends the message early (the rest goes
    /// in the next one).
    /// </summary>
    public int Build(Span<byte> destination, uint senderSsrc, uint mediaSsrc)
    {
        if (_highest < 0 || _nextToReport > _highest)
        {
            return 0;
        }

        // Skip leading losses: feedback starts at a received packet, which sets the reference time.
        while (_nextToReport <= _highest && _arrivals[_nextToReport % Window] < 0)
        {
            _nextToReport++;
        }

        if (_nextToReport > _highest)
        {
            return 0;
        }

        var first = _arrivals[_nextToReport % Window];
        var referenceTime = first / 64_000; // 64 ms units
        var previous = referenceTime * 64_000;

        // Each packet costs at most 2 delta bytes and 2/7 of a chunk: budget against the buffer.
        var maxPackets = Math.Min(Window, (destination.Length - 20 - 3) * 7 / 16);
        var count = 0;
        for (var s = _nextToReport; s <= _highest && count < maxPackets; s++, count++)
        {
            var arrival = _arrivals[s % Window];
            if (arrival < 0)
            {
                _scratch[count] = new TransportFeedbackPacket((ushort)s, false, 0);
                continue;
            }

            var ticks = (arrival - previous) / TransportFeedbackPacket.MicrosecondsPerTick;
            if (ticks is < short.MinValue or > short.MaxValue)
            {
                break;
            }

            _scratch[count] = new TransportFeedbackPacket((ushort)s, true, (int)ticks);
            previous += ticks * TransportFeedbackPacket.MicrosecondsPerTick; // stay on the tick grid the receiver sums
        }

        var length = RtcpTransportFeedback.Write(destination, senderSsrc, mediaSsrc, (int)(referenceTime & 0xFFFFFF), _feedbackCount++, _scratch.AsSpan(0, count));
        _nextToReport += count;
        return length;
    }
}
