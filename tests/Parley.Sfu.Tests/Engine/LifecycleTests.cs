using Parley.Sfu.Rooms;

namespace Parley.Sfu.Tests.Engine;

/// <summary>Meetings end on their TTL and after being empty; dead transports free their participant.</summary>
public sealed class LifecycleTests : IDisposable
{
    private readonly EngineFixture _fixture = new(consentTimeout: TimeSpan.FromSeconds(2));

    [Fact]
    public async Task A_meeting_closes_for_everyone_when_its_ttl_ends()
    {
        _fixture.Authority.EndsAt = DateTimeOffset.UtcNow.AddSeconds(2);
        var (alice, aliceSink) = await _fixture.JoinAsync("ttl", "alice");
        var closed = await aliceSink.WaitAsync<MeetingClosedMessage>(timeout: TimeSpan.FromSeconds(15));
        Assert.Equal("ttl", closed.Reason);
        Assert.True(aliceSink.Closed);
        await WaitAsync(() => _fixture.Authority.ClosedMeetings.Contains(("ttl", "ttl")));
        Assert.Null(_fixture.Engine.FindRoom("ttl"));
        Assert.Equal(ParticipantState.Left, alice.State);
    }

    [Fact]
    public async Task A_bot_waits_in_the_lobby_until_a_host_admits_it()
    {
        _fixture.Authority.Lobby = true;
        var (host, hostSink) = await _fixture.JoinAsync("lobby-bot", "host", "host");
        var (bot, botSink) = await _fixture.JoinAsync("lobby-bot", "recorder", "bot");

        await botSink.WaitAsync<LobbyWaitingMessage>();
        var request = await hostSink.WaitAsync<LobbyRequestMessage>();
        Assert.Equal(bot.Id, request.Participant.ParticipantId);
        Assert.Equal(ParticipantState.Waiting, bot.State);
        EngineFixture.Under(host, () => host.Room.LobbyDecision(host, bot.Id, admit: true));
        await botSink.WaitAsync<JoinedMessage>();
        Assert.Equal(ParticipantState.Joined, bot.State);
    }

    [Fact]
    public async Task An_empty_meeting_closes_after_the_empty_timeout_and_a_busy_one_does_not()
    {
        _fixture.Authority.EmptyTimeout = TimeSpan.FromSeconds(1);
        var (alice, _) = await _fixture.JoinAsync("empty", "alice");
        var (bob, _) = await _fixture.JoinAsync("busy", "bob");
        EngineFixture.Under(alice, () => alice.Room.Leave(alice, "left"));

        await WaitAsync(() => _fixture.Authority.ClosedMeetings.Contains(("empty", "empty")));
        Assert.Null(_fixture.Engine.FindRoom("empty"));
        Assert.NotNull(_fixture.Engine.FindRoom("busy"));
        Assert.Equal(ParticipantState.Joined, bob.State);
    }

    [Fact]
    public async Task A_publisher_that_stops_consent_checks_is_removed_and_its_transport_freed()
    {
        var (alice, aliceSink) = await _fixture.JoinAsync("consent", "alice");
        var (bob, bobSink) = await _fixture.JoinAsync("consent", "bob");
        var publisher = new NativePublisher();
        await ForwardingTests.PublishAsync(alice, aliceSink, publisher);
        publisher.Dispose(); // gone without a word: no more ICE checks

        var error = await aliceSink.WaitAsync<ErrorMessage>(e => e.Code == "MEDIA_DISCONNECTED", timeout: TimeSpan.FromSeconds(15));
        Assert.NotNull(error);
        var left = await bobSink.WaitAsync<ParticipantLeftMessage>();
        Assert.Equal("disconnected", left.Reason);
        Assert.True(aliceSink.Closed);
        Assert.Equal(0, _fixture.Engine.Workers[0].Socket.Router.UfragCount);
        EngineFixture.Under(bob, () => Assert.Empty(bob.ConsumersBySsrc));
    }

    private static async Task WaitAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not become true in time");
            await Task.Delay(20);
        }
    }

    public void Dispose() => _fixture.Dispose();
}
