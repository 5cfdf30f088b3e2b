using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Parley.Core.Bots;
using Parley.Core.Configuration;
using Parley.Core.Queues;
using Parley.Data;
using Parley.Hosting;
using Parley.Orchestration.Platforms;
using Parley.Orchestration.Platforms.Local;
using Parley.Testing;

namespace Parley.Orchestration.Tests;

/// <summary>
/// One or more orchestrator replicas wired as `parley serve --roles orchestrator` wires them (real
/// database, embedded queue, BotLifecycle with webhooks, bot tokens), sharing one database. The local
/// platform runs a shell script standing in for `parley bot run`: real child processes.
/// </summary>
internal sealed class OrchestratorHarness : IAsyncDisposable
{
    private readonly List<ServiceProvider> _replicas = [];
    private readonly TempDirectory _directory;

    private OrchestratorHarness(TempDirectory directory, DatabaseTarget target)
    {
        _directory = directory;
        Database = new ParleyDbContextFactory(target);
    }

    public ParleyDbContextFactory Database { get; }

    public string DataDirectory => Path.Combine(_directory.Path, "data");

    public string BotScript => Path.Combine(_directory.Path, "fake-bot.sh");

    public IReadOnlyList<ServiceProvider> Replicas => _replicas;

    public static async Task<OrchestratorHarness> CreateAsync(bool postgres)
    {
        var directory = new TempDirectory();
        var data = Path.Combine(directory.Path, "data");
        Directory.CreateDirectory(data);
        var url = postgres ? await PostgresDatabase.CreateAsync() : null;
        var harness = new OrchestratorHarness(directory, DatabaseUrl.Resolve(url, data, 30));
        await new DatabaseMigrator(harness.Database).MigrateAsync(CancellationToken.None);
        // A bot that runs until it is killed; tests that need another behaviour rewrite the script.
        harness.WriteBotScript("exec sleep 600");
        return harness;
    }

    /// <summary>The stand-in bot: prints what it was given (the log file test reads it), then runs <paramref name="body"/>.</summary>
    public void WriteBotScript(string body)
    {
        Directory.CreateDirectory(_directory.Path);
        File.WriteAllText(BotScript, $"#!/bin/sh\necho \"fake bot $BOT_ID args=$* api=$PARLEY_API_URL token=${{BOT_TOKEN%%_*}}\"\n{body}\n");
        File.SetUnixFileMode(BotScript, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>Starts a replica with these settings (on top of the harness's database and data directory).</summary>
    public async Task<ServiceProvider> StartReplicaAsync(Dictionary<string, string> settings, params IBotPlatform[] extraPlatforms)
    {
        var values = new Dictionary<string, string>(settings, StringComparer.Ordinal)
        {
            ["PARLEY_DATA_DIR"] = DataDirectory,
        };
        values.TryAdd("PARLEY_ORCHESTRATOR_CHECK_INTERVAL_MS", "200");
        if (values.ContainsKey("AWS_BOT_LIMIT"))
        {
            // The real ECS platform validates its settings; the in-test aws platform registered below replaces it.
            values.TryAdd("AWS_ECS_CLUSTER", "test");
            values.TryAdd("AWS_ECS_SUBNETS", "subnet-1");
            foreach (var definition in new[] { "AWS_ECS_TASK_DEF_GOOGLE_MEET", "AWS_ECS_TASK_DEF_MICROSOFT_TEAMS", "AWS_ECS_TASK_DEF_ZOOM", "AWS_ECS_TASK_DEF_PARLEY" })
            {
                values.TryAdd(definition, "parley-bot");
            }
        }

        var bound = SettingsBinder.Bind(SettingsLoader.OptionTypes, name => values.GetValueOrDefault(name));
        Assert.True(bound.IsValid, string.Join("; ", bound.Problems));
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        services.AddParleyServices(bound, new ServerRoles(["orchestrator"]), Database.Target);
        var server = bound.Get<ServerOptions>();
        var grace = TimeSpan.FromMilliseconds(bound.Get<OrchestratorOptions>().LocalBotStopGraceMs);
        services.AddSingleton(sp => new LocalPlatform(new LocalBotCommand(BotScript, []), Path.Combine(server.DataDirectory, "logs", "bots"), sp.GetRequiredService<ILogger<LocalPlatform>>(), grace));
        foreach (var platform in extraPlatforms)
        {
            services.AddSingleton(platform);
        }

        var provider = services.BuildServiceProvider();
        _replicas.Add(provider);
        await provider.GetRequiredService<Orchestrator>().StartAsync(CancellationToken.None);
        return provider;
    }

    public async Task<string> CreateBotAsync(string? createBody = null, bool enqueue = true, TimeSpan? age = null, string? extra = null)
    {
        var id = Guid.CreateVersion7().ToString();
        var now = DateTime.UtcNow - (age ?? TimeSpan.Zero);
        await using (var db = Database.CreateDbContext())
        {
            db.Bots.Add(new Bot
            {
                Id = id,
                TeamId = "team-1",
                BotName = "test bot",
                MeetingUrl = "https://zoom.us/j/123456789",
                NormalizedMeetingUrl = "zoom:123456789",
                MeetingPlatform = "zoom",
                CreateBody = createBody ?? "{}",
                Extra = extra,
                CreatedAt = now,
                UpdatedAt = now,
            });
            await db.SaveChangesAsync();
        }

        if (enqueue)
        {
            var queue = _replicas[0].GetRequiredService<IBotJobQueue>();
            await queue.EnqueueAsync(new BotJob(id, "team-1", "zoom", now), CancellationToken.None);
        }

        return id;
    }

    public async Task<Bot> BotAsync(string id)
    {
        await using var db = Database.CreateDbContext();
        return await db.Bots.AsNoTracking().SingleAsync(b => b.Id == id);
    }

    public async Task<List<Bot>> BotsAsync()
    {
        await using var db = Database.CreateDbContext();
        return await db.Bots.AsNoTracking().ToListAsync();
    }

    /// <summary>Sets a status as the bot runtime would report it (tests drive the lifecycle without a meeting).</summary>
    public async Task ReportAsync(string id, string status, DateTime? heartbeat = null)
    {
        await using var db = Database.CreateDbContext();
        var bot = await db.Bots.SingleAsync(b => b.Id == id);
        Assert.Equal(StatusChangeResult.Applied, bot.ChangeStatus(status, DateTime.UtcNow));
        bot.LastHeartbeatAt = heartbeat ?? DateTime.UtcNow;
        await db.SaveChangesAsync();
    }

    public Task<Bot> WaitForAsync(string id, Func<Bot, bool> condition, string what, TimeSpan? timeout = null) =>
        Eventually.ReturnsAsync(async () =>
        {
            var bot = await BotAsync(id);
            return condition(bot) ? bot : null;
        }, timeout ?? TimeSpan.FromSeconds(30), $"bot {id}: {what}");

    public static int Pid(Bot bot) => int.Parse(bot.DeploymentIdentifier!.Split(':')[^1], CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        foreach (var replica in _replicas)
        {
            await replica.GetRequiredService<Orchestrator>().StopAsync(CancellationToken.None);
            await replica.DisposeAsync();
        }

        _directory.Dispose();
    }
}
