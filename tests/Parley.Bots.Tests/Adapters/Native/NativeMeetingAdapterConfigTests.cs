using System.Text.Json;
using Parley.Bots.Adapters;
using Parley.Bots.Adapters.Native;
using Parley.Core.Bots;

namespace Parley.Bots.Tests.Adapters.Native;

/// <summary>How the adapter reads its join from the bot config (meeting_join of GET /internal/bots/{id}/config).</summary>
public sealed class NativeMeetingAdapterConfigTests
{
    private static BotConfig Config(string data) => BotConfig.Parse(JsonDocument.Parse(data).RootElement);

    [Fact]
    public void Join_token_and_server_are_read_from_meeting_join()
    {
        var config = Config("""{"bot_id":"b1","bot_name":"R","meeting_url":"http://h/meet/abc","meeting_platform":"parley","status":"queued","body":{"entry_message":"hello"},"meeting_join":{"meeting_id":"abc","token":"t0k","server_url":"http://h:8080","error":null}}""");
        var (server, token) = NativeMeetingAdapter.ReadJoin(config);
        Assert.Equal(new Uri("http://h:8080"), server);
        Assert.Equal("t0k", token);
        Assert.Equal("hello", NativeMeetingAdapter.EntryMessage(config));
    }

    [Theory]
    [InlineData("""{"bot_id":"b1","meeting_platform":"parley","status":"queued"}""")]
    [InlineData("""{"bot_id":"b1","meeting_platform":"parley","status":"queued","meeting_join":{"meeting_id":"abc","error":"Meeting abc has ended."}}""")]
    [InlineData("""{"bot_id":"b1","meeting_platform":"parley","status":"queued","meeting_join":{"meeting_id":"abc","token":"t","server_url":"not a url"}}""")]
    public void A_missing_or_refused_join_fails_the_bot_with_cannot_join_meeting(string data)
    {
        var ex = Assert.Throws<MeetingFailedException>(() => NativeMeetingAdapter.ReadJoin(Config(data)));
        Assert.Equal(BotErrorCode.CannotJoinMeeting, ex.ErrorCode);
        Assert.Equal(BotStatus.MeetingError, ex.ReasonStatus);
    }

    [Fact]
    public void The_default_registry_has_the_native_adapter_for_parley()
    {
        var registry = MeetingAdapterRegistry.CreateDefault(new BotOptions());
        var config = Config("""{"bot_id":"b1","meeting_platform":"parley","status":"queued"}""");
        var adapter = registry.Create(new MeetingAdapterContext(config, new BotOptions(), Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, TimeProvider.System));
        Assert.IsType<NativeMeetingAdapter>(adapter);
    }
}
