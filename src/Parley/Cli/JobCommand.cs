using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Parley.Api.Jobs;
using Parley.Core.Configuration;
using Parley.Data;
using Parley.Hosting;

namespace Parley.Cli;

/// <summary>`parley job run NAME`: one run of a background job, for Kubernetes CronJobs.</summary>
internal static class JobCommand
{
    public static Command Create()
    {
        var settings = new SettingsOptions();
        var name = new Argument<string>("name") { Description = "scheduled-bot-job, data-retention-deletion-job, team-permanent-deletion-job, pickup-delayed-job, webhook-retry-job or fallback-upload-job." };
        var run = new Command("run", "Runs one background job once and exits: 0 done (or skipped because another replica runs it), 1 failed, 2 bad name or configuration.");
        run.Arguments.Add(name);
        settings.AddTo(run);
        run.SetAction((parse, cancellationToken) => RunAsync(parse, settings, parse.GetValue(name)!, cancellationToken));

        var job = new Command("job", "Background jobs.");
        job.Subcommands.Add(run);
        return job;
    }

    private static async Task<int> RunAsync(ParseResult parse, SettingsOptions settingsOptions, string name, CancellationToken cancellationToken)
    {
        if (!settingsOptions.TryLoad(parse, [], out var settings))
        {
            return ExitCodes.ConfigurationError;
        }

        using var host = CommandHost.Build(settings, out var database);
        if (host is null)
        {
            return ExitCodes.ConfigurationError;
        }

        var jobs = host.Services.GetServices<IParleyJob>().ToList();
        var job = jobs.FirstOrDefault(j => j.Name == name);
        if (job is null)
        {
            await Console.Error.WriteLineAsync($"parley job run: unknown job '{name}'; expected one of {string.Join(", ", jobs.Select(j => j.Name))}");
            return ExitCodes.ConfigurationError;
        }

        var migrator = host.Services.GetRequiredService<DatabaseMigrator>();
        try
        {
            if (database.IsEmbedded)
            {
                await migrator.MigrateAsync(cancellationToken);
            }
            else if ((await migrator.GetPendingMigrationsAsync(cancellationToken)).Count > 0)
            {
                await Console.Error.WriteLineAsync("parley job run: the database is not migrated; run `parley migrate` first");
                return ExitCodes.ConfigurationError;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await Console.Error.WriteLineAsync($"parley job run: {database.Description}: {ex.GetBaseException().Message}");
            return ExitCodes.Failure;
        }

        if (!job.Enabled)
        {
            Console.Out.WriteLine($"{name} is not enabled in this deployment (team-permanent-deletion-job needs ENABLE_MULTI_TENANT=true); nothing to do.");
            return ExitCodes.Success;
        }

        var outcome = await host.Services.GetRequiredService<JobRunner>().RunAsync(job, cancellationToken);
        switch (outcome.Result)
        {
            case JobResult.Ok:
                Console.Out.WriteLine($"{name}: done, {outcome.Handled} item(s) handled.");
                return ExitCodes.Success;
            case JobResult.Skipped:
                Console.Out.WriteLine($"{name}: another process holds the job's lock; skipped.");
                return ExitCodes.Success;
            default:
                await Console.Error.WriteLineAsync($"{name}: failed: {outcome.Error}");
                return ExitCodes.Failure;
        }
    }
}
