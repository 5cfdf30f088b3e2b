using System.Net;
using System.Text;
using System.Text.Json;
using Parley.Core.Storage;
using Parley.Testing;

namespace Parley.Api.Tests.Jobs;

/// <summary>
/// `parley job run fallback-upload-job` against a running server's database and local storage, with entries
/// written into the fallback directory the way a bot (or an operator copying by hand) leaves them.
/// </summary>
public sealed class FallbackUploadJobTests(SqliteApiServer server) : IClassFixture<SqliteApiServer>, IDisposable
{
    private readonly TempDirectory _directory = new();

    private string Fallback => Path.Combine(_directory.Path, "fallback");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task A_half_written_entry_and_the_entry_of_a_running_bot_wait_until_they_can_be_uploaded()
    {
        var botId = await server.CreateBotAsync();
        var token = await server.MintTokenAsync(botId);
        var entry = Path.Combine(Fallback, botId);
        Directory.CreateDirectory(entry);
        File.WriteAllBytes(Path.Combine(entry, "audio.flac"), new byte[4]);
        File.WriteAllText(Path.Combine(entry, FallbackStore.ManifestFileName), JsonSerializer.Serialize(new
        {
            version = 1, bot_id = botId, created_at = DateTime.UtcNow, reason = "HTTP 503",
            files = new[] { new { kind = "audio", name = "audio.flac", content_type = "audio/flac", size_bytes = 8 } },
        }));

        // Still being copied (4 of 8 bytes): left alone.
        await AssertHandledAsync(0);
        Assert.True(Directory.Exists(entry));

        // Whole, but the bot has not ended: its own bot.completed will be built later, so wait for it.
        File.WriteAllBytes(Path.Combine(entry, "audio.flac"), Encoding.ASCII.GetBytes("fLaC1234"));
        await AssertHandledAsync(0);
        Assert.True(Directory.Exists(entry));

        using (var bot = server.BotClient(token))
        {
            using var failed = await bot.PostAsync($"/internal/bots/{botId}/status", new StringContent("""{"code":"failed","error_code":"INTERNAL_ERROR"}""", Encoding.UTF8, "application/json"));
            failed.EnsureSuccessStatusCode();
        }

        await AssertHandledAsync(1);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Fallback));
        Assert.Equal("fLaC1234", File.ReadAllText(Path.Combine(server.Server.DataDirectory, "artifacts", "bots", botId, "audio.flac")));
        var details = await server.Http.GetDataAsync($"/v2/bots/{botId}");
        Assert.Contains($"bots/{botId}/audio.flac", details.GetProperty("audio").GetString(), StringComparison.Ordinal);
        Assert.Equal("failed", details.GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_entry_of_a_deleted_bot_is_discarded_unread()
    {
        var entry = Path.Combine(Fallback, "no-such-bot");
        Directory.CreateDirectory(entry);
        File.WriteAllText(Path.Combine(entry, FallbackStore.ManifestFileName), """{"version":1,"bot_id":"no-such-bot","created_at":"2026-03-01T10:00:00Z","reason":null,"files":[]}""");

        await AssertHandledAsync(1);
        Assert.False(Directory.Exists(entry));
    }

    [Fact]
    public async Task Storage_failing_during_an_upload_is_a_503_the_bot_retries_not_a_500()
    {
        var botId = await server.CreateBotAsync();
        using var bot = server.BotClient(await server.MintTokenAsync(botId));
        var file = Path.Combine(server.Server.DataDirectory, "artifacts", "bots", botId);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, "a file where the bot's directory must go");
        try
        {
            using var response = await bot.PostAsync($"/internal/bots/{botId}/artifacts?kind=audio&name=audio.flac", new ByteArrayContent([1, 2, 3]));
            await response.AssertErrorAsync(HttpStatusCode.ServiceUnavailable, "STORAGE_UNAVAILABLE");
            Assert.NotNull(response.Headers.RetryAfter);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private async Task AssertHandledAsync(int count)
    {
        var (code, stdout, stderr) = await ParleyProcess.RunAsync(
            ["job", "run", "fallback-upload-job"],
            new Dictionary<string, string?>
            {
                ["PARLEY_DATA_DIR"] = server.Server.DataDirectory,
                ["PARLEY_FALLBACK_STORAGE_DIR"] = Fallback,
                ["STATIC_API_KEY"] = ApiServer.Key,
            },
            Path.GetTempPath());
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains($"fallback-upload-job: done, {count} item(s) handled.", stdout, StringComparison.Ordinal);
    }
}
