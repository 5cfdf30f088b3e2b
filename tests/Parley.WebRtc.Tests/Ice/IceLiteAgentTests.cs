using System.Net;
using System.Text;
using Parley.WebRtc.Ice;
using Parley.WebRtc.Stun;

namespace Parley.WebRtc.Tests.Ice;

public class IceLiteAgentTests
{
    private static readonly IceCredentials Server = new("srvU", "serverpasswordserverpw");
    private static readonly IPEndPoint Browser = new(IPAddress.Loopback, 50000);

    /// <summary>A check as a controlling browser sends it: USERNAME "server:browser", keyed with the server pwd.</summary>
    private static byte[] Check(string username, string pwd, bool useCandidate = false, bool controlled = false, bool fingerprint = true, bool integrity = true)
    {
        var id = new byte[12];
        StunMessageBuilder.NewTransactionId(id);
        var buffer = new byte[256];
        var b = new StunMessageBuilder(buffer, StunMessageType.BindingRequest, id);
        b.AddUsername(username);
        b.AddPriority(1_845_501_695);
        if (controlled)
        {
            b.AddIceControlled(42);
        }
        else
        {
            b.AddIceControlling(42);
        }

        if (useCandidate)
        {
            b.AddUseCandidate();
        }

        if (integrity)
        {
            b.AddMessageIntegrity(Encoding.ASCII.GetBytes(pwd));
        }

        if (fingerprint)
        {
            b.AddFingerprint();
        }

        return b.Written.ToArray();
    }

    private static (IceCheckOutcome Outcome, byte[] Response) Send(IceLiteAgent agent, byte[] datagram, IPEndPoint? from = null)
    {
        var response = new byte[IceLiteAgent.MaxResponseLength];
        var outcome = agent.ProcessStun(datagram, from ?? Browser, response, out var length);
        return (outcome, response[..length]);
    }

    [Fact]
    public void A_valid_check_gets_an_authenticated_response_with_the_mapped_address()
    {
        var agent = new IceLiteAgent(Server, "brwU");
        var request = Check("srvU:brwU", Server.Pwd);
        var (outcome, response) = Send(agent, request);

        Assert.Equal(IceCheckOutcome.Success, outcome);
        Assert.True(StunMessage.TryParse(response, out var parsed));
        Assert.Equal(StunClass.SuccessResponse, parsed.Class);
        Assert.True(StunMessage.TryParse(request, out var req));
        Assert.Equal(req.TransactionId.ToArray(), parsed.TransactionId.ToArray());
        Assert.True(parsed.VerifyMessageIntegrity(Server.PwdBytes));
        Assert.True(parsed.VerifyFingerprint());
        Assert.Equal(Browser, parsed.GetXorMappedEndPoint());
        Assert.Equal(IceConnectionState.Checking, agent.State);
        Assert.Null(agent.SelectedEndPoint);
        Assert.True(agent.IsValidated(Browser));
    }

    [Fact]
    public void Use_candidate_nominates_and_a_later_one_switches_the_tuple()
    {
        var agent = new IceLiteAgent(Server, "brwU");
        var states = new List<IceConnectionState>();
        agent.StateChanged += states.Add;
        Assert.Equal(IceCheckOutcome.Success, Send(agent, Check("srvU:brwU", Server.Pwd, useCandidate: true)).Outcome);
        Assert.Equal(IceConnectionState.Connected, agent.State);
        Assert.Equal(Browser, agent.SelectedEndPoint);

        var other = new IPEndPoint(IPAddress.Parse("127.0.0.2"), 50001);
        Assert.Equal(IceCheckOutcome.Success, Send(agent, Check("srvU:brwU", Server.Pwd, useCandidate: true), other).Outcome);
        Assert.Equal(other, agent.SelectedEndPoint);
        Assert.Equal(2, agent.ValidatedEndPoints.Count);
        Assert.Equal([IceConnectionState.Connected], states);
    }

    [Fact]
    public void Missing_fingerprint_or_integrity_gets_400_and_wrong_credentials_get_401()
    {
        var agent = new IceLiteAgent(Server, "brwU");
        AssertError(Send(agent, Check("srvU:brwU", Server.Pwd, fingerprint: false)), IceCheckOutcome.BadRequest, 400);
        AssertError(Send(agent, Check("srvU:brwU", Server.Pwd, integrity: false)), IceCheckOutcome.BadRequest, 400);
        AssertError(Send(agent, Check("srvU:brwU", "wrongpasswordwrongpass")), IceCheckOutcome.Unauthorized, 401);
        AssertError(Send(agent, Check("other:brwU", Server.Pwd)), IceCheckOutcome.Unauthorized, 401);
        AssertError(Send(agent, Check("srvU:evil", Server.Pwd)), IceCheckOutcome.Unauthorized, 401);
        Assert.Equal(IceConnectionState.New, agent.State);
        Assert.Empty(agent.ValidatedEndPoints);
    }

