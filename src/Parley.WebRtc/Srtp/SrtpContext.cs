using System.Buffers.Binary;
using System.Security.Cryptography;
using Parley.WebRtc.Rtp;

namespace Parley.WebRtc.Srtp;

/// <summary>
/// One direction of an SRTP session (RFC 3711, RFC 7714): protects outgoing or unprotects incoming
/// RTP and RTCP, in place, in the caller's buffer. Create one for sending and one for receiving from
/// the keys DTLS-SRTP exports (RFC 5764 §4.2). Tracks the rollover counter and the replay window per
/// SSRC. No allocation per packet once a stream's state exists. Not thread-safe: one owner at a time.
/// </summary>
public sealed class SrtpContext : IDisposable
{
    private const int HmacTagLength = 10;
    private const int GcmTagLength = 16;
    private const int RtcpHeaderLength = 8;
    private const uint EncryptedFlag = 0x80000000;

    private readonly int _tagLength;
    private readonly byte[] _rtpSalt;
    private readonly byte[] _rtcpSalt;
    private readonly AesCounterMode? _rtpCipher;
    private readonly AesCounterMode? _rtcpCipher;
    private readonly IncrementalHash? _rtpHmac;
    private readonly IncrementalHash? _rtcpHmac;
    private readonly AesGcm? _rtpGcm;
    private readonly AesGcm? _rtcpGcm;
    private readonly Dictionary<uint, StreamState> _streams = [];
    private uint _nextRtcpIndex;

    /// <summary>Derives the session keys from a master key and salt (RFC 3711 §4.3).</summary>
    public SrtpContext(SrtpProfile profile, ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> masterSalt)
        : this(profile, Derive(profile, masterKey, masterSalt))
    {
    }

