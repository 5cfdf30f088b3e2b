using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Parley.Api.Internal;
using Parley.Data;
using Parley.Testing;

namespace Parley.Api.Tests;

/// <summary>
/// A real `parley serve` shared by the tests of a class, with a known API key, webhooks to loopback
/// allowed and a fast retry schedule. Tests reach the database directly only where the orchestrator would
/// (minting a bot token) or to check what was stored.
/// </summary>
public abstract class ApiServer : IAsyncLifetime
{
    public const string Key = "test-key-0123456789abcdef0123456789";

    private readonly TempDirectory _directory = new();
    private RunningServer? _server;

    public HttpClient Http { get; private set; } = null!;

    internal RunningServer Server => _server!;

    public ParleyDbContextFactory Database { get; private set; } = null!;

    protected abstract Task<Dictionary<string, string?>> EnvironmentAsync();

    public async Task InitializeAsync()
    {
        var env = await EnvironmentAsync();
        env["STATIC_API_KEY"] = Key;
        env["WEBHOOK_ALLOW_PRIVATE_NETWORKS"] = "true";
        env.TryAdd("PARLEY_WEBHOOK_RETRY_SCHEDULE", "0,0.3,0.6,1");
        env.TryAdd("PARLEY_RATE_LIMIT_PER_SECOND", "0");
        env.TryAdd("PARLEY_MIGRATE_ON_START", "true");
        // These tests drive bots through the internal API themselves; a running orchestrator would deploy
        // the same bots and race them.
        env.TryAdd("PARLEY_ROLES", "api,jobs");
        env["PARLEY_DATA_DIR"] = Path.Combine(_directory.Path, "data");
        _server = RunningServer.Start(env, directory: _directory);
        await _server.WaitForStatusAsync("/ready", HttpStatusCode.OK);
        Http = _server.Http;
        Http.DefaultRequestHeaders.Add("x-meeting-baas-api-key", Key);
        var url = env.TryGetValue("DATABASE_URL", out var u) ? u : null;
        Database = new ParleyDbContextFactory(DatabaseUrl.Resolve(url, Path.Combine(_directory.Path, "data"), 30));
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _directory.Dispose();
    }

    /// <summary>What the orchestrator does when it hands a bot to a platform.</summary>
    public async Task<string> MintTokenAsync(string botId)
    {
        var token = BotTokens.Prefix + Guid.NewGuid().ToString("N");
        await using var db = Database.CreateDbContext();
        var hash = BotTokens.Hash(token);
        var rows = await db.Bots.Where(b => b.Id == botId).ExecuteUpdateAsync(s => s
            .SetProperty(b => b.BotTokenHash, hash)
            .SetProperty(b => b.DeploymentPlatform, "local")
            .SetProperty(b => b.DeploymentIdentifier, "pid-test"));
        Assert.Equal(1, rows);
        return token;
    }

    public HttpClient BotClient(string token)
    {
        var client = new HttpClient { BaseAddress = Http.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public async Task<string> CreateBotAsync(object? body = null)
    {
        using var response = await Http.PostAsJsonAsync("/v2/bots", body ?? new { bot_name = "Recorder", meeting_url = $"https://meet.google.com/{Api.MeetCode()}" });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        using var json = JsonDocument.Parse(text);
        return json.RootElement.GetProperty("data").GetProperty("bot_id").GetString()!;
    }
}

public sealed class SqliteApiServer : ApiServer
{
    protected override Task<Dictionary<string, string?>> EnvironmentAsync() => Task.FromResult(new Dictionary<string, string?>());
}

public sealed class PostgresApiServer : ApiServer
{
    protected override async Task<Dictionary<string, string?>> EnvironmentAsync() =>
        new() { ["DATABASE_URL"] = await PostgresDatabase.CreateAsync() };
}

internal static class Api
{
    /// <summary>A fresh Google Meet code, so tests do not trip over each other's duplicate rules.</summary>
    public static string MeetCode()
    {
        var letters = Guid.NewGuid().ToString("N").Select(c => (char)('a' + (c % 26))).ToArray();
        return $"{new string(letters, 0, 3)}-{new string(letters, 3, 4)}-{new string(letters, 7, 3)}";
    }

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new InvalidOperationException($"Not JSON ({(int)response.StatusCode}): {text}");
        }
    }

    public static async Task<JsonElement> GetDataAsync(this HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        var json = await response.ReadJsonAsync();
        Assert.True(response.IsSuccessStatusCode, json.ToString());
        return json.GetProperty("data");
    }

    public static async Task AssertErrorAsync(this HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var json = await response.ReadJsonAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status} {code}, got {(int)response.StatusCode}: {json}");
        Assert.False(json.GetProperty("success").GetBoolean());
        Assert.Equal(code, json.GetProperty("code").GetString());
        Assert.Equal((int)status, json.GetProperty("statusCode").GetInt32());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("message").GetString()));
    }
}
