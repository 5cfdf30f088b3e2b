using System.Net.Http.Json;
using System.Text.Json;
using Parley.Core.Bots;
using Parley.Sfu.Client;

namespace Parley.Bots.Tests.Adapters.Native;

/// <summary>
/// Issue 7's waiting room on a real `parley serve` (all roles, the local platform starting a real `parley bot run`):
/// a meeting created with the lobby on (POST /v2/meetings {lobby: true}) puts the bot in the lobby like any non-host
/// joiner (Room.cs). Not admitted within timeout_config.waiting_room_timeout, the bot reports in_waiting_room, then
/// waiting_room_timeout and ends failed with TIMEOUT_WAITING_TO_START; admitted by a host (a native participant with a
/// host token), it records. One server for the class; each case is its own meeting and bot.
/// </summary>
public sealed class NativeBotLobbyTests(NativeBotLobbyFixture lobby) : IClassFixture<NativeBotLobbyFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    private NativeBotServerFixture Fixture => lobby.Server;

    [Fact]
    public async Task A_bot_nobody_admits_reports_the_waiting_room_then_fails_with_the_waiting_room_timeout()
    {
        var meetingId = await CreateLobbyMeetingAsync();
        await using var host = await JoinHostAsync(meetingId);

        var botId = await CreateBotAsync(meetingId, "audio_only", waitingRoomSeconds: 10);
        var request = await host.Requests.Task.WaitAsync(Deadline);
        Assert.Equal("Recorder", request.Name);
        await Fixture.WaitHistoryAsync(botId, BotStatus.InWaitingRoom);

        // Nobody decides: the host sees the request and leaves it be.
        var details = await Fixture.WaitEndedAsync(botId);
        var history = Codes(details);
        Assert.True(details.GetProperty("status").GetString() == BotStatus.Failed, details.ToString());
        Assert.Equal(BotErrorCode.TimeoutWaitingToStart, details.GetProperty("error_code").GetString());
        Assert.Contains("waiting_room_timeout (10 s)", details.GetProperty("error_message").GetString(), StringComparison.Ordinal);
        Assert.True(
            history.IndexOf(BotStatus.JoiningCall) < history.IndexOf(BotStatus.InWaitingRoom)
                && history.IndexOf(BotStatus.InWaitingRoom) < history.IndexOf(BotStatus.WaitingRoomTimeout)
                && history.IndexOf(BotStatus.WaitingRoomTimeout) < history.IndexOf(BotStatus.Failed),
            string.Join(", ", history));
        Assert.DoesNotContain(BotStatus.InCallNotRecording, history);
        Assert.DoesNotContain(BotStatus.InCallRecording, history);

        // The bot gave up: the SFU no longer holds it in the lobby, and it never joined the call.
        Assert.Equal(request.ParticipantId, await host.LobbyLeft.Task.WaitAsync(Deadline));
        Assert.DoesNotContain(host.Client.Participants, p => p.IsBot);
    }

    [Fact]
    public async Task A_bot_a_host_admits_leaves_the_waiting_room_and_records()
    {
        var meetingId = await CreateLobbyMeetingAsync();
        await using var host = await JoinHostAsync(meetingId);
        var publication = await host.Client.PublishAsync(new PublishOptions { Audio = true, Video = true });
        using var sending = new CancellationTokenSource();
        var sender = Task.Run(() => NativeBotEndToEndTests.SendMedia(host.Client, publication, Fixture.Opus, Fixture.Vp8, sending.Token));
        try
        {
            var botId = await CreateBotAsync(meetingId, "audio_only", waitingRoomSeconds: 600);
            var request = await host.Requests.Task.WaitAsync(Deadline);
            Assert.Equal("Recorder", request.Name);
            await Fixture.WaitHistoryAsync(botId, BotStatus.InWaitingRoom);

            await host.Client.LobbyDecisionAsync(request.ParticipantId, admit: true);
            await Fixture.WaitHistoryAsync(botId, BotStatus.InCallRecording);
            var bot = await host.BotJoined.Task.WaitAsync(Deadline);
            Assert.Equal(request.ParticipantId, bot.ParticipantId);

            await Fixture.PostAsync($"/v2/bots/{botId}/leave");
            var details = await Fixture.WaitEndedAsync(botId);
            var history = Codes(details);
            Assert.True(details.GetProperty("status").GetString() == BotStatus.Completed, details.ToString());
            Assert.True(
                history.IndexOf(BotStatus.InWaitingRoom) < history.IndexOf(BotStatus.InCallNotRecording)
                    && history.IndexOf(BotStatus.InCallNotRecording) < history.IndexOf(BotStatus.InCallRecording),
                string.Join(", ", history));
            Assert.DoesNotContain(BotStatus.WaitingRoomTimeout, history);
            Assert.Contains(details.GetProperty("participants").EnumerateArray(), p => p.GetProperty("name").GetString() == "Hannah");
            Assert.Equal(JsonValueKind.String, details.GetProperty("audio").ValueKind);
        }
        finally
        {
            await sending.CancelAsync();
            await sender;
        }
    }

    private static List<string> Codes(JsonElement details) =>
        [.. details.GetProperty("status_history").EnumerateArray().Select(h => h.GetProperty("code").GetString()!)];

    private async Task<string> CreateLobbyMeetingAsync()
    {
        var meeting = await NativeBotEndToEndTests.DataAsync(await Fixture.Http.PostAsJsonAsync("/v2/meetings", new { name = "lobby", lobby = true }));
        var details = await NativeBotEndToEndTests.DataAsync(await Fixture.Http.GetAsync($"/v2/meetings/{meeting.GetProperty("meeting_id").GetString()}"));
        Assert.True(details.GetProperty("lobby").GetBoolean(), details.ToString());
        return meeting.GetProperty("meeting_id").GetString()!;
    }

    private async Task<string> CreateBotAsync(string meetingId, string recordingMode, int waitingRoomSeconds)
    {
        var meeting = await NativeBotEndToEndTests.DataAsync(await Fixture.Http.GetAsync($"/v2/meetings/{meetingId}"));
        var created = await NativeBotEndToEndTests.DataAsync(await Fixture.Http.PostAsJsonAsync("/v2/bots", new
        {
            bot_name = "Recorder",
            meeting_url = meeting.GetProperty("join_url").GetString(),
            recording_mode = recordingMode,
            timeout_config = new { waiting_room_timeout = waitingRoomSeconds },
        }));
        return created.GetProperty("bot_id").GetString()!;
    }

    /// <summary>A native participant with a host token (POST /v2/meetings/{id}/tokens {host: true}), joined past the lobby.</summary>
    private async Task<LobbyHost> JoinHostAsync(string meetingId)
    {
        var token = await MeetingTokens.CreateAsync(Fixture.Http, NativeBotServerFixture.Key, meetingId, "hannah", "Hannah", host: true);
        var host = new LobbyHost(new MeetingClient(new MeetingClientOptions { ServerUrl = Fixture.BaseUrl, Token = token }));
        await host.Client.JoinAsync();
        return host;
    }

    private sealed record LobbyRequest(string ParticipantId, string? Name);

    /// <summary>The host and what it saw: the lobby request, the waiter leaving the lobby, the bot joining the call.</summary>
    private sealed class LobbyHost : IAsyncDisposable
    {
        public LobbyHost(MeetingClient client)
        {
            Client = client;
            client.MessageReceived += (type, message) =>
            {
                if (type == "lobby_request")
                {
                    var participant = message.GetProperty("participant");
                    Requests.TrySetResult(new LobbyRequest(
                        participant.GetProperty("participant_id").GetString()!,
                        participant.TryGetProperty("name", out var name) ? name.GetString() : null));
                }
                else if (type == "lobby_left")
                {
                    LobbyLeft.TrySetResult(message.GetProperty("participant_id").GetString()!);
                }
            };
            client.ParticipantJoined += p =>
            {
                if (p.IsBot)
                {
                    BotJoined.TrySetResult(p);
                }
            };
        }

        public MeetingClient Client { get; }

        public TaskCompletionSource<LobbyRequest> Requests { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<string> LobbyLeft { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<ParticipantInfo> BotJoined { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ValueTask DisposeAsync() => Client.DisposeAsync();
    }
}

/// <summary>The class's `parley serve`: <see cref="NativeBotServerFixture"/> on RTC ports 30830–30850, apart from the other classes'.</summary>
public sealed class NativeBotLobbyFixture : IAsyncLifetime
{
    public NativeBotServerFixture Server { get; } = new(30830, 30850);

    public Task InitializeAsync() => Server.InitializeAsync();

    public Task DisposeAsync() => Server.DisposeAsync();
}
