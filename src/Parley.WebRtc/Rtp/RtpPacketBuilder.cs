using System.Buffers.Binary;

namespace Parley.WebRtc.Rtp;

/// <summary>
/// Writes an RTP packet (RFC 3550 §5.1) into a caller-provided buffer: header, optional RFC 8285
/// extensions, payload, optional padding. Call in that order. Throws only when the caller's buffer
/// is too small or the calls are out of order (programming errors).
/// </summary>
public ref struct RtpPacketBuilder
{
    private readonly Span<byte> _buffer;
    private int _length;
    private int _extensionStart = -1;
    private bool _twoByte;
    private bool _extensionsClosed;

    public RtpPacketBuilder(Span<byte> buffer, byte payloadType, ushort sequenceNumber, uint timestamp, uint ssrc, bool marker = false, ReadOnlySpan<uint> csrcs = default)
    {
        if (csrcs.Length > 15)
        {
            throw new ArgumentException("At most 15 CSRCs.", nameof(csrcs));
        }

        var length = RtpPacket.FixedHeaderLength + (4 * csrcs.Length);
        if (buffer.Length < length)
        {
            throw new ArgumentException("The buffer is too small for the RTP header.", nameof(buffer));
        }

        _buffer = buffer;
        buffer[0] = (byte)(0x80 | csrcs.Length);
        buffer[1] = (byte)((marker ? 0x80 : 0) | (payloadType & 0x7F));
        BinaryPrimitives.WriteUInt16BigEndian(buffer[2..], sequenceNumber);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[4..], timestamp);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[8..], ssrc);
        for (var i = 0; i < csrcs.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(buffer[(12 + (4 * i))..], csrcs[i]);
        }

        _length = length;
    }

    /// <summary>The packet so far; an open extension block counts with its padding to 32 bits.</summary>
    public readonly int Length => _extensionsClosed || _extensionStart < 0 ? _length : PaddedExtensionEnd;

    public readonly ReadOnlySpan<byte> Written => _buffer[..Length];

    private readonly int PaddedExtensionEnd => _extensionStart + ((_length - _extensionStart + 3) & ~3);

    /// <summary>
    /// Adds one extension element. The first call opens the block; the one-byte form is used unless
    /// <paramref name="twoByteForm"/> is set on the first call (needed for ids above 14, values over
    /// 16 bytes, or empty values; RFC 8285 §4.3).
    /// </summary>
    public void AddExtension(int id, scoped ReadOnlySpan<byte> value, bool twoByteForm = false)
    {
        if (_extensionsClosed)
        {
            throw new InvalidOperationException("Extensions come before the payload.");
        }

        if (_extensionStart < 0)
        {
            Ensure(4);
            _twoByte = twoByteForm;
            _buffer[0] |= 0x10;
            BinaryPrimitives.WriteUInt16BigEndian(_buffer[_length..], _twoByte ? RtpPacket.TwoByteExtensionProfile : RtpPacket.OneByteExtensionProfile);
            _length += 4;
            _extensionStart = _length;
        }

        if (_twoByte)
        {
            if (id is < 1 or > 255 || value.Length > 255)
            {
                throw new ArgumentOutOfRangeException(nameof(id), "Two-byte form: id 1..255, up to 255 bytes.");
            }

            Ensure(2 + value.Length);
            _buffer[_length] = (byte)id;
            _buffer[_length + 1] = (byte)value.Length;
            value.CopyTo(_buffer[(_length + 2)..]);
            _length += 2 + value.Length;
        }
        else
        {
            if (id is < 1 or > 14 || value.Length is < 1 or > 16)
            {
                throw new ArgumentOutOfRangeException(nameof(id), "One-byte form: id 1..14, 1..16 bytes.");
            }

            Ensure(1 + value.Length);
            _buffer[_length] = (byte)((id << 4) | (value.Length - 1));
            value.CopyTo(_buffer[(_length + 1)..]);
            _length += 1 + value.Length;
        }

        // Keep the block well formed after every element, so Written is a valid packet even if no
        // payload follows (a padding-only probe, a header-only keep-alive).
        var end = PaddedExtensionEnd;
        Ensure(end - _length);
        _buffer[_length..end].Clear();
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[(_extensionStart - 2)..], (ushort)((end - _extensionStart) / 4));
    }

    /// <summary>Appends the payload (closing the extension block, padded with zero bytes to 32 bits).</summary>
    public void AddPayload(scoped ReadOnlySpan<byte> payload)
    {
        CloseExtensions();
        Ensure(payload.Length);
        payload.CopyTo(_buffer[_length..]);
        _length += payload.Length;
    }

    /// <summary>Appends <paramref name="count"/> padding bytes, the last holding the count (RFC 3550 §5.1).</summary>
    public void AddPadding(int count)
    {
        CloseExtensions();
        if (count is < 1 or > 255)
        {
            throw new ArgumentOutOfRangeException(nameof(count), "Padding is 1..255 bytes.");
        }

        Ensure(count);
        _buffer.Slice(_length, count - 1).Clear();
        _buffer[_length + count - 1] = (byte)count;
        _buffer[0] |= 0x20;
        _length += count;
    }

    private void CloseExtensions()
    {
        if (_extensionsClosed)
        {
            return;
        }

        _extensionsClosed = true;
        if (_extensionStart < 0)
        {
            return;
        }

        _length = PaddedExtensionEnd; // padding and length were written by the last AddExtension
    }

    private readonly void Ensure(int bytes)
    {
        if (_buffer.Length - _length < bytes)
        {
            throw new InvalidOperationException("The RTP buffer is too small.");
        }
    }
}
