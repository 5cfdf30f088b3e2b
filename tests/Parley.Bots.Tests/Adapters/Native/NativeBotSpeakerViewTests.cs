using System.Net.Http.Json;
using Parley.Bots.Tests.Recording;
using Parley.Sfu.Client;
using Parley.Testing;

namespace Parley.Bots.Tests.Adapters.Native;

/// <summary>
/// Speaker view end to end (issue 7): two publishers in a Parley meeting, one red and one blue, take turns to
/// speak (their audio-level extension says voice or digital silence); a native bot records `speaker_view`, and
/// the MP4 shows whoever speaks full-frame, switching when the other takes over.
/// </summary>
public sealed class NativeBotSpeakerViewTests : IAsyncLifetime
{
    private readonly NativeBotServerFixture _fixture = new(30860, 30880);
    private readonly TempDirectory _media = new();

    public Task InitializeAsync() => _fixture.InitializeAsync();

    public async Task DisposeAsync()
    {
        await _fixture.DisposeAsync();
        _media.Dispose();
    }

    [Fact]
    public async Task Speaker_view_shows_whoever_speaks_and_switches_when_the_other_takes_over()
    {
        var ffmpeg = Media.Require("ffmpeg");
        var red = await NativeBotEndToEndTests.EncodeVp8Async(ffmpeg, _media.Path, "color=c=red");
        var blue = await NativeBotEndToEndTests.EncodeVp8Async(ffmpeg, _media.Path, "color=c=blue");
        // Alice speaks until the turn, Bob after it; the turn is set once the bot records.
        var turn = new TurnClock();
        await using var meeting = await StartMeetingAsync([("Alice", red, _ => !turn.Passed), ("Bob", blue, _ => turn.Passed)]);

        var botId = await _fixture.CreateBotAsync(meeting.JoinUrl, "speaker_view");
        await _fixture.WaitHistoryAsync(botId, "in_call_recording");
        await Task.Delay(TimeSpan.FromSeconds(7));
        turn.Pass();
        await Task.Delay(TimeSpan.FromSeconds(8));
        await _fixture.PostAsync($"/v2/bots/{botId}/leave");
        var details = await _fixture.WaitEndedAsync(botId);

        Assert.True(details.GetProperty("status").GetString() == "completed", details.ToString());
        var mp4 = await _fixture.DownloadAsync(details, "video", "mp4");
        var end = Media.Duration(Media.Probe(mp4));
        Assert.True(end > 12, $"the MP4 lasts {end:F1} s; expected about 15 s");

        // Counted from the end (the bot left 8 s after the turn): 11 s before it Alice had the floor, 3 s before
        // it Bob had had it for 5 s, beyond the 2 s hold.
        var alice = (U: RecordingComposerTests.Stat(mp4, end - 11, "UAVG"), V: RecordingComposerTests.Stat(mp4, end - 11, "VAVG"));
        var bob = (U: RecordingComposerTests.Stat(mp4, end - 3, "UAVG"), V: RecordingComposerTests.Stat(mp4, end - 3, "VAVG"));
        Assert.True(alice.V > 200 && alice.U < 128, $"{end - 11:F1} s: Alice (red) should fill the frame: U {alice.U:F0}, V {alice.V:F0}");
        Assert.True(bob.U > 200 && bob.V < 160, $"{end - 3:F1} s: Bob (blue) should fill the frame: U {bob.U:F0}, V {bob.V:F0}");

        // The speaker list agrees: both spoke.
        var speakers = details.GetProperty("speakers").EnumerateArray().Select(s => s.GetProperty("name").GetString()).ToList();
        Assert.Contains("Alice", speakers);
        Assert.Contains("Bob", speakers);
    }

    private async Task<PublishedMeeting> StartMeetingAsync(IReadOnlyList<(string Name, List<byte[]> Vp8, Func<TimeSpan, bool> Speaking)> publishers)
    {
        var meeting = await NativeBotEndToEndTests.DataAsync(await _fixture.Http.PostAsJsonAsync("/v2/meetings", new { name = "speaker view" }));
        var meetingId = meeting.GetProperty("meeting_id").GetString()!;
        var published = new PublishedMeeting(meeting.GetProperty("join_url").GetString()!);
        foreach (var (name, vp8, speaking) in publishers)
        {
            var token = await MeetingTokens.CreateAsync(_fixture.Http, NativeBotServerFixture.Key, meetingId, name.ToLowerInvariant(), name);
            var client = new MeetingClient(new MeetingClientOptions { ServerUrl = _fixture.BaseUrl, Token = token });
            published.Clients.Add(client);
            await client.JoinAsync();
            var publication = await client.PublishAsync(new PublishOptions { Audio = true, Video = true });
            published.Senders.Add(Task.Run(() => NativeBotEndToEndTests.SendMedia(client, publication, _fixture.Opus, vp8, published.Stop.Token, speaking)));
        }

        return published;
    }

    /// <summary>When the floor passes from the first speaker to the second; read by the senders' threads.</summary>
    private sealed class TurnClock
    {
        private volatile bool _passed;

        public bool Passed => _passed;

        public void Pass() => _passed = true;
    }
}
