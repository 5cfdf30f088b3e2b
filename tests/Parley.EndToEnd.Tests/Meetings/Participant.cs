using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using Parley.Testing;
using static Microsoft.Playwright.Assertions;

namespace Parley.EndToEnd.Tests.Meetings;

/// <summary>One person in a meeting: a browser context with the real web client in one page.</summary>
internal sealed class Participant : IAsyncDisposable
{
    public static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(45);
    public static readonly TimeSpan MediaTimeout = TimeSpan.FromSeconds(60);

    private readonly List<string> _console = [];
    private readonly Lock _gate = new();

    private Participant(string name, IBrowserContext context, IPage page)
    {
        Name = name;
        Context = context;
        Page = page;
        page.Console += (_, message) => Record($"console.{message.Type}: {message.Text}");
        page.PageError += (_, error) => Record($"pageerror: {error}");
        page.WebSocket += (_, socket) =>
        {
            Record($"websocket open {socket.Url}");
            socket.Close += (_, _) => Record("websocket closed");
        };
    }

    public string Name { get; }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    /// <summary>Remote participants' camera tiles.</summary>
    public ILocator RemoteTiles => Page.Locator("[data-testid=tile][data-local=false]");

    public ILocator PlayingRemoteTiles => Page.Locator("[data-testid=tile][data-local=false][data-video-state=playing]");

    public ILocator Tile(string participantId) => Page.Locator($"[data-testid=tile][data-participant-id=\"{participantId}\"]");

    public static async Task<Participant> OpenAsync(MeetingEnvironment environment, string name, string path, bool phone = false) =>
        await OpenAsync(await environment.NewParticipantContextAsync(phone), name, path);

    /// <summary>Opens <paramref name="path"/> in a context the caller made (its own server and browser); the participant owns the context.</summary>
    public static async Task<Participant> OpenAsync(IBrowserContext context, string name, string path)
    {
        var page = await context.NewPageAsync();
        var participant = new Participant(name, context, page);
        await page.GotoAsync(path);
        await Expect(page.GetByTestId("prejoin")).ToBeVisibleAsync(new() { Timeout = 20_000 });
        return participant;
    }

    /// <summary>Types the name (guests; a token carries its own) and presses Join.</summary>
    public async Task PressJoinAsync()
    {
        var input = Page.GetByTestId("name-input");
        if (await input.IsVisibleAsync() && await input.IsEditableAsync())
        {
            await input.FillAsync(Name);
        }

        await WaitForDevicesAsync();
        await Page.GetByTestId("join-button").ClickAsync();
    }

    /// <summary>The pre-join screen opens the fake camera and microphone; joining before that would join without them.</summary>
    public Task WaitForDevicesAsync() =>
        Page.WaitForFunctionAsync("() => !!window.parley && !!window.parley.app.local.camera && !!window.parley.app.local.microphone",
            null, new() { Timeout = 20_000 });

    /// <summary>Joins and waits until the meeting screen shows.</summary>
    public async Task JoinAsync()
    {
        await PressJoinAsync();
        await Expect(Page.GetByTestId("meeting")).ToBeVisibleAsync(new() { Timeout = (float)JoinTimeout.TotalMilliseconds });
    }

    public Task<string> ParticipantIdAsync() => Page.EvaluateAsync<string>("() => window.parley.participantId");

    /// <summary>The subscribe connection's inbound-rtp streams, as window.parley.subscribePc.getStats() reports them.</summary>
    public async Task<InboundStream[]> InboundAsync()
    {
        var json = await Page.EvaluateAsync<string>("""
            async () => {
              const pc = window.parley && window.parley.subscribePc;
              if (!pc) return '[]';
              const result = [];
              (await pc.getStats()).forEach(s => {
                if (s.type === 'inbound-rtp') result.push({ kind: s.kind, mid: s.mid ?? null, ssrc: s.ssrc, packets: s.packetsReceived ?? 0, frames: s.framesDecoded ?? 0 });
              });
              return JSON.stringify(result);
            }
            """);
        return JsonSerializer.Deserialize<InboundStream[]>(json, MeetingEnvironment.Json) ?? [];
    }