    private static void AssertError((IceCheckOutcome Outcome, byte[] Response) result, IceCheckOutcome expected, int code)
    {
        Assert.Equal(expected, result.Outcome);
        Assert.True(StunMessage.TryParse(result.Response, out var parsed));
        Assert.Equal(StunClass.ErrorResponse, parsed.Class);
        Assert.True(parsed.TryGetErrorCode(out var actual, out _));
        Assert.Equal(code, actual);
        Assert.False(parsed.HasMessageIntegrity);
        Assert.True(parsed.VerifyFingerprint());
    }

    [Fact]
    public void Ice_controlled_in_a_request_is_answered_not_487()
    {
        var agent = new IceLiteAgent(Server, "brwU");
        var (outcome, response) = Send(agent, Check("srvU:brwU", Server.Pwd, controlled: true));
        Assert.Equal(IceCheckOutcome.Success, outcome);
        Assert.True(StunMessage.TryParse(response, out var parsed));
        Assert.Equal(StunClass.SuccessResponse, parsed.Class);
    }

    [Fact]
    public void Indications_responses_garbage_and_a_bad_fingerprint_get_no_answer()
    {
        var agent = new IceLiteAgent(Server);
        var buffer = new byte[64];
        var indication = new StunMessageBuilder(buffer, StunMessageType.BindingIndication, new byte[12]);
        indication.AddFingerprint();
        Assert.Equal(IceCheckOutcome.Ignored, Send(agent, indication.Written.ToArray()).Outcome);
        Assert.Equal(IceCheckOutcome.NotStun, Send(agent, [0x80, 96, 0, 1]).Outcome);
        var damaged = Check("srvU:brwU", Server.Pwd);
        damaged[^1] ^= 1;
        var (outcome, response) = Send(agent, damaged);
        Assert.Equal(IceCheckOutcome.Dropped, outcome);
        Assert.Empty(response);
    }

    [Fact]
    public void Restart_accepts_old_credentials_until_the_new_ones_are_used()
    {
        var agent = new IceLiteAgent(Server, "brwU");
        Assert.Equal(IceCheckOutcome.Success, Send(agent, Check("srvU:brwU", Server.Pwd, useCandidate: true)).Outcome);
        var fresh = new IceCredentials("srv2", "newpasswordnewpassword");
        agent.Restart(fresh, "brw2");

        Assert.Equal(IceCheckOutcome.Success, Send(agent, Check("srvU:brwU", Server.Pwd)).Outcome);   // old still good
        Assert.Equal(IceCheckOutcome.Success, Send(agent, Check("srv2:brw2", fresh.Pwd)).Outcome);     // new used
        Assert.Equal(IceCheckOutcome.Unauthorized, Send(agent, Check("srvU:brwU", Server.Pwd)).Outcome); // old retired
    }

    [Fact]
    public void Consent_expires_after_30_seconds_and_comes_back_with_a_check()
    {
        var clock = new ManualClock();
        var agent = new IceLiteAgent(Server, "brwU", clock);
        Send(agent, Check("srvU:brwU", Server.Pwd, useCandidate: true));
        clock.Advance(TimeSpan.FromSeconds(29));
        agent.CheckConsent();
        Assert.Equal(IceConnectionState.Connected, agent.State);
        clock.Advance(TimeSpan.FromSeconds(2));
        agent.CheckConsent();
        Assert.Equal(IceConnectionState.Disconnected, agent.State);
        Send(agent, Check("srvU:brwU", Server.Pwd));
        Assert.Equal(IceConnectionState.Connected, agent.State);
        agent.Close();
        Assert.Equal(IceCheckOutcome.Dropped, Send(agent, Check("srvU:brwU", Server.Pwd)).Outcome);
    }

    [Fact]
    public void Generated_credentials_are_valid_and_distinct()
    {
        var a = IceCredentials.Generate();
        var b = IceCredentials.Generate();
        Assert.Null(Parley.WebRtc.Sdp.SdpNegotiation.ValidateIceCredentials(a.Ufrag, a.Pwd));
        Assert.NotEqual(a.Pwd, b.Pwd);
        Assert.Throws<ArgumentException>(() => new IceCredentials("ab", "short"));
    }

    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
