namespace Parley.Api.Jobs;

/// <summary>
/// A background job of the jobs role, also runnable once by `parley job run NAME` (what a Kubernetes CronJob
/// runs). Jobs are idempotent: running one twice, or on two replicas, does no harm; the runner still takes a
/// lock so that normally one replica does the work.
/// </summary>
public interface IParleyJob
{
    /// <summary>The name operators know from Meeting BaaS, e.g. "scheduled-bot-job".</summary>
    string Name { get; }

    /// <summary>Whether this deployment runs the job at all (team deletion is multi-tenant only).</summary>
    bool Enabled { get; }

    /// <summary>When to run next, given the time of the last run's start (null: never ran).</summary>
    DateTime NextRun(DateTime now, DateTime? lastRun);

    /// <summary>Runs once; returns how many items it handled (for logs and metrics).</summary>
    Task<int> RunOnceAsync(CancellationToken cancellationToken);
}
