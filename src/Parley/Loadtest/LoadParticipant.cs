using System.Collections.Concurrent;
using System.Diagnostics;
using Parley.Sfu.Client;
using Parley.WebRtc.Srtp;

namespace Parley.Loadtest;

/// <summary>Errors by kind, for the report.</summary>
internal sealed class ErrorCounter
{
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _firstDetail = new(StringComparer.Ordinal);

    /// <summary>The first message seen of each kind (printed to stderr at the end, to tell what went wrong).</summary>
    public IReadOnlyDictionary<string, string> FirstDetails => _firstDetail;

    public void Add(string kind, Exception detail)
    {
        Add(kind);
        _firstDetail.TryAdd(kind, detail.Message);
    }

    public void Add(string kind, long count = 1) => _counts.AddOrUpdate(kind, count, (_, n) => n + count);

    public IReadOnlyDictionary<string, long> Snapshot() => new SortedDictionary<string, long>(_counts, StringComparer.Ordinal);

    public long Total => _counts.Values.Sum();
}

/// <summary>One simulated participant; a target (Parley, Janus) supplies the signaling and the connections.</summary>
internal abstract class LoadParticipant : IAsyncDisposable
{
    protected LoadParticipant(int meeting, int index, bool audio, bool video)
    {
        Meeting = meeting;
        Index = index;
        Audio = audio;
        Video = video;
    }

    public int Meeting { get; }

    public int Index { get; }

    public bool Audio { get; }

    public bool Video { get; }

    public bool IsPublisher => Audio || Video;

    public string Name => $"load-{Meeting}-{Index}";

    public MediaReceiver Receiver { get; } = new();

    /// <summary><see cref="SendFeedback"/> as a delegate made once (the feedback thread calls it every 20 ms).</summary>
    public RtpSender FeedbackSender => _feedbackSender ??= SendFeedback;

    private RtpSender? _feedbackSender;

    /// <summary>Set once publishing works; the scheduler thread ticks it.</summary>
    public volatile SyntheticPublisher? Publisher;

    /// <summary>Joined (and, for a publisher, publishing).</summary>
    public volatile bool Connected;

    public volatile bool Failed;

    /// <summary>From the start of the join (token included) to `joined` (or the Janus equivalent), ms.</summary>
    public double JoinMilliseconds { get; protected set; } = -1;

    /// <summary>From the start of the join to the first connected media connection, ms.</summary>
    public double MediaMilliseconds { get; protected set; } = -1;

    /// <summary>Joins, publishes if a publisher, and starts receiving; sets <see cref="Connected"/> or records errors.</summary>
    public abstract Task RunJoinAsync(LoadSettings settings, ErrorCounter errors, CancellationToken cancellationToken);

    /// <summary>Receiver feedback on the subscribe side (NACK, RR, REMB).</summary>
    public abstract SrtpResult SendFeedback(Span<byte> buffer, int length);

    public abstract ValueTask DisposeAsync();

    protected static double Elapsed(long started) => Stopwatch.GetElapsedTime(started).TotalMilliseconds;
}

/// <summary>A participant of a Parley meeting through <see cref="MeetingClient"/>.</summary>
internal sealed class ParleyParticipant(int meeting, int index, bool audio, bool video, HttpClient http, string meetingId) : LoadParticipant(meeting, index, audio, video)
{
    private MeetingClient? _client;

    public override async Task RunJoinAsync(LoadSettings settings, ErrorCounter errors, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        string token;
        try
        {
            token = await MeetingTokens.GuestAsync(http, meetingId, Name, maxAttempts: 20, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MeetingClientException or HttpRequestException or TaskCanceledException)
        {
            errors.Add("token", e);
            Failed = true;
            return;
        }

        var client = new MeetingClient(new MeetingClientOptions { ServerUrl = settings.Url, Token = token, Timeout = TimeSpan.FromSeconds(20) });
        _client = client;
        client.SubscriptionChanged += (_, added, _) =>
        {
            foreach (var track in added)
            {
                track.Tag = Receiver.AddStream(track.Kind, track.ClockRate);
            }
        };
        client.RtpReceived += (track, packet) =>
        {
            if (track.Tag is ReceivedStream stream)
            {
                Receiver.OnRtp(stream, packet);
            }
        };
        client.ErrorReceived += e => errors.Add("signaling:" + e.Code, e);
        client.Disconnected += _ =>
        {
            if (Connected && !cancellationToken.IsCancellationRequested)
            {
                errors.Add("signaling_closed");
            }
        };
        _ = client.SubscribeConnected.ContinueWith(
            t =>
            {
                if (t.IsCompletedSuccessfully)
                {
                    if (MediaMilliseconds < 0)
                    {
                        MediaMilliseconds = Elapsed(started);
                    }
                }
                else if (!cancellationToken.IsCancellationRequested && t.Exception?.InnerException is MeetingClientException { Code: not "CONNECTION_CLOSED" })
                {
                    errors.Add("subscribe_connect");
                }
            },
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        try
        {
            await client.JoinAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            JoinMilliseconds = Elapsed(started);
            if (IsPublisher)
            {
                var publication = await client.PublishAsync(new PublishOptions
                {
                    Audio = Audio,
                    Video = Video,
                    SimulcastRids = Video && settings.Simulcast ? ["q", "h", "f"] : [],
                }, cancellationToken).ConfigureAwait(false);
                MediaMilliseconds = Elapsed(started);
                var publisher = new SyntheticPublisher(Layout(publication) with { Talking = settings.IsTalker(Index) }, settings.VideoBitrateKbps, client.SendRtp, client.SendPublishRtcp);
                client.KeyframeRequested += publisher.OnKeyframeRequest;
                Publisher = publisher;
            }

            Connected = true;
        }
        catch (MeetingClientException e)
        {
            errors.Add(e.Code is "CONNECT_FAILED" or "TIMEOUT" or "CONNECTION_CLOSED" ? e.Code.ToLowerInvariant() : "join:" + e.Code, e);
            Failed = true;
        }
        catch (OperationCanceledException)
        {
            Failed = true;
        }
    }

    public override SrtpResult SendFeedback(Span<byte> buffer, int length) => _client?.SendSubscribeRtcp(buffer, length) ?? SrtpResult.Malformed;

    public override async ValueTask DisposeAsync()
    {
        if (_client is { } client)
        {
            await client.LeaveAsync().ConfigureAwait(false);
            await client.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static PublishLayout Layout(LocalPublication publication) => new()
    {
        Audio = publication.AudioMid is not null,
        Video = publication.VideoMid is not null,
        AudioSsrc = publication.AudioSsrc,
        VideoSsrcs = publication.VideoSsrcs,
        Rids = publication.Rids,
        AudioPayloadType = (byte)publication.AudioPayloadType,
        VideoPayloadType = (byte)publication.VideoPayloadType,
        AudioMid = publication.AudioMid,
        VideoMid = publication.VideoMid,
        // Both sections offer the same ids; the answer may drop some.
        MidExtension = Math.Max(publication.AudioMidExtensionId, publication.VideoMidExtensionId),
        RidExtension = publication.VideoRidExtensionId,
        AbsSendTimeExtension = Math.Max(publication.AudioAbsSendTimeExtensionId, publication.VideoAbsSendTimeExtensionId),
        TransportCcExtension = Math.Max(publication.AudioTransportCcExtensionId, publication.VideoTransportCcExtensionId),
        AudioLevelExtension = publication.AudioLevelExtensionId,
    };
}
