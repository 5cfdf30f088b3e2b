using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;

namespace Parley.WebRtc.Stun;

/// <summary>
/// A parsed STUN message: a view over the datagram, no copy. Parse with <see cref="TryParse"/>,
/// then check <see cref="VerifyFingerprint"/> and <see cref="VerifyMessageIntegrity"/> before trusting it.
/// </summary>
public readonly ref struct StunMessage
{
    private readonly int _usernameOffset;
    private readonly int _usernameLength;
    private readonly int _integrityOffset;
    private readonly int _fingerprintOffset;
    private readonly int _xorMappedOffset;
    private readonly int _xorMappedLength;
    private readonly int _errorOffset;
    private readonly int _errorLength;

    private StunMessage(ReadOnlySpan<byte> buffer, scoped in Fields f)
    {
        Buffer = buffer;
        MessageType = f.MessageType;
        _usernameOffset = f.UsernameOffset;
        _usernameLength = f.UsernameLength;
        _integrityOffset = f.IntegrityOffset;
        _fingerprintOffset = f.FingerprintOffset;
        _xorMappedOffset = f.XorMappedOffset;
        _xorMappedLength = f.XorMappedLength;
        _errorOffset = f.ErrorOffset;
        _errorLength = f.ErrorLength;
        Priority = f.Priority;
        HasPriority = f.HasPriority;
        UseCandidate = f.UseCandidate;
        IceControlling = f.IceControlling;
        HasIceControlling = f.HasIceControlling;
        IceControlled = f.IceControlled;
        HasIceControlled = f.HasIceControlled;
        UnknownComprehensionRequired = f.UnknownComprehensionRequired;
    }

    /// <summary>The whole message as received.</summary>
    public ReadOnlySpan<byte> Buffer { get; }

    public ushort MessageType { get; }

    public ushort Method => StunMessageType.MethodOf(MessageType);

    public StunClass Class => StunMessageType.ClassOf(MessageType);

    public ReadOnlySpan<byte> TransactionId => Buffer.Slice(8, StunMessageType.TransactionIdLength);

    public bool HasUsername => _usernameOffset >= 0;

    /// <summary>USERNAME value (UTF-8, for ICE "remoteUfrag:localUfrag" as the receiver sees it).</summary>
    public ReadOnlySpan<byte> Username => HasUsername ? Buffer.Slice(_usernameOffset, _usernameLength) : default;

    public bool HasMessageIntegrity => _integrityOffset >= 0;

    public bool HasFingerprint => _fingerprintOffset >= 0;

    public bool HasXorMappedAddress => _xorMappedOffset >= 0;

    public bool HasErrorCode => _errorOffset >= 0;

    public uint Priority { get; }

    public bool HasPriority { get; }

    public bool UseCandidate { get; }

    public ulong IceControlling { get; }

    public bool HasIceControlling { get; }

    public ulong IceControlled { get; }

    public bool HasIceControlled { get; }

    /// <summary>
    /// The first comprehension-required attribute (type below 0x8000) this parser does not know, or 0.
    /// A server answers such a request with 420 (RFC 8489 §6.3.1); the attribute itself was skipped.
    /// </summary>
    public ushort UnknownComprehensionRequired { get; }

    /// <summary>
    /// Parses a STUN message (RFC 8489 §5, §14). Never throws; returns false for anything that is
    /// not a well-formed STUN message. Unknown attributes are skipped; attributes after
    /// MESSAGE-INTEGRITY other than FINGERPRINT are ignored (§14.5); FINGERPRINT must be last (§14.7).
    /// <code>
    ///  0                   1                   2                   3
    ///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |0 0|     STUN Message Type     |         Message Length        |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |                         Magic Cookie                          |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |                     Transaction ID (96 bits)                  |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// then attributes, each:
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |         Type                  |            Length             |
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// |                 Value (variable, padded to 4 bytes)        ....
    /// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /// </code>
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> packet, out StunMessage message)
    {
        message = default;
        if (packet.Length < StunMessageType.HeaderLength)
        {
            return false;
        }

        var type = BinaryPrimitives.ReadUInt16BigEndian(packet);
        var length = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        if ((type & 0xC000) != 0
            || BinaryPrimitives.ReadUInt32BigEndian(packet[4..]) != StunMessageType.MagicCookie
            || (length & 3) != 0
            || StunMessageType.HeaderLength + length != packet.Length)
        {
            return false;
        }

        var f = new Fields
        {
            MessageType = type,
            UsernameOffset = -1,
            IntegrityOffset = -1,
            FingerprintOffset = -1,
            XorMappedOffset = -1,
            ErrorOffset = -1,
        };

        var offset = StunMessageType.HeaderLength;
        while (offset < packet.Length)
        {
            if (f.FingerprintOffset >= 0 || packet.Length - offset < 4)
            {
                return false; // FINGERPRINT must be last; a truncated attribute header is malformed.
            }

            var attrType = BinaryPrimitives.ReadUInt16BigEndian(packet[offset..]);
            var attrLength = BinaryPrimitives.ReadUInt16BigEndian(packet[(offset + 2)..]);
            var valueOffset = offset + 4;
            var padded = (attrLength + 3) & ~3;
            if (padded > packet.Length - valueOffset)
            {
                return false;
            }

            var value = packet.Slice(valueOffset, attrLength);
            if (attrType == StunAttributeType.Fingerprint)
            {
                if (attrLength != 4)
                {
                    return false;
                }

                f.FingerprintOffset = offset;
            }
            else if (f.IntegrityOffset < 0 && !ReadAttribute(attrType, value, valueOffset, offset, ref f))
            {
                return false;
            }

            offset = valueOffset + padded;
        }

        message = new StunMessage(packet, f);
        return true;
    }

    private static bool ReadAttribute(ushort attrType, ReadOnlySpan<byte> value, int valueOffset, int offset, ref Fields f)
    {
        switch (attrType)
        {
            case StunAttributeType.Username:
                // RFC 8489 §14.3: fewer than 509 bytes.
                if (value.Length > 508)
                {
                    return false;
                }

                if (f.UsernameOffset < 0)
                {
                    f.UsernameOffset = valueOffset;
                    f.UsernameLength = value.Length;
                }

                return true;
            case StunAttributeType.MessageIntegrity:
                if (value.Length != 20)
                {
                    return false;
                }

                f.IntegrityOffset = offset;
                return true;
            case StunAttributeType.XorMappedAddress:
                if (value.Length != 8 && value.Length != 20)
                {
                    return false;
                }

                if (f.XorMappedOffset < 0)
                {
                    f.XorMappedOffset = valueOffset;
                    f.XorMappedLength = value.Length;
                }

                return true;
            case StunAttributeType.ErrorCode:
                if (value.Length < 4)
                {
                    return false;
                }

                if (f.ErrorOffset < 0)
                {
                    f.ErrorOffset = valueOffset;
                    f.ErrorLength = value.Length;
                }

                return true;
            case StunAttributeType.Priority:
                if (value.Length != 4)
                {
                    return false;
                }

                f.Priority = BinaryPrimitives.ReadUInt32BigEndian(value);
                f.HasPriority = true;
                return true;
            case StunAttributeType.UseCandidate:
                f.UseCandidate = value.Length == 0;
                return value.Length == 0;
            case StunAttributeType.IceControlling:
                if (value.Length != 8)
                {
                    return false;
                }

                f.IceControlling = BinaryPrimitives.ReadUInt64BigEndian(value);
                f.HasIceControlling = true;
                return true;
            case StunAttributeType.IceControlled:
                if (value.Length != 8)
                {
                    return false;
                }

                f.IceControlled = BinaryPrimitives.ReadUInt64BigEndian(value);
                f.HasIceControlled = true;
                return true;
            case StunAttributeType.Software:
            case StunAttributeType.MappedAddress:
            case StunAttributeType.Realm:
            case StunAttributeType.Nonce:
            case StunAttributeType.UnknownAttributes:
            case StunAttributeType.MessageIntegritySha256:
                return true;
            default:
                if (attrType < 0x8000 && f.UnknownComprehensionRequired == 0)
                {
                    f.UnknownComprehensionRequired = attrType;
                }

                return true;
        }
    }

    /// <summary>
    /// Checks FINGERPRINT (RFC 8489 §14.7): CRC-32 of everything before the attribute, XOR 0x5354554E.
    /// The header length already covers FINGERPRINT because it is the last attribute.
    /// </summary>
    public bool VerifyFingerprint()
    {
        if (_fingerprintOffset < 0)
        {
            return false;
        }

        var expected = BinaryPrimitives.ReadUInt32BigEndian(Buffer[(_fingerprintOffset + 4)..]);
        return (Crc32.Compute(Buffer[.._fingerprintOffset]) ^ StunMessageType.FingerprintXor) == expected;
    }

    /// <summary>
    /// Checks MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1 over the message up to the attribute, with the
    /// header length rewritten to end just after MESSAGE-INTEGRITY. For ICE the key is the
    /// UTF-8 ice-pwd (short-term credentials, §9.1.1). Compares in constant time.
    /// </summary>
    public bool VerifyMessageIntegrity(ReadOnlySpan<byte> key)
    {
        if (_integrityOffset < 0)
        {
            return false;
        }

        var covered = _integrityOffset;
        byte[]? rented = null;
        var copy = covered <= 1024 ? stackalloc byte[covered] : (rented = ArrayPool<byte>.Shared.Rent(covered)).AsSpan(0, covered);
        try
        {
            Buffer[..covered].CopyTo(copy);
            BinaryPrimitives.WriteUInt16BigEndian(copy[2..], (ushort)(covered + 24 - StunMessageType.HeaderLength));
            Span<byte> mac = stackalloc byte[20];
            HMACSHA1.HashData(key, copy, mac);
            return CryptographicOperations.FixedTimeEquals(mac, Buffer.Slice(_integrityOffset + 4, 20));
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// Reads XOR-MAPPED-ADDRESS (RFC 8489 §14.2) into <paramref name="address"/> (4 or 16 bytes written)
    /// without allocating. The port is XORed with the top 16 bits of the magic cookie, the address with
    /// the cookie (IPv4) or the cookie followed by the transaction id (IPv6).
    /// <code>
    /// |0 0 0 0 0 0 0 0|    Family     |         X-Port                |
    /// |                X-Address (Variable)                           |
    /// </code>
    /// </summary>
    public bool TryGetXorMappedAddress(Span<byte> address, out int addressLength, out ushort port)
    {
        addressLength = 0;
        port = 0;
        if (_xorMappedOffset < 0)
        {
            return false;
        }

        var value = Buffer.Slice(_xorMappedOffset, _xorMappedLength);
        var family = value[1];
        var expectedLength = family == 1 ? 4 : family == 2 ? 16 : -1;
        if (expectedLength < 0 || value.Length != 4 + expectedLength || address.Length < expectedLength)
        {
            return false;
        }

        port = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(value[2..]) ^ (StunMessageType.MagicCookie >> 16));
        var mask = Buffer.Slice(4, 16); // magic cookie then transaction id
        for (var i = 0; i < expectedLength; i++)
        {
            address[i] = (byte)(value[4 + i] ^ mask[i]);
        }

        addressLength = expectedLength;
        return true;
    }

    /// <summary>Convenience for clients: the mapped address as an endpoint (allocates).</summary>
    public IPEndPoint? GetXorMappedEndPoint()
    {
        Span<byte> address = stackalloc byte[16];
        return TryGetXorMappedAddress(address, out var length, out var port)
            ? new IPEndPoint(new IPAddress(address[..length]), port)
            : null;
    }

    /// <summary>
    /// Reads ERROR-CODE (RFC 8489 §14.8): class (hundreds) in 3 bits, number in 8 bits, then a UTF-8 reason.
    /// <code>
    /// |           Reserved, should be 0         |Class|     Number    |
    /// |      Reason Phrase (variable)                                ..
    /// </code>
    /// </summary>
    public bool TryGetErrorCode(out int code, out ReadOnlySpan<byte> reason)
    {
        code = 0;
        reason = default;
        if (_errorOffset < 0)
        {
            return false;
        }

        var value = Buffer.Slice(_errorOffset, _errorLength);
        var errorClass = value[2] & 0x07;
        var number = value[3];
        if (errorClass < 3 || errorClass > 6 || number > 99)
        {
            return false;
        }

        code = (errorClass * 100) + number;
        reason = value[4..];
        return true;
    }

    private struct Fields
    {
        public ushort MessageType;
        public int UsernameOffset;
        public int UsernameLength;
        public int IntegrityOffset;
        public int FingerprintOffset;
        public int XorMappedOffset;
        public int XorMappedLength;
        public int ErrorOffset;
        public int ErrorLength;
        public uint Priority;
        public bool HasPriority;
        public bool UseCandidate;
        public ulong IceControlling;
        public bool HasIceControlling;
        public ulong IceControlled;
        public bool HasIceControlled;
        public ushort UnknownComprehensionRequired;
    }
}
