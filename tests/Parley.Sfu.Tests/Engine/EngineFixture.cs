using System.Collections.Concurrent;
using System.Net;
using Parley.Sfu.Meetings;
using Parley.Sfu.Rooms;

namespace Parley.Sfu.Tests.Engine;

/// <summary>
/// Tokens for engine tests: "meeting|identity|flags" where flags may hold host, bot, nopublish.
/// Anything else is refused as INVALID_TOKEN, like a bad JWT.
/// </summary>
internal sealed class FakeAuthority : IMeetingAuthority
{
    public int MaxParticipants { get; set; } = 50;

    public bool Lobby { get; set; }

    public TimeSpan EmptyTimeout { get; set; } = TimeSpan.FromMinutes(5);

    public DateTimeOffset EndsAt { get; set; } = DateTimeOffset.UtcNow.AddHours(4);

    public ConcurrentQueue<(string MeetingId, string Reason)> ClosedMeetings { get; } = new();

    public ValueTask<JoinAuthorization> AuthorizeAsync(string token, CancellationToken cancellationToken)
    {
        var parts = token.Split('|');
        if (parts.Length != 3)
        {
            return ValueTask.FromResult(JoinAuthorization.Refused("INVALID_TOKEN", "bad token"));
        }

        var grant = new JoinGrant
        {
            MeetingId = parts[0],
            Identity = parts[1],
            Name = parts[1],
            IsHost = parts[2].Contains("host", StringComparison.Ordinal),
            IsBot = parts[2].Contains("bot", StringComparison.Ordinal),
            CanPublish = !parts[2].Contains("nopublish", StringComparison.Ordinal),
            ExpiresAt = DateTimeOffset.UtcNow.AddHours(1),
        };
        return ValueTask.FromResult(JoinAuthorization.Allowed(grant, Policy(parts[0])));
    }

    public MeetingPolicy Policy(string meetingId) => new()
    {
        MeetingId = meetingId,
        MaxParticipants = MaxParticipants,
        Lobby = Lobby,
        EndsAt = EndsAt,
        EmptyTimeout = EmptyTimeout,
    };

    public ValueTask MeetingClosedAsync(string meetingId, string reason, CancellationToken cancellationToken)
    {
        ClosedMeetings.Enqueue((meetingId, reason));
        return ValueTask.CompletedTask;
    }
}

/// <summary>A participant's signaling as the engine sees it: every message kept for the test to wait on.</summary>
internal sealed class RecordingSink : IParticipantSink
{
    private readonly ConcurrentQueue<ServerMessage> _messages = new();

    public IReadOnlyList<ServerMessage> Messages => _messages.ToList();

    public bool Closed { get; private set; }

    public void Send(ServerMessage message) => _messages.Enqueue(message);

    public void Close(string reason) => Closed = true;

    public async Task<T> WaitAsync<T>(Func<T, bool>? predicate = null, int skip = 0, TimeSpan? timeout = null)
        where T : ServerMessage
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (DateTime.UtcNow < deadline)
        {
            var match = _messages.OfType<T>().Where(m => predicate?.Invoke(m) ?? true).Skip(skip).FirstOrDefault();
            if (match is not null)
            {
                return match;
            }

            await Task.Delay(10);
        }

        throw new TimeoutException($"No {typeof(T).Name} arrived; got: {string.Join(", ", _messages.Select(m => m.Type))}");
    }

    public int Count<T>() where T : ServerMessage => _messages.OfType<T>().Count();
}

/// <summary>An SFU engine on loopback with one worker, and helpers to join its rooms as the signaling layer does.</summary>
internal sealed class EngineFixture : IDisposable
{
    private static int _nextPort = 21000 + (Environment.ProcessId % 50 * 200);

    public EngineFixture(int workers = 1, TimeSpan? consentTimeout = null)
    {
        var first = Interlocked.Add(ref _nextPort, 10) - 10;
        Engine = new SfuEngine(new SfuOptions
        {
            Workers = workers,
            MinPort = first,
            MaxPort = first + 400,
            ListenAddress = IPAddress.Loopback,
            ConsentTimeout = consentTimeout ?? TimeSpan.FromSeconds(30),
        }, Authority);
        Engine.Start();
    }

    public FakeAuthority Authority { get; } = new();

    public SfuEngine Engine { get; }

    public async Task<(Participant Participant, RecordingSink Sink)> JoinAsync(string meetingId, string identity, string flags = "")
    {
        var sink = new RecordingSink();
        var authorization = await Authority.AuthorizeAsync($"{meetingId}|{identity}|{flags}", CancellationToken.None);
        var room = Engine.GetOrCreateRoom(authorization.Policy!);
        lock (room.Worker.Sync)
        {
            return (room.Join(authorization.Grant!, authorization.Policy!, sink), sink);
        }
    }

    public static void Under(Participant participant, Action action)
    {
        lock (participant.Room.Worker.Sync)
        {
            action();
        }
    }

    public void Dispose() => Engine.Dispose();
}