    private SrtpContext(SrtpProfile profile, SessionKeys keys)
    {
        Profile = profile;
        _tagLength = SrtpProfiles.RtpOverhead(profile);
        _rtpSalt = keys.RtpSalt;
        _rtcpSalt = keys.RtcpSalt;
        if (profile == SrtpProfile.AeadAes128Gcm)
        {
            _rtpGcm = new AesGcm(keys.RtpKey, GcmTagLength);
            _rtcpGcm = new AesGcm(keys.RtcpKey, GcmTagLength);
        }
        else
        {
            _rtpCipher = new AesCounterMode(keys.RtpKey);
            _rtcpCipher = new AesCounterMode(keys.RtcpKey);
            _rtpHmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA1, keys.RtpAuthKey);
            _rtcpHmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA1, keys.RtcpAuthKey);
        }
    }

    public SrtpProfile Profile { get; }

    /// <summary>The SRTCP index the next protected RTCP packet gets (31 bits, RFC 3711 §3.4).</summary>
    internal uint NextRtcpIndex
    {
        get => _nextRtcpIndex;
        set => _nextRtcpIndex = value & 0x7FFFFFFF;
    }

    /// <summary>
    /// Forgets what was received (replay windows and ROC guesses) without allocating: lets a benchmark
    /// replay a fixed ring of packets. Never used on a live session, where it would reopen replays.
    /// </summary>
    internal void ResetReceiveState()
    {
        foreach (var state in _streams.Values)
        {
            state.Receive = default;
            state.ReceiveRtcp = default;
        }
    }

    /// <summary>Builds a context from session keys directly, as the RFC 7714 vectors give them.</summary>
    internal static SrtpContext FromSessionKeys(SrtpProfile profile, byte[] key, byte[] salt, byte[] authKey) =>
        new(profile, new SessionKeys(key, salt, authKey, key, salt, authKey));

    /// <summary>
    /// Encrypts and authenticates the RTP packet in <paramref name="buffer"/>[..<paramref name="length"/>]
    /// in place, appending the tag; the buffer needs <see cref="SrtpProfiles.RtpOverhead"/> spare bytes.
    /// <code>
    /// | RTP header (clear, authenticated) | payload (encrypted) | auth tag (80 bits HMAC or 128 bits GCM) |
    /// </code>
    /// </summary>
    public SrtpResult ProtectRtp(Span<byte> buffer, int length, out int protectedLength)
    {
        protectedLength = 0;
        if ((uint)length > (uint)buffer.Length || !RtpPacket.TryReadHeaderLength(buffer[..length], out var headerLength))
        {
            return SrtpResult.Malformed;
        }

        if (buffer.Length - length < _tagLength)
        {
            return SrtpResult.BufferTooSmall;
        }

        var ssrc = BinaryPrimitives.ReadUInt32BigEndian(buffer[8..]);
        var seq = BinaryPrimitives.ReadUInt16BigEndian(buffer[2..]);
        if (!_streams.TryGetValue(ssrc, out var state))
        {
            state = new StreamState();
            _streams.Add(ssrc, state);
        }

        // The sender keeps its own index so that its ROC follows sequence number wrap (RFC 3711 §3.3.1).
        if (!EstimateIndex(state.Send, seq, out var index))
        {
            index = seq; // cannot happen for a sender that started at ROC 0; keep ROC 0
        }

        state.Send.Accept(index);
        var roc = (uint)(index >> 16);
        var payload = buffer[headerLength..length];
        if (_rtpGcm is not null)
        {
            Span<byte> nonce = stackalloc byte[12];
            RtpGcmNonce(nonce, _rtpSalt, ssrc, roc, seq);
            _rtpGcm.Encrypt(nonce, payload, payload, buffer.Slice(length, GcmTagLength), buffer[..headerLength]);
        }
        else
        {
            Span<byte> iv = stackalloc byte[16];
            CounterIv(iv, _rtpSalt, ssrc, index);
            _rtpCipher!.Apply(iv, payload);
            RtpHmac(buffer, length, roc, buffer.Slice(length, HmacTagLength));
        }

        protectedLength = length + _tagLength;
        return SrtpResult.Ok;
    }

    /// <summary>
    /// Verifies and decrypts an SRTP packet in place. On <see cref="SrtpResult.Ok"/>,
    /// <paramref name="length"/> is the RTP packet's length; anything else means drop the packet.
    /// Bytes after the returned length are used as scratch. Never throws for any input.
    /// </summary>
    public SrtpResult UnprotectRtp(Span<byte> packet, out int length)
    {
        length = 0;
        if (!RtpPacket.TryReadHeaderLength(packet, out var headerLength) || packet.Length - headerLength < _tagLength)
        {
            return SrtpResult.Malformed;
        }

        var ssrc = BinaryPrimitives.ReadUInt32BigEndian(packet[8..]);
        var seq = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        _streams.TryGetValue(ssrc, out var state);
        var window = state?.Receive ?? default;
        if (!EstimateIndex(window, seq, out var index) || !window.Check(index))
        {
            return SrtpResult.Replayed;
        }

        var roc = (uint)(index >> 16);
        var end = packet.Length - _tagLength;
        var payload = packet[headerLength..end];
        if (_rtpGcm is not null)
        {
            Span<byte> nonce = stackalloc byte[12];
            RtpGcmNonce(nonce, _rtpSalt, ssrc, roc, seq);
            if (!GcmDecrypt(_rtpGcm, nonce, payload, packet.Slice(end, GcmTagLength), packet[..headerLength]))
            {
                return SrtpResult.AuthenticationFailed;
            }
        }
        else
        {
            Span<byte> received = stackalloc byte[HmacTagLength];
            packet.Slice(end, HmacTagLength).CopyTo(received);
            Span<byte> mac = stackalloc byte[HmacTagLength];
            RtpHmac(packet, end, roc, mac);
            if (!CryptographicOperations.FixedTimeEquals(mac, received))
            {
                return SrtpResult.AuthenticationFailed;
            }

            Span<byte> iv = stackalloc byte[16];
            CounterIv(iv, _rtpSalt, ssrc, index);
            _rtpCipher!.Apply(iv, payload);
        }

        // Only an authenticated packet creates or advances a stream's state.
        if (state is null)
        {
            state = new StreamState();
            _streams.Add(ssrc, state);
        }

        state.Receive.Accept(index);
        length = end;
        return SrtpResult.Ok;
    }

    /// <summary>
    /// Protects a (compound) RTCP packet in place (RFC 3711 §3.4, RFC 7714 §9). The buffer needs
    /// <see cref="SrtpProfiles.RtcpOverhead"/> spare bytes.
    /// <code>
    /// AES-CM: | header + sender SSRC (8) | encrypted rest | E + SRTCP index (4) | HMAC tag (10) |
    /// GCM:    | header + sender SSRC (8) | encrypted rest | GCM tag (16) | E + SRTCP index (4) |
    /// </code>
    /// </summary>
    public SrtpResult ProtectRtcp(Span<byte> buffer, int length, out int protectedLength)
    {
        protectedLength = 0;
        if ((uint)length > (uint)buffer.Length || length < RtcpHeaderLength || (buffer[0] >> 6) != 2)
        {
            return SrtpResult.Malformed;
        }

        var overhead = _tagLength + 4;
        if (buffer.Length - length < overhead)
        {
            return SrtpResult.BufferTooSmall;
        }

        var ssrc = BinaryPrimitives.ReadUInt32BigEndian(buffer[4..]);
        var index = _nextRtcpIndex;
        _nextRtcpIndex = (_nextRtcpIndex + 1) & 0x7FFFFFFF;
        var body = buffer[RtcpHeaderLength..length];
        if (_rtcpGcm is not null)
        {
            Span<byte> nonce = stackalloc byte[12];
            RtcpGcmNonce(nonce, _rtcpSalt, ssrc, index);
            Span<byte> aad = stackalloc byte[12];
            buffer[..RtcpHeaderLength].CopyTo(aad);
            BinaryPrimitives.WriteUInt32BigEndian(aad[8..], EncryptedFlag | index);
            _rtcpGcm.Encrypt(nonce, body, body, buffer.Slice(length, GcmTagLength), aad);
            BinaryPrimitives.WriteUInt32BigEndian(buffer[(length + GcmTagLength)..], EncryptedFlag | index);
        }
        else
        {
            Span<byte> iv = stackalloc byte[16];
            CounterIv(iv, _rtcpSalt, ssrc, index);
            _rtcpCipher!.Apply(iv, body);
            BinaryPrimitives.WriteUInt32BigEndian(buffer[length..], EncryptedFlag | index);
            RtcpHmac(buffer[..(length + 4)], buffer.Slice(length + 4, HmacTagLength));
        }

        protectedLength = length + overhead;
        return SrtpResult.Ok;
    }

    /// <summary>Verifies and decrypts an SRTCP packet in place. Never throws for any input.</summary>
    public SrtpResult UnprotectRtcp(Span<byte> packet, out int length)
    {
        length = 0;
        var overhead = _tagLength + 4;
        if (packet.Length < RtcpHeaderLength + overhead || (packet[0] >> 6) != 2)
        {
            return SrtpResult.Malformed;
        }

        var ssrc = BinaryPrimitives.ReadUInt32BigEndian(packet[4..]);
        var end = packet.Length - overhead;
        var indexWord = _rtcpGcm is not null
            ? BinaryPrimitives.ReadUInt32BigEndian(packet[(packet.Length - 4)..])
            : BinaryPrimitives.ReadUInt32BigEndian(packet[end..]);
        var encrypted = (indexWord & EncryptedFlag) != 0;
        var index = indexWord & 0x7FFFFFFF;
        _streams.TryGetValue(ssrc, out var state);
        var window = state?.ReceiveRtcp ?? default;
        if (!window.Check(index))
        {
            return SrtpResult.Replayed;
        }

        var body = packet[RtcpHeaderLength..end];
        if (_rtcpGcm is not null)
        {
            // RFC 7714 §9.2: an unencrypted GCM SRTCP packet authenticates everything as AAD; browsers
            // always encrypt, so this implementation accepts only E=1.
            if (!encrypted)
            {
                return SrtpResult.Malformed;
            }

            Span<byte> nonce = stackalloc byte[12];
            RtcpGcmNonce(nonce, _rtcpSalt, ssrc, index);
            Span<byte> aad = stackalloc byte[12];
            packet[..RtcpHeaderLength].CopyTo(aad);
            BinaryPrimitives.WriteUInt32BigEndian(aad[8..], indexWord);
            if (!GcmDecrypt(_rtcpGcm, nonce, body, packet.Slice(end, GcmTagLength), aad))
            {
                return SrtpResult.AuthenticationFailed;
            }
        }
        else
        {
            Span<byte> mac = stackalloc byte[HmacTagLength];
            RtcpHmac(packet[..(end + 4)], mac);
            if (!CryptographicOperations.FixedTimeEquals(mac, packet.Slice(end + 4, HmacTagLength)))
            {
                return SrtpResult.AuthenticationFailed;
            }

            if (encrypted)
            {
                Span<byte> iv = stackalloc byte[16];
                CounterIv(iv, _rtcpSalt, ssrc, index);
                _rtcpCipher!.Apply(iv, body);
            }
        }

        if (state is null)
        {
            state = new StreamState();
            _streams.Add(ssrc, state);
        }

        state.ReceiveRtcp.Accept(index);
        length = end;
        return SrtpResult.Ok;
    }

    public void Dispose()
    {
        _rtpCipher?.Dispose();
        _rtcpCipher?.Dispose();
        _rtpHmac?.Dispose();
        _rtcpHmac?.Dispose();
        _rtpGcm?.Dispose();
        _rtcpGcm?.Dispose();
    }

    /// <summary>
    /// Guesses the 48-bit packet index from the sequence number (RFC 3711 §3.3.1, Appendix A): the ROC
    /// may be one more (the sequence number wrapped) or one less (a late packet from before the wrap).
    /// Returns false for a packet that would precede index 0.
    /// </summary>
    internal static bool EstimateIndex(in ReplayWindow window, ushort seq, out ulong index)
    {
        if (!window.Initialized)
        {
            index = seq;
            return true;
        }

        var roc = (long)(window.Highest >> 16);
        var last = (int)(window.Highest & 0xFFFF);
        long guess;
        if (last < 0x8000)
        {
            guess = seq - last > 0x8000 ? roc - 1 : roc;
        }
        else
        {
            guess = last - 0x8000 > seq ? roc + 1 : roc;
        }

        if (guess < 0 || guess > uint.MaxValue)
        {
            index = 0;
            return false;
        }

        index = ((ulong)guess << 16) | seq;
        return true;
    }

    /// <summary>AES-CM IV (RFC 3711 §4.1.1): (salt × 2^16) XOR (SSRC × 2^64) XOR (index × 2^16).</summary>
    private static void CounterIv(Span<byte> iv, ReadOnlySpan<byte> salt, uint ssrc, ulong index)
    {
        iv.Clear();
        BinaryPrimitives.WriteUInt32BigEndian(iv[4..], ssrc);
        BinaryPrimitives.WriteUInt64BigEndian(iv[8..], index << 16);
        for (var i = 0; i < 14; i++)
        {
            iv[i] ^= salt[i];
        }
    }

    /// <summary>RFC 7714 §8.1: (0x0000 || SSRC || ROC || SEQ) XOR salt.</summary>
    private static void RtpGcmNonce(Span<byte> nonce, ReadOnlySpan<byte> salt, uint ssrc, uint roc, ushort seq)
    {
        nonce[0] = 0;
        nonce[1] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(nonce[2..], ssrc);
        BinaryPrimitives.WriteUInt32BigEndian(nonce[6..], roc);
        BinaryPrimitives.WriteUInt16BigEndian(nonce[10..], seq);
        for (var i = 0; i < 12; i++)
        {
            nonce[i] ^= salt[i];
        }
    }

    /// <summary>RFC 7714 §9.1: (0x0000 || SSRC || 0x0000 || 0 || SRTCP index) XOR salt.</summary>
    private static void RtcpGcmNonce(Span<byte> nonce, ReadOnlySpan<byte> salt, uint ssrc, uint index)
    {
        nonce[..2].Clear();
        BinaryPrimitives.WriteUInt32BigEndian(nonce[2..], ssrc);
        nonce.Slice(6, 2).Clear();
        BinaryPrimitives.WriteUInt32BigEndian(nonce[8..], index);
        for (var i = 0; i < 12; i++)
        {
            nonce[i] ^= salt[i];
        }
    }

    /// <summary>
    /// RFC 3711 §4.2: HMAC-SHA1 over the authenticated portion and the ROC, truncated to 80 bits. The ROC
    /// is written just after the packet (where the tag goes, the tag itself having been saved or not yet
    /// written) so the MAC runs over one contiguous span: one hash call instead of two (~0.14 µs less).
    /// </summary>
    private void RtpHmac(Span<byte> packet, int authenticatedLength, uint roc, Span<byte> tag)
    {
        BinaryPrimitives.WriteUInt32BigEndian(packet[authenticatedLength..], roc);
        Span<byte> mac = stackalloc byte[20];
        _rtpHmac!.AppendData(packet[..(authenticatedLength + 4)]);
        _rtpHmac.GetHashAndReset(mac);
        mac[..HmacTagLength].CopyTo(tag);
    }

    private void RtcpHmac(ReadOnlySpan<byte> authenticated, Span<byte> tag)
    {
        Span<byte> mac = stackalloc byte[20];
        _rtcpHmac!.AppendData(authenticated);
        _rtcpHmac.GetHashAndReset(mac);
        mac[..HmacTagLength].CopyTo(tag);
    }

    private static bool GcmDecrypt(AesGcm gcm, ReadOnlySpan<byte> nonce, Span<byte> data, ReadOnlySpan<byte> tag, ReadOnlySpan<byte> aad)
    {
        try
        {
            gcm.Decrypt(nonce, data, tag, data, aad);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            // AesGcm reports a bad tag only by exception; a forged packet is a dropped packet.
            return false;
        }
    }

    private static SessionKeys Derive(SrtpProfile profile, ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> masterSalt)
    {
        if (!SrtpProfiles.IsSupported(profile))
        {
            throw new ArgumentOutOfRangeException(nameof(profile), profile, "Unsupported SRTP profile.");
        }

        if (masterKey.Length != SrtpProfiles.MasterKeyLength(profile) || masterSalt.Length != SrtpProfiles.MasterSaltLength(profile))
        {
            throw new ArgumentException($"{profile} needs a {SrtpProfiles.MasterKeyLength(profile)}-byte key and a {SrtpProfiles.MasterSaltLength(profile)}-byte salt.");
        }

        var saltLength = SrtpProfiles.MasterSaltLength(profile);
        var keys = new SessionKeys(new byte[16], new byte[saltLength], new byte[20], new byte[16], new byte[saltLength], new byte[20]);
        SrtpKeyDerivation.Derive(masterKey, masterSalt, SrtpKeyDerivation.RtpEncryption, keys.RtpKey);
        SrtpKeyDerivation.Derive(masterKey, masterSalt, SrtpKeyDerivation.RtpSalt, keys.RtpSalt);
        SrtpKeyDerivation.Derive(masterKey, masterSalt, SrtpKeyDerivation.RtcpEncryption, keys.RtcpKey);
        SrtpKeyDerivation.Derive(masterKey, masterSalt, SrtpKeyDerivation.RtcpSalt, keys.RtcpSalt);
        if (profile == SrtpProfile.AesCm128HmacSha1_80)
        {
            SrtpKeyDerivation.Derive(masterKey, masterSalt, SrtpKeyDerivation.RtpAuthentication, keys.RtpAuthKey);
            SrtpKeyDerivation.Derive(masterKey, masterSalt, SrtpKeyDerivation.RtcpAuthentication, keys.RtcpAuthKey);
        }

        return keys;
    }

    private sealed record SessionKeys(byte[] RtpKey, byte[] RtpSalt, byte[] RtpAuthKey, byte[] RtcpKey, byte[] RtcpSalt, byte[] RtcpAuthKey);

    private sealed class StreamState
    {
        public ReplayWindow Send;
        public ReplayWindow Receive;
        public ReplayWindow ReceiveRtcp;
    }
}
