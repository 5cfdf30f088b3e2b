using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Parley.Api.Internal;
using Parley.Core.Bots;
using Parley.Data;
using Parley.Testing;

namespace Parley.Bots.Tests;

/// <summary>
/// A real `parley serve --roles api` on SQLite for bot tests: no orchestrator role, so that the only bot
/// process running a bot is the one the test starts. Tests mint tokens by writing the hash, as the
/// orchestrator does, and read what the API stored from the database.
/// </summary>
public sealed class BotServer : IAsyncDisposable
{
    public const string Key = "test-key-0123456789abcdef0123456789";

    private readonly TempDirectory _directory;
    private readonly bool _ownsDirectory;

    private BotServer(ParleyProcess process, TempDirectory directory, bool ownsDirectory, int port)
    {
        Process = process;
        _directory = directory;
        _ownsDirectory = ownsDirectory;
        Port = port;
        Http = new HttpClient { BaseAddress = ApiUrl, Timeout = TimeSpan.FromSeconds(10) };
        Http.DefaultRequestHeaders.Add("x-meeting-baas-api-key", Key);
        Database = new ParleyDbContextFactory(DatabaseUrl.Resolve(null, DataDirectory, 30));
    }

    internal ParleyProcess Process { get; }

    public int Port { get; }

    public Uri ApiUrl => new($"http://127.0.0.1:{Port}");

    public HttpClient Http { get; }

    public string DataDirectory => Path.Combine(_directory.Path, "data");

    public string WorkingDirectory => _directory.Path;

    public ParleyDbContextFactory Database { get; }

    internal static BotServer Start(int? port = null, TempDirectory? directory = null)
    {
        var owns = directory is null;
        directory ??= new TempDirectory();
        var p = port ?? ParleyProcess.FreePort();
        var env = new Dictionary<string, string?>
        {
            ["PORT"] = p.ToString(CultureInfo.InvariantCulture),
            ["STATIC_API_KEY"] = Key,
            ["PARLEY_RATE_LIMIT_PER_SECOND"] = "0",
            ["PARLEY_MIGRATE_ON_START"] = "true",
            ["PARLEY_DATA_DIR"] = Path.Combine(directory.Path, "data"),
        };
        var process = ParleyProcess.Start(["serve", "--roles", "api"], env, directory.Path);
        return new BotServer(process, directory, owns, p);
    }

    internal static async Task<BotServer> StartReadyAsync(int? port = null, TempDirectory? directory = null)
    {
        var server = Start(port, directory);
        await server.WaitReadyAsync();
        return server;
    }

    public Task WaitReadyAsync() =>
        Eventually.ReturnsAsync(
            async () =>
            {
                if (Process.HasExited)
                {
                    throw new InvalidOperationException($"parley serve exited ({Process.ExitCode}).\n{Process.Stdout}\n{Process.Stderr}");
                }

                try
                {
                    using var response = await Http.GetAsync("/ready");
                    return response.StatusCode == HttpStatusCode.OK ? (object?)true : null;
                }
                catch (HttpRequestException)
                {
                    return null;
                }
            },
            TimeSpan.FromSeconds(60),
            "parley serve to be ready");

    public async Task<string> CreateBotAsync(string? meetingUrl = null)
    {
        using var response = await Http.PostAsJsonAsync("/v2/bots", new { bot_name = "Recorder", meeting_url = meetingUrl ?? $"https://meet.google.com/{MeetCode()}" });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        using var json = JsonDocument.Parse(text);
        return json.RootElement.GetProperty("data").GetProperty("bot_id").GetString()!;
    }

    /// <summary>What the orchestrator does when it hands a bot to a platform.</summary>
    public async Task<string> MintTokenAsync(string botId)
    {
        var token = BotTokens.Prefix + Guid.NewGuid().ToString("N");
        var hash = BotTokens.Hash(token);
        await using var db = Database.CreateDbContext();
        var rows = await db.Bots.Where(b => b.Id == botId).ExecuteUpdateAsync(s => s
            .SetProperty(b => b.BotTokenHash, hash)
            .SetProperty(b => b.DeploymentPlatform, "local")
            .SetProperty(b => b.DeploymentIdentifier, "pid-test"));
        Assert.Equal(1, rows);
        return token;
    }

    public async Task<Bot> GetBotAsync(string botId)
    {
        await using var db = Database.CreateDbContext();
        return await db.Bots.AsNoTracking().Include(b => b.StatusHistory).Include(b => b.Artifacts).FirstAsync(b => b.Id == botId);
    }

    public async Task<List<string>> HistoryAsync(string botId) =>
        [.. (await GetBotAsync(botId)).StatusHistory.OrderBy(h => h.Id).Select(h => h.Code)];

    /// <summary>Waits until the bot's stored status is <paramref name="status"/>.</summary>
    internal Task WaitForStatusAsync(string botId, string status, ParleyProcess? bot = null) =>
        Eventually.ReturnsAsync(
            async () =>
            {
                var current = (await GetBotAsync(botId)).Status;
                if (current != status && bot is { HasExited: true })
                {
                    throw new InvalidOperationException($"the bot exited ({bot.ExitCode}) in {current}.\n{bot.Stdout}\n{bot.Stderr}");
                }

                return current == status ? (object?)true : null;
            },
            TimeSpan.FromSeconds(60),
            $"bot {botId} to be {status}");

    /// <summary>Starts `parley bot run` with the bot's environment, as a platform does.</summary>
    internal ParleyProcess StartBot(IReadOnlyDictionary<string, string?> environment, params string[] extraArguments) =>
        ParleyProcess.Start(["bot", "run", .. extraArguments], environment, WorkingDirectory);

    public static Dictionary<string, string?> BotEnvironment(Uri apiUrl, string botId, string token, string? script = null)
    {
        var env = new Dictionary<string, string?>
        {
            ["BOT_ID"] = botId,
            ["PARLEY_API_URL"] = apiUrl.ToString(),
            ["BOT_TOKEN"] = token,
            ["BOT_HEARTBEAT_INTERVAL_MS"] = "200",
        };
        if (script is not null)
        {
            env["PARLEY_BOT_TEST_ADAPTER"] = "scripted";
            env["PARLEY_BOT_SCRIPT"] = script;
        }

        return env;
    }

    public static string MeetCode()
    {
        var letters = Guid.NewGuid().ToString("N").Select(c => (char)('a' + (c % 26))).ToArray();
        return $"{new string(letters, 0, 3)}-{new string(letters, 3, 4)}-{new string(letters, 7, 3)}";
    }

    /// <summary>Stops the server (SIGTERM) and waits, keeping its data directory.</summary>
    public async Task StopAsync()
    {
        Process.Terminate();
        await Process.WaitForExitAsync(TimeSpan.FromSeconds(60));
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Process.DisposeAsync();
        if (_ownsDirectory)
        {
            _directory.Dispose();
        }
    }
}

/// <summary>One server shared by the tests of a class.</summary>
public sealed class BotServerFixture : IAsyncLifetime
{
    public BotServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await BotServer.StartReadyAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

internal static class BotProcessAssert
{
    /// <summary>Waits for the exit and shows the bot's output when the code is not the expected one.</summary>
    public static async Task ExitsWithAsync(this ParleyProcess bot, int expected)
    {
        var code = await bot.WaitForExitAsync(TimeSpan.FromSeconds(90));
        Assert.True(code == expected, $"exit code {code}, expected {expected}.\nstdout:\n{bot.Stdout}\nstderr:\n{bot.Stderr}");
    }
}
