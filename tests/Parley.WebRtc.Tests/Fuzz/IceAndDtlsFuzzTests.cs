using System.Net;
using System.Text;
using Parley.WebRtc.Dtls;
using Parley.WebRtc.Ice;
using Parley.WebRtc.Stun;
using Parley.WebRtc.Transport;

namespace Parley.WebRtc.Tests.Fuzz;

/// <summary>The ICE agents, the router and the DTLS engine also read network input: feed them garbage too.</summary>
public class IceAndDtlsFuzzTests
{
    private static readonly IceCredentials Server = new("srvU", "serverpasswordserverpw");

    private static byte[] Check(bool useCandidate)
    {
        var buffer = new byte[256];
        var b = new StunMessageBuilder(buffer, StunMessageType.BindingRequest, new byte[12]);
        b.AddUsername("srvU:brwU");
        b.AddPriority(1);
        b.AddIceControlling(1);
        if (useCandidate)
        {
            b.AddUseCandidate();
        }

        b.AddMessageIntegrity(Encoding.ASCII.GetBytes(Server.Pwd));
        b.AddFingerprint();
        return buffer[..b.Length];
    }

    [Fact]
    public void Ice_lite_agent_and_router_survive_fuzzing()
    {
        var agent = new IceLiteAgent(Server, "brwU");
        var router = new PeerRouter<string>();
        router.AddUfrag("srvU", "peer");
        var from = new IPEndPoint(IPAddress.Loopback, 5000);
        var address = from.Serialize();
        var response = new byte[IceLiteAgent.MaxResponseLength];
        var successes = 0;
        Fuzzer.Run(8445, [Check(true), Check(false)], input =>
        {
            router.TryRoute(input, address, out _);
            PeerRouter<string>.TryGetLocalUfrag(input, out _);
            var outcome = agent.ProcessStun(input, from, response, out var length);
            if (outcome == IceCheckOutcome.Success)
            {
                successes++;
            }

            if (length > 0)
            {
                Assert.True(StunMessage.TryParse(response.AsSpan(0, length), out var answer));
                Assert.True(answer.VerifyFingerprint());
            }
        }, [0, 1]);

        // Mutations that keep a check intact still authenticate; forged ones must not.
        Assert.True(successes < Fuzzer.Iterations / 2);
    }

    [Fact]
    public async Task A_dtls_server_fed_garbage_still_completes_a_real_handshake()
    {
        var serverCertificate = DtlsCertificate.Generate();
        var clientCertificate = DtlsCertificate.Generate();
        DtlsEndpoint? client = null;
        using var server = new DtlsEndpoint(DtlsRole.Server, serverCertificate, clientCertificate.Fingerprint, d => client!.Deliver(d.Span));
        var serverTask = server.HandshakeAsync();

        // 5,000 random and DTLS-looking datagrams first. The transport queue holds 256 and drops the
        // rest, as under a flood; the record layer must discard what it reads and keep waiting.
        var random = new Random(6347);
        for (var i = 0; i < 5_000; i++)
        {
            var datagram = new byte[random.Next(1, 300)];
            random.NextBytes(datagram);
            if (i % 2 == 0 && datagram.Length > 13)
            {
                datagram[0] = 22;          // handshake
                datagram[1] = 0xFE;        // DTLS 1.x
                datagram[2] = 0xFD;
            }

            server.Deliver(datagram);
        }

        client = new DtlsEndpoint(DtlsRole.Client, clientCertificate, serverCertificate.Fingerprint, d => server.Deliver(d.Span));
        using (client)
        {
            var keys = await client.HandshakeAsync().WaitAsync(TimeSpan.FromSeconds(60));
            var serverKeys = await serverTask.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(serverKeys.LocalMasterKey, keys.RemoteMasterKey);
        }
    }
}
