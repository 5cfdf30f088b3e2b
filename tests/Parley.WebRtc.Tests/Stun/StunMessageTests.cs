using System.Net;
using System.Text;
using Parley.WebRtc.Stun;

namespace Parley.WebRtc.Tests.Stun;

/// <summary>RFC 5769 test vectors and round trips.</summary>
public class StunMessageTests
{
    // RFC 5769 §2: password for all short-term vectors; transaction id shared by §2.1–2.3.
    private static readonly byte[] Password = Encoding.UTF8.GetBytes("VOkJxbRl1RmTxUk/WvJxBt");
    private static readonly byte[] TransactionId = Hex.Parse("b7e7a701 bc34d686 fa87dfae");

    // RFC 5769 §2.1 Sample Request.
    private static readonly byte[] SampleRequest = Hex.Parse(
        "00010058 2112a442 b7e7a701 bc34d686 fa87dfae" +
        "80220010 5354554e 20746573 7420636c 69656e74" +
        "00240004 6e0001ff" +
        "80290008 932ff9b1 51263b36" +
        "00060009 6576746a 3a683676 59202020" +
        "00080014 9aeaa70c bfd8cb56 781ef2b5 b2d3f249 c1b571a2" +
        "80280004 e57a3bcf");

    // RFC 5769 §2.2 Sample IPv4 Response.
    private static readonly byte[] SampleIpv4Response = Hex.Parse(
        "0101003c 2112a442 b7e7a701 bc34d686 fa87dfae" +
        "8022000b 74657374 20766563 746f7220" +
        "00200008 0001a147 e112a643" +
        "00080014 2b91f599 fd9e90c3 8c7489f9 2af9ba53 f06be7d7" +
        "80280004 c07d4c96");

    // RFC 5769 §2.3 Sample IPv6 Response.
    private static readonly byte[] SampleIpv6Response = Hex.Parse(
        "01010048 2112a442 b7e7a701 bc34d686 fa87dfae" +
        "8022000b 74657374 20766563 746f7220" +
        "00200014 0002a147 0113a9fa a5d3f179 bc25f4b5 bed2b9d9" +
        "00080014 a382954e 4be67bf1 1784c97c 8292c275 bfe3ed41" +
        "80280004 c8fb0b4c");

    [Fact]
    public void Sample_request_parses_and_verifies()
    {
        Assert.True(StunMessage.TryParse(SampleRequest, out var message));
        Assert.Equal(StunMessageType.BindingRequest, message.MessageType);
        Assert.Equal(StunClass.Request, message.Class);
        Assert.Equal(StunMethod.Binding, message.Method);
        Assert.Equal(TransactionId, message.TransactionId.ToArray());
        Assert.Equal("evtj:h6vY", Encoding.UTF8.GetString(message.Username));
        Assert.True(message.HasPriority);
        Assert.Equal(0x6e0001ffu, message.Priority);
        Assert.True(message.HasIceControlled);
        Assert.Equal(0x932ff9b151263b36ul, message.IceControlled);
        Assert.False(message.HasIceControlling);
        Assert.False(message.UseCandidate);
        Assert.True(message.VerifyFingerprint());
        Assert.True(message.VerifyMessageIntegrity(Password));
        Assert.False(message.VerifyMessageIntegrity("VOkJxbRl1RmTxUk/WvJxBr"u8));
    }

