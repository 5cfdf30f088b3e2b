using System.Diagnostics;
using System.Globalization;

namespace Parley.Loadtest;

/// <summary>A live view of the run, once a second.</summary>
internal sealed record LoadProgress(string Phase, double ElapsedSeconds, int Planned, int Started, int Connected, int Failed,
    double PacketsOutPerSecond, double PacketsInPerSecond, double LossPercent, long Errors);

/// <summary>
/// Runs a load test: starts the participants at the ramp, ticks every publisher from one media thread
/// (every 2 ms: media is due every 20 or 33 ms) and every receiver's feedback from another (every 20 ms),
/// keeps the steady state for the duration, drains, and builds the report. Clients are created by the
/// target's factory (Parley or Janus).
/// </summary>
internal sealed class LoadRunner
{
    private readonly LoadSettings _settings;
    private readonly Func<int, int, bool, bool, LoadParticipant> _create;
    private readonly ErrorCounter _errors = new();
    private readonly List<LoadParticipant> _participants = [];
    private volatile bool _sending = true;
    private volatile bool _running = true;

    public LoadRunner(LoadSettings settings, Func<int, int, bool, bool, LoadParticipant> create)
    {
        _settings = settings;
        _create = create;
    }

    public ErrorCounter Errors => _errors;

    public async Task<LoadReport> RunAsync(Action<LoadProgress> progress, CancellationToken cancellationToken)
    {
        for (var meeting = 0; meeting < _settings.Meetings; meeting++)
        {
            var index = 0;
            foreach (var group in _settings.Publishers)
            {
                for (var i = 0; i < group.Count; i++)
                {
                    _participants.Add(_create(meeting, index++, group.Audio, group.Video));
                }
            }
        }

        // Receive-only participants after every publisher: each gets the whole meeting in its first offer.
        for (var meeting = 0; meeting < _settings.Meetings; meeting++)
        {
            for (var i = 0; i < _settings.Subscribers; i++)
            {
                _participants.Add(_create(meeting, _settings.PublishersPerMeeting + i, false, false));
            }
        }

        var started = Stopwatch.GetTimestamp();
        var media = new Thread(MediaLoop) { IsBackground = true, Name = "loadtest-media", Priority = ThreadPriority.AboveNormal };
        var feedback = new Thread(FeedbackLoop) { IsBackground = true, Name = "loadtest-feedback" };
        media.Start();
        feedback.Start();

        var joins = new List<Task>(_participants.Count);
        var last = Snapshot();
        var lastTime = Stopwatch.GetTimestamp();
        var nextProgress = 1.0;
        void Report(string phase)
        {
            var now = Stopwatch.GetTimestamp();
            var current = Snapshot();
            var seconds = Stopwatch.GetElapsedTime(lastTime, now).TotalSeconds;
            progress(new LoadProgress(phase, Stopwatch.GetElapsedTime(started).TotalSeconds, _participants.Count, joins.Count,
                _participants.Count(p => p.Connected), _participants.Count(p => p.Failed),
                seconds > 0 ? (current.Sent - last.Sent) / seconds : 0, seconds > 0 ? (current.Received - last.Received) / seconds : 0,
                LoadReport.LossPercentOf(current.Expected, current.ValidReceived), _errors.Total));
            last = current;
            lastTime = now;
        }

        try
        {
            // Ramp: join i starts at i / ramp seconds.
            for (var i = 0; i < _participants.Count && !cancellationToken.IsCancellationRequested; i++)
            {
                var due = i / _settings.Ramp;
                var wait = due - Stopwatch.GetElapsedTime(started).TotalSeconds;
                if (wait > 0)
                {
                    await Task.Delay(TimeSpan.FromSeconds(wait), cancellationToken).ConfigureAwait(false);
                }

                var participant = _participants[i];
                joins.Add(Task.Run(
                    async () =>
                    {
                        try
                        {
                            await participant.RunJoinAsync(_settings, _errors, cancellationToken).ConfigureAwait(false);
                        }
                        catch (Exception e) when (e is not OutOfMemoryException)
                        {
                            // A failure the participant did not classify: counted, never lost.
                            _errors.Add("unexpected:" + e.GetType().Name, e);
                            participant.Failed = true;
                        }
                    },
                    CancellationToken.None));
                if (Stopwatch.GetElapsedTime(started).TotalSeconds >= nextProgress)
                {
                    nextProgress += 1;
                    Report("joining");
                }
            }

            var all = Task.WhenAll(joins);
            while (!all.IsCompleted)
            {
                await Task.WhenAny(all, Task.Delay(1000, cancellationToken)).ConfigureAwait(false);
                Report("joining");
            }

            var steady = Stopwatch.GetTimestamp();
            while (Stopwatch.GetElapsedTime(steady) < _settings.Duration)
            {
                var left = _settings.Duration - Stopwatch.GetElapsedTime(steady);
                await Task.Delay(left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                Report("running");
            }
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C: report what was measured so far.
        }

        // Drain: stop sending, let what is in flight (and its retransmissions) arrive.
        _sending = false;
        await Task.Delay(TimeSpan.FromMilliseconds(800), CancellationToken.None).ConfigureAwait(false);
        _running = false;
        media.Join();
        feedback.Join();
        var report = BuildReport(Stopwatch.GetElapsedTime(started).TotalSeconds);
        progress(new LoadProgress("done", report.ElapsedSeconds, _participants.Count, joins.Count, report.Clients.Connected, report.Clients.Failed, 0, 0, report.LossPercent, _errors.Total));

        using var gate = new SemaphoreSlim(32);
        await Task.WhenAll(_participants.Select(async p =>
        {
            await gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                await p.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Leaving is best effort; the figures are taken.
            }
            finally
            {
                gate.Release();
            }
        })).ConfigureAwait(false);
        return report;
    }

