using Parley.WebRtc.Srtp;

namespace Parley.WebRtc.Tests.Srtp;

/// <summary>RFC 3711 appendix B, the libsrtp reference packets, and RFC 7714 §16–17.</summary>
public class SrtpVectorTests
{
    private static readonly byte[] MasterKey = Hex.Parse("E1F97A0D3E018BE0D64FA32C06DE4139");
    private static readonly byte[] MasterSalt = Hex.Parse("0EC675AD498AFEEBB6960B3AABE6");

    [Fact]
    public void Key_derivation_matches_rfc3711_b3()
    {
        var key = new byte[16];
        var salt = new byte[14];
        var auth = new byte[94];
        SrtpKeyDerivation.Derive(MasterKey, MasterSalt, SrtpKeyDerivation.RtpEncryption, key);
        SrtpKeyDerivation.Derive(MasterKey, MasterSalt, SrtpKeyDerivation.RtpSalt, salt);
        SrtpKeyDerivation.Derive(MasterKey, MasterSalt, SrtpKeyDerivation.RtpAuthentication, auth);
        Assert.Equal("c61e7a93744f39ee10734afe3ff7a087", Hex.Of(key));
        Assert.Equal("30cbbc08863d8c85d49db34a9ae1", Hex.Of(salt));
        Assert.Equal(
            "cebe321f6ff7716b6fd4ab49af256a156d38baa48f0a0acf3c34e2359e6cdbce" +
            "e049646c43d9327ad175578ef72270986371c10c9a369ac2f94a8c5fbcdddc25" +
            "6d6e919a48b610ef17c2041e474035766b68642c59bbfc2f34db60dbdfb2",
            Hex.Of(auth));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Aes_counter_keystream_matches_rfc3711_b2(bool allowIntrinsics)
    {
        // Session key and salt given directly; SSRC 0 and index 0 make the IV the salt shifted 16 bits.
        // Both code paths: AES-NI in registers, and the ECB transform used where AES-NI is absent.
        using var ctr = new AesCounterMode(Hex.Parse("2B7E151628AED2A6ABF7158809CF4F3C"), allowIntrinsics);
        Assert.Equal(allowIntrinsics && System.Runtime.Intrinsics.X86.Aes.IsSupported, ctr.UsesIntrinsics);
        var iv = Hex.Parse("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000");
        var keystream = new byte[0xFF02 * 16];
        ctr.Apply(iv, keystream);
        Assert.Equal("e03ead0935c95e80e166b16dd92b4eb4", Hex.Of(keystream.AsSpan(0x0000 * 16, 16)));
        Assert.Equal("d23513162b02d0f72a43a2fe4a5f97ab", Hex.Of(keystream.AsSpan(0x0001 * 16, 16)));
        Assert.Equal("41e95b3bb0a2e8dd477901e4fca894c0", Hex.Of(keystream.AsSpan(0x0002 * 16, 16)));
        Assert.Equal("ec8cdf7398607cb0f2d21675ea9ea1e4", Hex.Of(keystream.AsSpan(0xFEFF * 16, 16)));
        Assert.Equal("362b7c3c6773516318a077d7fc5073ae", Hex.Of(keystream.AsSpan(0xFF00 * 16, 16)));
        Assert.Equal("6a2cc3787889374fbeb4c81b17ba6c44", Hex.Of(keystream.AsSpan(0xFF01 * 16, 16)));
    }

    [Fact]
    public void Both_keystream_paths_agree_on_every_length_and_counter_start()
    {
        var key = Hex.Parse("C61E7A93744F39EE10734AFE3FF7A087");
        using var fast = new AesCounterMode(key);
        using var portable = new AesCounterMode(key, allowIntrinsics: false);
        var random = new Random(16);
        for (var length = 0; length <= 300; length++)
        {
            var iv = new byte[16];
            random.NextBytes(iv.AsSpan(0, 14));
            iv[14] = (byte)random.Next(256); // counter start near a wrap of the low 16 bits
            iv[15] = 0xFE;
            var data = new byte[length];
            random.NextBytes(data);
            var a = (byte[])data.Clone();
            var b = (byte[])data.Clone();
            fast.Apply(iv, a);
            portable.Apply(iv, b);
            Assert.Equal(b, a);
        }
    }

    [Fact]
    public void Aes_cm_hmac_sha1_80_rtp_matches_the_libsrtp_reference_packet()
    {
        // libsrtp srtp_driver "srtp_validate": the RFC 3711 B.3 master key, SSRC 0xcafebabe, seq 0x1234.
        var plain = Hex.Parse("800f1234decafbadcafebabe abababababababababababababababab");
        const string expected = "800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb";

        using var sender = new SrtpContext(SrtpProfile.AesCm128HmacSha1_80, MasterKey, MasterSalt);
        var buffer = new byte[64];
        plain.CopyTo(buffer, 0);
        Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(buffer, plain.Length, out var length));
        Assert.Equal(expected, Hex.Of(buffer.AsSpan(0, length)));

        using var receiver = new SrtpContext(SrtpProfile.AesCm128HmacSha1_80, MasterKey, MasterSalt);
        var received = Hex.Parse(expected);
        Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(received, out var plainLength));
        Assert.Equal(Hex.Of(plain), Hex.Of(received.AsSpan(0, plainLength)));
    }

    [Fact]
    public void Aes_cm_hmac_sha1_80_rtcp_matches_the_libsrtp_reference_packet()
    {
        var plain = Hex.Parse("81c8000bcafebabe abababababababababababababababab");
        const string expected = "81c8000bcafebabe7128035be487b9bdbef89041f977a5a880000001993e08cd54d6c1230798";

        // libsrtp numbers its first SRTCP packet 1.
        using var sender = new SrtpContext(SrtpProfile.AesCm128HmacSha1_80, MasterKey, MasterSalt) { NextRtcpIndex = 1 };
        var buffer = new byte[64];
        plain.CopyTo(buffer, 0);
        Assert.Equal(SrtpResult.Ok, sender.ProtectRtcp(buffer, plain.Length, out var length));
        Assert.Equal(expected, Hex.Of(buffer.AsSpan(0, length)));

        using var receiver = new SrtpContext(SrtpProfile.AesCm128HmacSha1_80, MasterKey, MasterSalt);
        var received = Hex.Parse(expected);
        Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtcp(received, out var plainLength));
        Assert.Equal(Hex.Of(plain), Hex.Of(received.AsSpan(0, plainLength)));
    }

    // RFC 7714 §16 and §17: key 000102..0f, salt "Quid pro quo", used as session keys (no KDF).
    private static SrtpContext Rfc7714Context() => SrtpContext.FromSessionKeys(
        SrtpProfile.AeadAes128Gcm,
        Hex.Parse("000102030405060708090a0b0c0d0e0f"),
        Hex.Parse("517569642070726f2071756f"),
        []);

    private static readonly byte[] Rfc7714Rtp = Hex.Parse(
        "8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976 69736120 696e2070 61727465 73207472 6573");

    private const string Rfc7714Srtp =
        "8040f17b8041f8d35501a0b2f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833899d7f27beb16a9152cf765ee4390cce";

    private static readonly byte[] Rfc7714Rtcp = Hex.Parse(
        "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef");

    private const string Rfc7714Srtcp =
        "81c8000d4d61727363e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1730d6fda4ce09b4686303ded0bb9275bc84aa45896cf4d2fc5abf87245d9eade800005d4";

    [Fact]
    public void Aead_aes_128_gcm_rtp_matches_rfc7714_16_1()
    {
        using var sender = Rfc7714Context();
        var buffer = new byte[128];
        Rfc7714Rtp.CopyTo(buffer, 0);
        Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(buffer, Rfc7714Rtp.Length, out var length));
        Assert.Equal(Rfc7714Srtp, Hex.Of(buffer.AsSpan(0, length)));

        using var receiver = Rfc7714Context();
        var received = Hex.Parse(Rfc7714Srtp);
        Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(received, out var plainLength));
        Assert.Equal(Hex.Of(Rfc7714Rtp), Hex.Of(received.AsSpan(0, plainLength)));
    }

    [Fact]
    public void Aead_aes_128_gcm_rtcp_matches_rfc7714_17_1()
    {
        using var sender = Rfc7714Context();
        sender.NextRtcpIndex = 0x5d4;
        var buffer = new byte[128];
        Rfc7714Rtcp.CopyTo(buffer, 0);
        Assert.Equal(SrtpResult.Ok, sender.ProtectRtcp(buffer, Rfc7714Rtcp.Length, out var length));
        Assert.Equal(Rfc7714Srtcp, Hex.Of(buffer.AsSpan(0, length)));

        using var receiver = Rfc7714Context();
        var received = Hex.Parse(Rfc7714Srtcp);
        Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtcp(received, out var plainLength));
        Assert.Equal(Hex.Of(Rfc7714Rtcp), Hex.Of(received.AsSpan(0, plainLength)));
    }

    [Fact]
    public void Gcm_rejects_a_flipped_ciphertext_bit_and_a_flipped_header_bit()
    {
        using var receiver = Rfc7714Context();
        var payloadFlip = Hex.Parse(Rfc7714Srtp);
        payloadFlip[20] ^= 1;
        Assert.Equal(SrtpResult.AuthenticationFailed, receiver.UnprotectRtp(payloadFlip, out _));
        var headerFlip = Hex.Parse(Rfc7714Srtp);
        headerFlip[1] ^= 0x80; // marker bit is authenticated data
        Assert.Equal(SrtpResult.AuthenticationFailed, receiver.UnprotectRtp(headerFlip, out _));
        // The untouched packet still verifies: failures left no state behind.
        Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(Hex.Parse(Rfc7714Srtp), out _));
    }
}