    [Fact]
    public void Sample_ipv4_response_gives_192_0_2_1_port_32853()
    {
        Assert.True(StunMessage.TryParse(SampleIpv4Response, out var message));
        Assert.Equal(StunClass.SuccessResponse, message.Class);
        Assert.True(message.VerifyFingerprint());
        Assert.True(message.VerifyMessageIntegrity(Password));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 32853), message.GetXorMappedEndPoint());
    }

    [Fact]
    public void Sample_ipv6_response_gives_documentation_address()
    {
        Assert.True(StunMessage.TryParse(SampleIpv6Response, out var message));
        Assert.True(message.VerifyFingerprint());
        Assert.True(message.VerifyMessageIntegrity(Password));
        Assert.Equal(
            new IPEndPoint(IPAddress.Parse("2001:db8:1234:5678:11:2233:4455:6677"), 32853),
            message.GetXorMappedEndPoint());
    }

    [Fact]
    public void Builder_reproduces_the_sample_request_byte_for_byte()
    {
        var buffer = new byte[200];
        var builder = new StunMessageBuilder(buffer, StunMessageType.BindingRequest, TransactionId) { PaddingByte = 0x20 };
        builder.AddSoftware("STUN test client");
        builder.AddPriority(0x6e0001ff);
        builder.AddIceControlled(0x932ff9b151263b36);
        builder.AddUsername("evtj:h6vY");
        builder.AddMessageIntegrity(Password);
        builder.AddFingerprint();
        Assert.Equal(Hex.Of(SampleRequest), Hex.Of(builder.Written));
    }

    [Fact]
    public void Builder_reproduces_the_ipv4_and_ipv6_responses()
    {
        var buffer = new byte[200];
        var v4 = new StunMessageBuilder(buffer, StunMessageType.BindingSuccessResponse, TransactionId) { PaddingByte = 0x20 };
        v4.AddSoftware("test vector");
        v4.AddXorMappedAddress(IPAddress.Parse("192.0.2.1"), 32853);
        v4.AddMessageIntegrity(Password);
        v4.AddFingerprint();
        Assert.Equal(Hex.Of(SampleIpv4Response), Hex.Of(v4.Written));

        var v6 = new StunMessageBuilder(buffer, StunMessageType.BindingSuccessResponse, TransactionId) { PaddingByte = 0x20 };
        v6.AddSoftware("test vector");
        v6.AddXorMappedAddress(IPAddress.Parse("2001:db8:1234:5678:11:2233:4455:6677"), 32853);
        v6.AddMessageIntegrity(Password);
        v6.AddFingerprint();
        Assert.Equal(Hex.Of(SampleIpv6Response), Hex.Of(v6.Written));
    }

    [Fact]
    public void Ice_check_round_trips_with_use_candidate_and_controlling()
    {
        var id = new byte[12];
        StunMessageBuilder.NewTransactionId(id);
        var buffer = new byte[256];
        var builder = new StunMessageBuilder(buffer, StunMessageType.BindingRequest, id);
        builder.AddUsername("serverUfrag:clientUfrag");
        builder.AddPriority(1_845_501_695);
        builder.AddIceControlling(0x0102030405060708);
        builder.AddUseCandidate();
        builder.AddMessageIntegrity("server-password-22-chars"u8);
        builder.AddFingerprint();

        Assert.True(StunMessage.TryParse(builder.Written, out var parsed));
        Assert.Equal("serverUfrag:clientUfrag", Encoding.UTF8.GetString(parsed.Username));
        Assert.Equal(1_845_501_695u, parsed.Priority);
        Assert.True(parsed.HasIceControlling);
        Assert.Equal(0x0102030405060708ul, parsed.IceControlling);
        Assert.True(parsed.UseCandidate);
        Assert.True(parsed.VerifyMessageIntegrity("server-password-22-chars"u8));
        Assert.True(parsed.VerifyFingerprint());
        Assert.Equal(id, parsed.TransactionId.ToArray());
    }

    [Fact]
    public void Error_response_round_trips()
    {
        var buffer = new byte[128];
        var builder = new StunMessageBuilder(buffer, StunMessageType.BindingErrorResponse, TransactionId);
        builder.AddErrorCode(487, "Role Conflict");
        builder.AddFingerprint();

        Assert.True(StunMessage.TryParse(builder.Written, out var parsed));
        Assert.Equal(StunClass.ErrorResponse, parsed.Class);
        Assert.True(parsed.TryGetErrorCode(out var code, out var reason));
        Assert.Equal(487, code);
        Assert.Equal("Role Conflict", Encoding.UTF8.GetString(reason));
    }

    [Fact]
    public void Unknown_attributes_are_skipped_and_the_first_comprehension_required_one_reported()
    {
        var buffer = new byte[128];
        var builder = new StunMessageBuilder(buffer, StunMessageType.BindingRequest, TransactionId);
        builder.AddAttribute(0xC001, [1, 2, 3]);   // comprehension-optional
        builder.AddAttribute(0x7F00, [9]);         // comprehension-required, unknown
        builder.AddPriority(7);
        builder.AddFingerprint();

        Assert.True(StunMessage.TryParse(builder.Written, out var parsed));
        Assert.Equal(7u, parsed.Priority);
        Assert.Equal(0x7F00, parsed.UnknownComprehensionRequired);
        Assert.True(parsed.VerifyFingerprint());
    }

    [Fact]
    public void Attributes_after_message_integrity_other_than_fingerprint_are_ignored()
    {
        var buffer = new byte[128];
        var builder = new StunMessageBuilder(buffer, StunMessageType.BindingRequest, TransactionId);
        builder.AddMessageIntegrity(Password);
        builder.AddPriority(99);
        Assert.True(StunMessage.TryParse(builder.Written, out var parsed));
        Assert.False(parsed.HasPriority);
        Assert.True(parsed.HasMessageIntegrity);
    }

    [Fact]
    public void Tampered_messages_fail_verification()
    {
        var copy = (byte[])SampleRequest.Clone();
        copy[30] ^= 0x01; // inside SOFTWARE
        Assert.True(StunMessage.TryParse(copy, out var parsed));
        Assert.False(parsed.VerifyFingerprint());
        Assert.False(parsed.VerifyMessageIntegrity(Password));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(19)]
    [InlineData(50)]
    [InlineData(107)]
    public void Truncated_messages_are_rejected(int length)
    {
        Assert.False(StunMessage.TryParse(SampleRequest.AsSpan(0, length), out _));
    }

    [Fact]
    public void Wrong_cookie_length_or_trailing_attribute_is_rejected()
    {
        var badCookie = (byte[])SampleRequest.Clone();
        badCookie[4] = 0;
        Assert.False(StunMessage.TryParse(badCookie, out _));

        var badLength = (byte[])SampleRequest.Clone();
        badLength[3] = 0x5C; // longer than the datagram
        Assert.False(StunMessage.TryParse(badLength, out _));

        // An attribute after FINGERPRINT.
        var buffer = new byte[128];
        var builder = new StunMessageBuilder(buffer, StunMessageType.BindingRequest, TransactionId);
        builder.AddFingerprint();
        builder.AddPriority(1);
        Assert.False(StunMessage.TryParse(builder.Written, out _));
    }

    [Theory]
    [InlineData(StunMethod.Binding, StunClass.Request, 0x0001)]
    [InlineData(StunMethod.Binding, StunClass.Indication, 0x0011)]
    [InlineData(StunMethod.Binding, StunClass.SuccessResponse, 0x0101)]
    [InlineData(StunMethod.Binding, StunClass.ErrorResponse, 0x0111)]
    [InlineData(0x003, StunClass.Request, 0x0003)]
    [InlineData(0xFFF, StunClass.ErrorResponse, 0x3FFF)]
    public void Message_type_composes_and_splits(ushort method, StunClass stunClass, ushort expected)
    {
        Assert.Equal(expected, StunMessageType.Compose(method, stunClass));
        Assert.Equal(method, StunMessageType.MethodOf(expected));
        Assert.Equal(stunClass, StunMessageType.ClassOf(expected));
    }
}
