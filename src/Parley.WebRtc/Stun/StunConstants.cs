namespace Parley.WebRtc.Stun;

/// <summary>STUN message classes (RFC 8489 §5): the two class bits C1 C0 of the message type.</summary>
public enum StunClass
{
    Request = 0,
    Indication = 1,
    SuccessResponse = 2,
    ErrorResponse = 3,
}

/// <summary>STUN methods Parley uses (RFC 8489 §18.2). ICE needs only Binding.</summary>
public static class StunMethod
{
    public const ushort Binding = 0x001;
}

/// <summary>Attribute types (RFC 8489 §18.3, RFC 8445 §16.1).</summary>
public static class StunAttributeType
{
    public const ushort MappedAddress = 0x0001;
    public const ushort Username = 0x0006;
    public const ushort MessageIntegrity = 0x0008;
    public const ushort ErrorCode = 0x0009;
    public const ushort UnknownAttributes = 0x000A;
    public const ushort Realm = 0x0014;
    public const ushort Nonce = 0x0015;
    public const ushort MessageIntegritySha256 = 0x001C;
    public const ushort XorMappedAddress = 0x0020;
    public const ushort Priority = 0x0024;
    public const ushort UseCandidate = 0x0025;
    public const ushort Software = 0x8022;
    public const ushort Fingerprint = 0x8028;
    public const ushort IceControlled = 0x8029;
    public const ushort IceControlling = 0x802A;
}

/// <summary>Message type values and protocol constants.</summary>
public static class StunMessageType
{
    public const ushort BindingRequest = 0x0001;
    public const ushort BindingIndication = 0x0011;
    public const ushort BindingSuccessResponse = 0x0101;
    public const ushort BindingErrorResponse = 0x0111;

    /// <summary>RFC 8489 §5: the fixed value in bytes 4..7 that tells STUN from other protocols.</summary>
    public const uint MagicCookie = 0x2112A442;

    public const int HeaderLength = 20;
    public const int TransactionIdLength = 12;

    /// <summary>RFC 8489 §14.7: CRC-32 of the message XORed with this value ("STUN").</summary>
    public const uint FingerprintXor = 0x5354554E;

    /// <summary>
    /// Message type from method and class (RFC 8489 §5): the class bits sit at positions 4 and 8,
    /// interleaved with the 12 method bits.
    /// </summary>
    public static ushort Compose(ushort method, StunClass stunClass)
    {
        var c = (int)stunClass;
        var type = (method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2)
            | ((c & 1) << 4) | ((c & 2) << 7);
        return (ushort)type;
    }

    public static ushort MethodOf(ushort messageType) =>
        (ushort)((messageType & 0x000F) | ((messageType & 0x00E0) >> 1) | ((messageType & 0x3E00) >> 2));

    public static StunClass ClassOf(ushort messageType) =>
        (StunClass)(((messageType >> 4) & 1) | ((messageType >> 7) & 2));
}
