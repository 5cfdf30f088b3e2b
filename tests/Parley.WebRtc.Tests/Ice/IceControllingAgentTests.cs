using System.Net;
using System.Text;
using Parley.WebRtc.Ice;
using Parley.WebRtc.Stun;

namespace Parley.WebRtc.Tests.Ice;

public class IceControllingAgentTests
{
    private static readonly IceCredentials Client = new("cliU", "clientpasswordclientpw");
    private static readonly IceCredentials Server = new("srvU", "serverpasswordserverpw");
    private static readonly IPEndPoint ClientAddress = new(IPAddress.Loopback, 40000);
    private static readonly IPEndPoint ServerAddress = new(IPAddress.Parse("127.0.0.2"), 50000);

    /// <summary>A check as a full or Janus server sends it to us: USERNAME "client:server", keyed with our pwd.</summary>
    private static byte[] ServerCheck(string username, string pwd, ulong? controlling = null, bool integrity = true)
    {
        var id = new byte[12];
        StunMessageBuilder.NewTransactionId(id);
        var buffer = new byte[256];
        var b = new StunMessageBuilder(buffer, StunMessageType.BindingRequest, id);
        b.AddUsername(username);
        b.AddPriority(2_015_363_327);
        if (controlling is { } tieBreaker)
        {
            b.AddIceControlling(tieBreaker);
        }
        else
        {
            b.AddIceControlled(7);
        }

        if (integrity)
        {
            b.AddMessageIntegrity(Encoding.ASCII.GetBytes(pwd));
        }

        b.AddFingerprint();
        return b.Written.ToArray();
    }

    private static (IceCheckOutcome Outcome, byte[] Response) Answer(IceControllingAgent agent, byte[] datagram)
    {
        var response = new byte[IceLiteAgent.MaxResponseLength];
        var outcome = agent.AnswerCheck(datagram, ServerAddress, response, out var length);
        return (outcome, response[..length]);
    }

    private static int ErrorCode(byte[] response)
    {
        Assert.True(StunMessage.TryParse(response, out var parsed));
        Assert.Equal(StunClass.ErrorResponse, parsed.Class);
        Assert.True(parsed.VerifyFingerprint());
        Assert.True(parsed.TryGetErrorCode(out var code, out _));
        return code;
    }

    [Fact]
    public void Checks_against_a_lite_server_nominate_its_candidate_and_learn_the_mapped_address()
    {
        var agent = new IceControllingAgent(Client, Server, [ServerAddress]);
        var server = new IceLiteAgent(Server, Client.Ufrag);
        var sent = new List<(byte[] Request, IPEndPoint To)>();
        agent.Poll((request, to) => sent.Add((request.ToArray(), to)));

        var (request, destination) = Assert.Single(sent);
        Assert.Equal(ServerAddress, destination);
        var response = new byte[IceLiteAgent.MaxResponseLength];
        Assert.Equal(IceCheckOutcome.Success, server.ProcessStun(request, ClientAddress, response, out var length));
        Assert.Equal(IceConnectionState.Connected, server.State); // USE-CANDIDATE: aggressive nomination

        Assert.True(agent.ProcessStun(response.AsSpan(0, length), ServerAddress));
        Assert.Equal(IceConnectionState.Connected, agent.State);
        Assert.Equal(ServerAddress, agent.SelectedEndPoint);
        Assert.Equal(ClientAddress, agent.MappedEndPoint);
    }

    [Fact]
    public void A_response_from_another_address_than_the_request_went_to_is_not_accepted()
    {
        var agent = new IceControllingAgent(Client, Server, [ServerAddress]);
        var server = new IceLiteAgent(Server, Client.Ufrag);
        byte[]? request = null;
        agent.Poll((r, _) => request = r.ToArray());
        var response = new byte[IceLiteAgent.MaxResponseLength];
        server.ProcessStun(request!, ClientAddress, response, out var length);

        Assert.False(agent.ProcessStun(response.AsSpan(0, length), new IPEndPoint(IPAddress.Loopback, 50000)));
        Assert.Equal(IceConnectionState.Checking, agent.State);
        Assert.True(agent.ProcessStun(response.AsSpan(0, length), ServerAddress));
    }