    private (long Sent, long Received, long Expected, long ValidReceived) Snapshot()
    {
        long sent = 0, received = 0, expected = 0, valid = 0;
        foreach (var participant in _participants)
        {
            sent += participant.Publisher?.PacketsSent ?? 0;
            var totals = participant.Receiver.Totals();
            received += totals.Packets;
            expected += totals.Expected;
            valid += totals.ValidReceived;
        }

        return (sent, received, expected, valid);
    }

    private LoadReport BuildReport(double elapsed)
    {
        long sent = 0, sentBytes = 0, received = 0, receivedBytes = 0, expected = 0, valid = 0, nacks = 0;
        double jitterSum = 0, jitterMax = 0;
        int jitterStreams = 0, streams = 0;
        var delay = new LatencyHistogram();
        foreach (var participant in _participants)
        {
            if (participant.Publisher is { } publisher)
            {
                sent += publisher.PacketsSent;
                sentBytes += publisher.BytesSent;
                if (publisher.SendErrors > 0)
                {
                    _errors.Add("send_failed_packets", publisher.SendErrors);
                }
            }

            var totals = participant.Receiver.Totals();
            received += totals.Packets;
            receivedBytes += totals.Bytes;
            expected += totals.Expected;
            valid += totals.ValidReceived;
            nacks += totals.NacksSent;
            jitterSum += totals.JitterSumMs;
            jitterStreams += totals.JitterStreams;
            jitterMax = Math.Max(jitterMax, totals.JitterMaxMs);
            streams += totals.Streams;
            participant.Receiver.AddDelayTo(delay);
        }

        return new LoadReport
        {
            Target = _settings.Target,
            Url = _settings.Url.ToString(),
            Meetings = _settings.Meetings,
            Publishers = string.Join(',', _settings.Publishers.Select(g => g.ToString())),
            Subscribers = _settings.Subscribers,
            DurationSeconds = _settings.Duration.TotalSeconds,
            ElapsedSeconds = Math.Round(elapsed, 2),
            VideoBitrateKbps = _settings.VideoBitrateKbps,
            Simulcast = _settings.Simulcast,
            Talkers = _settings.Talkers,
            Ramp = _settings.Ramp,
            Clients = new ClientCounts(_participants.Count, _participants.Count(p => p.Connected), _participants.Count(p => p.Failed || !p.Connected), streams),
            JoinMs = Percentiles.Of(_participants.Where(p => p.JoinMilliseconds >= 0).Select(p => p.JoinMilliseconds).ToList()),
            MediaConnectMs = Percentiles.Of(_participants.Where(p => p.MediaMilliseconds >= 0).Select(p => p.MediaMilliseconds).ToList()),
            Packets = new Totals(sent, received),
            Bytes = new Totals(sentBytes, receivedBytes),
            PacketsExpected = expected,
            PacketsLost = Math.Max(0, expected - valid),
            LossPercent = LoadReport.LossPercentOf(expected, valid),
            NacksSent = nacks,
            JitterMs = new JitterFigures(jitterStreams == 0 ? 0 : Math.Round(jitterSum / jitterStreams, 3), Math.Round(jitterMax, 3)),
            DelayMs = Percentiles.Of(delay),
            Errors = _errors.Snapshot(),
        };
    }

    private void MediaLoop()
    {
        while (_running)
        {
            if (_sending)
            {
                var now = LoadClock.NowMicroseconds;
                foreach (var participant in _participants)
                {
                    participant.Publisher?.Tick(now);
                }
            }

            Thread.Sleep(2);
        }
    }

    private void FeedbackLoop()
    {
        var nextReports = 0L;
        while (_running)
        {
            var now = LoadClock.NowMicroseconds;
            var reports = now >= nextReports;
            if (reports)
            {
                nextReports = now + 1_000_000;
            }

            foreach (var participant in _participants)
            {
                if (!participant.Connected)
                {
                    continue;
                }

                participant.Receiver.Tick(now, participant.FeedbackSender);
                if (reports && _sending)
                {
                    participant.Publisher?.SendReports(now);
                }
            }

            Thread.Sleep(20);
        }
    }

    public static string Describe(LoadSettings settings) => string.Create(CultureInfo.InvariantCulture,
        $"{settings.Target} {settings.Url}: {settings.Meetings} meeting(s) × ({string.Join(',', settings.Publishers)} publishers + {settings.Subscribers} subscribers), {settings.Duration.TotalSeconds:0} s, video {settings.VideoBitrateKbps} kbit/s{(settings.Simulcast ? " simulcast" : "")}, ramp {settings.Ramp}/s");
}
