using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Parley.WebRtc.Stun;

/// <summary>
/// Writes a STUN message (RFC 8489 §5, §14) into a caller-provided buffer, attribute by attribute.
/// Add MESSAGE-INTEGRITY and then FINGERPRINT last. Throws only on programming errors (a buffer too
/// small for what the caller asked to write), never on input from the network.
/// </summary>
public ref struct StunMessageBuilder
{
    private readonly Span<byte> _buffer;
    private int _length;

    public StunMessageBuilder(Span<byte> buffer, ushort messageType, ReadOnlySpan<byte> transactionId)
    {
        if (buffer.Length < StunMessageType.HeaderLength)
        {
            throw new ArgumentException("A STUN message needs at least 20 bytes.", nameof(buffer));
        }

        if (transactionId.Length != StunMessageType.TransactionIdLength)
        {
            throw new ArgumentException("A transaction id is 12 bytes.", nameof(transactionId));
        }

        _buffer = buffer;
        BinaryPrimitives.WriteUInt16BigEndian(buffer, messageType);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[2..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[4..], StunMessageType.MagicCookie);
        transactionId.CopyTo(buffer[8..]);
        _length = StunMessageType.HeaderLength;
    }

    /// <summary>The byte written into attribute padding; RFC 8489 says 0, RFC 5769's vectors use 0x20.</summary>
    public byte PaddingByte { get; set; }

    public readonly int Length => _length;

    public readonly ReadOnlySpan<byte> Written => _buffer[.._length];

    /// <summary>Fills <paramref name="transactionId"/> with 96 random bits (RFC 8489 §6: uniform and random).</summary>
    public static void NewTransactionId(Span<byte> transactionId) => RandomNumberGenerator.Fill(transactionId[..StunMessageType.TransactionIdLength]);

    public void AddUsername(scoped ReadOnlySpan<byte> username) => AddAttribute(StunAttributeType.Username, username);

    public void AddUsername(string username)
    {
        Span<byte> bytes = stackalloc byte[Encoding.UTF8.GetByteCount(username)];
        Encoding.UTF8.GetBytes(username, bytes);
        AddAttribute(StunAttributeType.Username, bytes);
    }

    public void AddSoftware(string software)
    {
        Span<byte> bytes = stackalloc byte[Encoding.UTF8.GetByteCount(software)];
        Encoding.UTF8.GetBytes(software, bytes);
        AddAttribute(StunAttributeType.Software, bytes);
    }

    public void AddPriority(uint priority)
    {
        Span<byte> value = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(value, priority);
        AddAttribute(StunAttributeType.Priority, value);
    }

    public void AddUseCandidate() => AddAttribute(StunAttributeType.UseCandidate, []);

    public void AddIceControlling(ulong tieBreaker) => AddUInt64(StunAttributeType.IceControlling, tieBreaker);

    public void AddIceControlled(ulong tieBreaker) => AddUInt64(StunAttributeType.IceControlled, tieBreaker);

    /// <summary>XOR-MAPPED-ADDRESS (RFC 8489 §14.2) from raw address bytes (4 for IPv4, 16 for IPv6).</summary>
    public void AddXorMappedAddress(scoped ReadOnlySpan<byte> address, ushort port)
    {
        if (address.Length != 4 && address.Length != 16)
        {
            throw new ArgumentException("An address is 4 or 16 bytes.", nameof(address));
        }

        Span<byte> value = stackalloc byte[4 + address.Length];
        value[0] = 0;
        value[1] = (byte)(address.Length == 4 ? 1 : 2);
        BinaryPrimitives.WriteUInt16BigEndian(value[2..], (ushort)(port ^ (StunMessageType.MagicCookie >> 16)));
        var mask = _buffer.Slice(4, 16); // magic cookie then transaction id, already written
        for (var i = 0; i < address.Length; i++)
        {
            value[4 + i] = (byte)(address[i] ^ mask[i]);
        }

        AddAttribute(StunAttributeType.XorMappedAddress, value);
    }

    public void AddXorMappedAddress(IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var written) || (address.AddressFamily != AddressFamily.InterNetwork && address.AddressFamily != AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException("Only IPv4 and IPv6 addresses are supported.", nameof(address));
        }

        AddXorMappedAddress(bytes[..written], (ushort)port);
    }

    /// <summary>ERROR-CODE (RFC 8489 §14.8), for example 400 Bad Request, 401 Unauthorized, 487 Role Conflict.</summary>
    public void AddErrorCode(int code, string reason)
    {
        if (code < 300 || code > 699)
        {
            throw new ArgumentOutOfRangeException(nameof(code), code, "STUN error codes are 300..699.");
        }

        ArgumentNullException.ThrowIfNull(reason);
        var reasonLength = Encoding.UTF8.GetByteCount(reason);
        Span<byte> value = stackalloc byte[4 + reasonLength];
        value[0] = 0;
        value[1] = 0;
        value[2] = (byte)(code / 100);
        value[3] = (byte)(code % 100);
        Encoding.UTF8.GetBytes(reason, value[4..]);
        AddAttribute(StunAttributeType.ErrorCode, value);
    }

    /// <summary>
    /// MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1 keyed with <paramref name="key"/> over the message so
    /// far, with the header length already counting this attribute.
    /// </summary>
    public void AddMessageIntegrity(scoped ReadOnlySpan<byte> key)
    {
        EnsureRoom(24);
        SetHeaderLength(_length + 24);
        Span<byte> mac = stackalloc byte[20];
        HMACSHA1.HashData(key, _buffer[.._length], mac);
        AddAttribute(StunAttributeType.MessageIntegrity, mac);
    }

    /// <summary>FINGERPRINT (RFC 8489 §14.7); must be the last attribute.</summary>
    public void AddFingerprint()
    {
        EnsureRoom(8);
        SetHeaderLength(_length + 8);
        var crc = Crc32.Compute(_buffer[.._length]) ^ StunMessageType.FingerprintXor;
        Span<byte> value = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(value, crc);
        AddAttribute(StunAttributeType.Fingerprint, value);
    }

    /// <summary>Any attribute: type, length, value, padding to a multiple of 4 (RFC 8489 §14).</summary>
    public void AddAttribute(ushort type, scoped ReadOnlySpan<byte> value)
    {
        if (value.Length > ushort.MaxValue)
        {
            throw new ArgumentException("An attribute value is at most 65535 bytes.", nameof(value));
        }

        var padded = (value.Length + 3) & ~3;
        EnsureRoom(4 + padded);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[_length..], type);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[(_length + 2)..], (ushort)value.Length);
        value.CopyTo(_buffer[(_length + 4)..]);
        _buffer.Slice(_length + 4 + value.Length, padded - value.Length).Fill(PaddingByte);
        _length += 4 + padded;
        SetHeaderLength(_length);
    }

    private void AddUInt64(ushort type, ulong value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        AddAttribute(type, bytes);
    }

    private readonly void SetHeaderLength(int totalLength) =>
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[2..], (ushort)(totalLength - StunMessageType.HeaderLength));

    private readonly void EnsureRoom(int bytes)
    {
        if (_buffer.Length - _length < bytes)
        {
            throw new InvalidOperationException("The STUN buffer is too small for this attribute.");
        }
    }
}