    [Fact]
    public void The_servers_own_check_gets_an_authenticated_success_with_its_address()
    {
        var agent = new IceControllingAgent(Client, Server, [ServerAddress]);
        var check = ServerCheck("cliU:srvU", Client.Pwd);

        var (outcome, response) = Answer(agent, check);

        Assert.Equal(IceCheckOutcome.Success, outcome);
        Assert.True(StunMessage.TryParse(response, out var parsed));
        Assert.Equal(StunClass.SuccessResponse, parsed.Class);
        Assert.True(StunMessage.TryParse(check, out var request));
        Assert.Equal(request.TransactionId.ToArray(), parsed.TransactionId.ToArray());
        Assert.True(parsed.VerifyMessageIntegrity(Client.PwdBytes));
        Assert.True(parsed.VerifyFingerprint());
        Assert.Equal(ServerAddress, parsed.GetXorMappedEndPoint());
        Assert.Equal(IceConnectionState.New, agent.State); // answering checks changes nothing of our own state
    }

    [Fact]
    public void Checks_with_wrong_credentials_get_401_and_without_integrity_400()
    {
        var agent = new IceControllingAgent(Client, Server, [ServerAddress]);

        var (wrongPassword, r1) = Answer(agent, ServerCheck("cliU:srvU", Server.Pwd));
        var (wrongUfrag, r2) = Answer(agent, ServerCheck("cliU:other", Client.Pwd));
        var (noIntegrity, r3) = Answer(agent, ServerCheck("cliU:srvU", Client.Pwd, integrity: false));

        Assert.Equal(IceCheckOutcome.Unauthorized, wrongPassword);
        Assert.Equal(IceCheckOutcome.Unauthorized, wrongUfrag);
        Assert.Equal(IceCheckOutcome.BadRequest, noIntegrity);
        Assert.Equal(401, ErrorCode(r1));
        Assert.Equal(401, ErrorCode(r2));
        Assert.Equal(400, ErrorCode(r3));
    }

    [Fact]
    public void A_controlling_server_with_a_smaller_tie_breaker_gets_487()
    {
        var agent = new IceControllingAgent(Client, Server, [ServerAddress]);

        var (conflict, response) = Answer(agent, ServerCheck("cliU:srvU", Client.Pwd, controlling: 0));
        var (larger, _) = Answer(agent, ServerCheck("cliU:srvU", Client.Pwd, controlling: ulong.MaxValue));

        Assert.Equal(IceCheckOutcome.BadRequest, conflict);
        Assert.Equal(487, ErrorCode(response));
        Assert.Equal(IceCheckOutcome.Success, larger); // theirs wins: answer, they stay controlling
    }

    [Fact]
    public void Responses_indications_and_garbage_are_not_answered()
    {
        var agent = new IceControllingAgent(Client, Server, [ServerAddress]);
        var buffer = new byte[64];
        var id = new byte[12];
        var success = new StunMessageBuilder(buffer, StunMessageType.BindingSuccessResponse, id);
        success.AddFingerprint();

        Assert.Equal(IceCheckOutcome.Ignored, Answer(agent, buffer[..success.Length]).Outcome);
        Assert.Equal(IceCheckOutcome.NotStun, Answer(agent, [0x80, 0x60, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).Outcome);
        var flipped = ServerCheck("cliU:srvU", Client.Pwd);
        flipped[^1] ^= 0xff; // FINGERPRINT no longer matches: not STUN after all, dropped silently
        var (outcome, response) = Answer(agent, flipped);
        Assert.Equal(IceCheckOutcome.Dropped, outcome);
        Assert.Empty(response);
    }
}
