using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Parley.Core.Locks;
using Prometheus;

namespace Parley.Api.Jobs;

/// <summary>
/// Runs every enabled job on its schedule, one loop per job. Each run holds the lock `jobs:{name}` (an
/// advisory lock on PostgreSQL, Redis when configured), so with several replicas one leader runs it.
/// </summary>
public sealed partial class JobRunner(IEnumerable<IParleyJob> jobs, IDistributedLock locks, TimeProvider time, ILogger<JobRunner> logger) : BackgroundService
{
    public static readonly Counter Runs = Metrics.CreateCounter("parley_job_runs_total", "Background job runs by job and result (ok, failed, skipped).", "job", "result");

    public static readonly Histogram Duration = Metrics.CreateHistogram("parley_job_duration_seconds", "Background job run duration.", "job");

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(jobs.Where(j => j.Enabled && j is not IManualJob).Select(j => LoopAsync(j, stoppingToken)));

    private async Task LoopAsync(IParleyJob job, CancellationToken stoppingToken)
    {
        DateTime? last = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow().UtcDateTime;
            var next = job.NextRun(now, last);
            if (next > now)
            {
                try
                {
                    await WaitAsync(job, next - now, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            last = time.GetUtcNow().UtcDateTime;
            await RunAsync(job, stoppingToken);
        }
    }

    /// <summary>Jobs that can be woken early (the scheduled-bot job) implement <see cref="IWakeableJob"/>.</summary>
    private static Task WaitAsync(IParleyJob job, TimeSpan delay, CancellationToken cancellationToken) =>
        job is IWakeableJob wakeable ? wakeable.WaitAsync(delay, cancellationToken) : Task.Delay(delay, cancellationToken);

    /// <summary>One run under the job's lock; a run never throws out of here.</summary>
    public async Task<JobOutcome> RunAsync(IParleyJob job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        ILockHandle? handle;
        try
        {
            handle = await locks.TryAcquireAsync($"jobs:{job.Name}", TimeSpan.FromMinutes(10), TimeSpan.Zero, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogFailed(logger, job.Name, ex.Message);
            Runs.WithLabels(job.Name, "failed").Inc();
            return new JobOutcome(JobResult.Failed, 0, ex.Message);
        }

        if (handle is null)
        {
            Runs.WithLabels(job.Name, "skipped").Inc();
            return new JobOutcome(JobResult.Skipped, 0, null);
        }

        await using (handle)
        {
            using var timer = Duration.WithLabels(job.Name).NewTimer();
            try
            {
                var handled = await job.RunOnceAsync(cancellationToken);
                Runs.WithLabels(job.Name, "ok").Inc();
                if (handled > 0)
                {
                    LogRan(logger, job.Name, handled);
                }

                return new JobOutcome(JobResult.Ok, handled, null);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Runs.WithLabels(job.Name, "failed").Inc();
                LogFailed(logger, job.Name, ex.Message);
                return new JobOutcome(JobResult.Failed, 0, ex.Message);
            }
        }
    }

    [LoggerMessage(EventId = 4000, Level = LogLevel.Information, Message = "Job {Job}: handled {Count} item(s)")]
    private static partial void LogRan(ILogger logger, string job, int count);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Error, Message = "Job {Job} failed: {Error}")]
    private static partial void LogFailed(ILogger logger, string job, string error);
}

public enum JobResult
{
    Ok,
    Failed,

    /// <summary>Another replica holds the job's lock.</summary>
    Skipped,
}

public sealed record JobOutcome(JobResult Result, int Handled, string? Error);

/// <summary>A job that has its own loop in the jobs role and is only run through the runner by `parley job run`.</summary>
public interface IManualJob;

/// <summary>A job whose wait can be cut short when new work arrives in this process.</summary>
public interface IWakeableJob
{
    Task WaitAsync(TimeSpan delay, CancellationToken cancellationToken);
}
