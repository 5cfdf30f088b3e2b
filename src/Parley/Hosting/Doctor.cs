using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Parley.Core.Configuration;
using Parley.Core.Queues;
using Parley.Core.Storage;
using Parley.Data;
using Parley.Infrastructure;
using Parley.Infrastructure.Locks;

namespace Parley.Hosting;

public enum CheckLevel
{
    Ok,
    Warn,
    Fail,
}

/// <summary>One line of `parley doctor`: what was checked, how it went, and what to do about it.</summary>
public sealed record DoctorCheck(string Name, CheckLevel Level, string Detail, string? Advice = null)
{
    public override string ToString() =>
        $"{Level.ToString().ToUpperInvariant(),-4} {Name}: {Detail}{(Advice is null ? "" : $" -> {Advice}")}";
}

/// <summary>
/// The checks of `parley doctor`, each against the real dependency the configuration names: the
/// troubleshooting steps of the Meeting BaaS and Meeboter guides, run in one go. A check never throws; a
/// dependency that is not configured is reported as such, not as a failure.
/// </summary>
public sealed class Doctor(IServiceProvider services, SettingsBindResult settings, DatabaseTarget database)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public async Task<IReadOnlyList<DoctorCheck>> RunAsync(CancellationToken cancellationToken)
    {
        List<DoctorCheck> checks = [new("configuration", CheckLevel.Ok, $"{SettingsBinder.Describe(SettingsLoader.OptionTypes).Count} settings valid")];
        var databaseCheck = await DatabaseAsync(cancellationToken);
        checks.Add(databaseCheck);
        checks.Add(await RedisAsync(cancellationToken));
        checks.Add(await StorageAsync(cancellationToken));
        checks.Add(await QueueAsync(databaseCheck.Level == CheckLevel.Ok, cancellationToken));
        checks.Add(Tool("ffmpeg", "ffmpeg", "-version", "install ffmpeg (Debian: apt-get install ffmpeg); recordings are post-processed with it"));
        checks.Add(Tool("chromium", "/usr/bin/chromium", "--version", "install chromium (Debian: apt-get install chromium); browser bots need it"));
        checks.Add(Listen());
        return checks;
    }

    private async Task<DoctorCheck> DatabaseAsync(CancellationToken cancellationToken)
    {
        var migrator = services.GetRequiredService<DatabaseMigrator>();
        if (database.IsEmbedded && !File.Exists(new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(database.ConnectionString).DataSource))
        {
            return new("database", CheckLevel.Warn, $"{database.Description}: not created yet", "`parley serve` (or `parley migrate`) creates and migrates it");
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Timeout);
            if (!await migrator.CanConnectAsync(timeout.Token))
            {
                return new("database", CheckLevel.Fail, $"{database.Description}: cannot connect", "check DATABASE_URL, that the server runs and accepts this host, and the credentials");
            }

            var pending = await migrator.GetPendingMigrationsAsync(timeout.Token);
            return pending.Count == 0
                ? new("database", CheckLevel.Ok, $"{database.Description}: reachable, migrated")
                : new("database", database.IsEmbedded ? CheckLevel.Warn : CheckLevel.Fail, $"{database.Description}: {pending.Count} migration(s) pending",
                    database.IsEmbedded ? "`parley serve` applies them at start" : "run `parley migrate`");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new("database", CheckLevel.Fail, $"{database.Description}: {ex.GetBaseException().Message}", "check DATABASE_URL and that the server is reachable");
        }
    }

    private async Task<DoctorCheck> RedisAsync(CancellationToken cancellationToken)
    {
        if (settings.Get<RedisOptions>().Url is null)
        {
            return new("redis", CheckLevel.Ok, "not configured: locks in the database (fine for one replica or PostgreSQL advisory locks)");
        }

        var result = await new RedisHealthCheck(services.GetRequiredService<RedisConnection>()).CheckHealthAsync(new HealthCheckContext(), cancellationToken);
        return result.Status == HealthStatus.Healthy
            ? new("redis", CheckLevel.Ok, result.Description ?? "reachable")
            : new("redis", CheckLevel.Fail, FirstSentence(result.Description ?? "unreachable"), "check REDIS_URL (host, port, password, rediss:// for TLS)");
    }

    /// <summary>Writes, reads back and deletes a probe object: "bucket exists" is not enough, uploads must work.</summary>
    private async Task<DoctorCheck> StorageAsync(CancellationToken cancellationToken)
    {
        var store = services.GetRequiredService<IArtifactStore>();
        var key = $"doctor/probe-{Guid.NewGuid():N}.txt";
        try
        {
            using var content = new MemoryStream("parley doctor"u8.ToArray());
            await store.PutAsync(StorageBucket.Artifacts, key, content, "text/plain", cancellationToken);
            var found = await store.ExistsAsync(StorageBucket.Artifacts, key, cancellationToken);
            await store.DeletePrefixAsync(StorageBucket.Artifacts, key, cancellationToken);
            return found
                ? new("storage", CheckLevel.Ok, $"{store.Kind}: writable")
                : new("storage", CheckLevel.Fail, $"{store.Kind}: a written object cannot be found", "check the bucket's consistency settings and permissions");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new("storage", CheckLevel.Fail, $"{store.Kind}: {ex.GetBaseException().Message}",
                store.Kind == "s3" ? "check AWS_S3_ARTIFACTS_BUCKET exists, AWS_ENDPOINT_URL, credentials, and PARLEY_S3_FORCE_PATH_STYLE for S3-compatible servers" : "check PARLEY_DATA_DIR is writable");
        }
    }

    private async Task<DoctorCheck> QueueAsync(bool databaseReady, CancellationToken cancellationToken)
    {
        var queue = services.GetRequiredService<IBotJobQueue>();
        if (queue.Kind == "embedded" && !databaseReady)
        {
            return new("queue", CheckLevel.Warn, "embedded: not checked, it lives in the database", "see the database line");
        }

        try
        {
            var depth = await queue.GetDepthAsync(cancellationToken);
            var level = depth.DeadLettered > 0 ? CheckLevel.Warn : CheckLevel.Ok;
            return new("queue", level, $"{queue.Kind}: {depth.Visible} waiting, {depth.InFlight} in flight, {depth.DeadLettered} dead-lettered",
                depth.DeadLettered > 0 ? "dead-lettered jobs were received QUEUE_MAX_RECEIVES times without finishing: look at the orchestrator and bot logs" : null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new("queue", CheckLevel.Fail, $"{queue.Kind}: {FirstSentence(ex.GetBaseException().Message)}",
                queue.Kind == "sqs" ? "check the SQS_QUEUE_URL_* settings, AWS_ENDPOINT_URL_SQS and the SQS credentials" : "the embedded queue lives in the database: see the database line");
        }
    }

    /// <summary>Client libraries write paragraphs; one line per check is the contract.</summary>
    private static string FirstSentence(string text)
    {
        var end = text.IndexOfAny(['\n', '.']);
        var sentence = end > 0 ? text[..end] : text;
        return sentence.Length > 160 ? sentence[..160] + "…" : sentence;
    }

    private static DoctorCheck Tool(string name, string command, string argument, string advice)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(command, argument) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (process is null)
            {
                return new(name, CheckLevel.Warn, "not found", advice);
            }

            var first = process.StandardOutput.ReadLine() ?? "";
            process.WaitForExit(5000);
            return new(name, CheckLevel.Ok, first.Length > 80 ? first[..80] : first);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return new(name, CheckLevel.Warn, "not found", advice);
        }
    }

    /// <summary>HOST:PORT must be free for `serve` (or taken by a running Parley).</summary>
    private DoctorCheck Listen()
    {
        var server = settings.Get<ServerOptions>();
        try
        {
            var address = server.Host is "localhost" ? System.Net.IPAddress.Loopback
                : server.Host is "*" ? System.Net.IPAddress.Any : System.Net.IPAddress.Parse(server.Host);
            using var listener = new System.Net.Sockets.TcpListener(address, server.Port);
            listener.Start();
            return new("listen", CheckLevel.Ok, $"{server.Host}:{server.Port} is free");
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            return new("listen", CheckLevel.Warn, $"{server.Host}:{server.Port} is in use ({ex.SocketErrorCode})", "fine if Parley already runs there; otherwise set PORT");
        }
    }
}