    /// <summary>
    /// Waits until at least <paramref name="perKind"/> audio and video streams have packets, then until every
    /// one of them has more: media keeps flowing, it did not just start.
    /// </summary>
    public async Task WaitForGrowingInboundAsync(int perKind)
    {
        InboundStream[] last = [];
        var first = await PollAsync(async () =>
        {
            last = await InboundAsync();
            var flowing = last.Where(s => s.Packets > 0).ToArray();
            return flowing.Count(s => s.Kind == "video") >= perKind && flowing.Count(s => s.Kind == "audio") >= perKind ? flowing : null;
        }, () => $"{Name} to receive packets on {perKind} audio and {perKind} video streams; inbound-rtp: [{string.Join(", ", last)}]");

        await PollAsync(async () =>
        {
            last = await InboundAsync();
            var now = last.ToDictionary(s => s.Key);
            return first.All(s => now.TryGetValue(s.Key, out var later) && later.Packets > s.Packets) ? now : null;
        }, () => $"{Name}'s inbound packet counts to grow; first: [{string.Join(", ", first)}], last: [{string.Join(", ", last)}]");
    }

    /// <summary>Polls with a deadline (never a fixed sleep) and says what it last saw when time runs out.</summary>
    public static async Task<T> PollAsync<T>(Func<Task<T?>> probe, Func<string> describe, TimeSpan? timeout = null)
        where T : class
    {
        var deadline = DateTime.UtcNow + (timeout ?? MediaTimeout);
        while (DateTime.UtcNow < deadline)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"Timed out after {(timeout ?? MediaTimeout).TotalSeconds:0}s waiting for {describe()}");
    }

    /// <summary>Everything that helps explain a failure: console, WebSocket events, the signaling trace.</summary>
    public async Task<string> DiagnosticsAsync()
    {
        var text = new StringBuilder();
        text.AppendLine($"=== {Name} ({Page.Url}) ===");
        lock (_gate)
        {
            foreach (var line in _console.TakeLast(60))
            {
                text.AppendLine(line);
            }
        }

        try
        {
            var state = await Page.EvaluateAsync<string>("""
                () => JSON.stringify({
                  screen: document.getElementById('app')?.dataset.screen,
                  error: document.getElementById('error-message')?.textContent,
                  errorCode: document.getElementById('screen-error')?.dataset.code,
                  signaling: window.parley?.state,
                  participantId: window.parley?.participantId,
                  publish: window.parley?.publishPc?.connectionState ?? null,
                  subscribe: window.parley?.subscribePc?.connectionState ?? null,
                  log: (window.parley?.signaling?.log ?? []).filter(e => !['active_speaker', 'ping', 'pong'].includes(e[2].type)).slice(-60),
                })
                """);
            text.AppendLine(state);
        }
        catch (PlaywrightException ex)
        {
            text.AppendLine($"(page state unavailable: {ex.Message})");
        }

        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Context.CloseAsync();
        }
        catch (PlaywrightException)
        {
            // The browser may already be gone at the end of a failed run.
        }
    }

    private void Record(string line)
    {
        lock (_gate)
        {
            _console.Add($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
        }
    }
}

internal sealed record InboundStream(string Kind, string? Mid, long Ssrc, long Packets, long Frames)
{
    public string Key => $"{Kind}:{Mid ?? Ssrc.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
}

/// <summary>
/// The participants of one test. A failing step is rethrown with every participant's diagnostics and the
/// server's log, so that a red test says what the client sent and what the server answered.
/// </summary>
internal sealed class MeetingScene(MeetingEnvironment environment, Xunit.Abstractions.ITestOutputHelper output) : IAsyncDisposable
{
    private readonly List<Participant> _participants = [];

    public MeetingEnvironment Environment => environment;

    public async Task<Participant> OpenAsync(string name, string path, bool phone = false)
    {
        var participant = await Participant.OpenAsync(environment, name, path, phone);
        _participants.Add(participant);
        return participant;
    }

    public async Task<Participant> JoinAsGuestAsync(string meetingId, string name, bool phone = false)
    {
        var participant = await OpenAsync(name, $"/meet/{meetingId}", phone);
        await StepAsync($"{name} joins as a guest", participant.JoinAsync);
        return participant;
    }

    public async Task<Participant> JoinWithTokenAsync(string meetingId, string name, string token)
    {
        var participant = await OpenAsync(name, $"/meet/{meetingId}?token={Uri.EscapeDataString(token)}");
        await StepAsync($"{name} joins with a token", participant.JoinAsync);
        return participant;
    }

    public async Task StepAsync(string what, Func<Task> step)
    {
        try
        {
            await step();
        }
        catch (Exception ex) when (ex is not StepFailedException)
        {
            var details = new StringBuilder();
            details.AppendLine($"Step failed: {what}: {ex.Message}");
            foreach (var participant in _participants)
            {
                details.AppendLine(await participant.DiagnosticsAsync());
            }

            details.AppendLine(environment.ServerLogTail());
            output.WriteLine(details.ToString());
            throw new StepFailedException(details.ToString(), ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var participant in _participants)
        {
            await participant.DisposeAsync();
        }
    }
}

internal sealed class StepFailedException(string message, Exception inner) : Exception(message, inner);
