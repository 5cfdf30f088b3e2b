using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Parley.Testing;

namespace Parley.Api.Tests.Jobs;

/// <summary>`parley job run NAME` against the database of a running server, as a Kubernetes CronJob would.</summary>
public sealed class JobCommandTests(SqliteApiServer server) : IClassFixture<SqliteApiServer>
{
    private async Task<(int Code, string Stdout, string Stderr)> RunJobAsync(string name, params (string, string)[] env)
    {
        var environment = new Dictionary<string, string?>
        {
            ["PARLEY_DATA_DIR"] = server.Server.DataDirectory,
            ["STATIC_API_KEY"] = ApiServer.Key,
        };
        foreach (var (k, v) in env)
        {
            environment[k] = v;
        }

        return await ParleyProcess.RunAsync(["job", "run", name], environment, Path.GetTempPath());
    }

    [Fact]
    public async Task Data_retention_deletes_the_artifacts_of_old_bots_only()
    {
        var old = await server.CreateBotAsync();
        var recent = await server.CreateBotAsync();
        foreach (var id in new[] { old, recent })
        {
            using var bot = server.BotClient(await server.MintTokenAsync(id));
            using var upload = await bot.PostAsync($"/internal/bots/{id}/artifacts?kind=audio&name=audio.flac", new ByteArrayContent(Encoding.UTF8.GetBytes("flac")));
            Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
            using var failed = await bot.PostAsync($"/internal/bots/{id}/status", new StringContent("""{"code":"failed","error_code":"INTERNAL_ERROR"}""", Encoding.UTF8, "application/json"));
            failed.EnsureSuccessStatusCode();
        }

        await using (var db = server.Database.CreateDbContext())
        {
            var longAgo = DateTime.UtcNow.AddDays(-20);
            await db.Bots.Where(b => b.Id == old).ExecuteUpdateAsync(s => s.SetProperty(b => b.ExitedAt, longAgo));
        }

        var (code, stdout, stderr) = await RunJobAsync("data-retention-deletion-job", ("DATA_RETENTION_DAYS", "14"));

        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("data-retention-deletion-job: done", stdout, StringComparison.Ordinal);
        var oldDetails = await server.Http.GetDataAsync($"/v2/bots/{old}");
        Assert.True(oldDetails.GetProperty("artifacts_deleted").GetBoolean());
        Assert.False(File.Exists(Path.Combine(server.Server.DataDirectory, "artifacts", "bots", old, "audio.flac")));
        var recentDetails = await server.Http.GetDataAsync($"/v2/bots/{recent}");
        Assert.False(recentDetails.GetProperty("artifacts_deleted").GetBoolean());
        Assert.True(File.Exists(Path.Combine(server.Server.DataDirectory, "artifacts", "bots", recent, "audio.flac")));
    }

    [Fact]
    public async Task An_unknown_job_exits_2_and_lists_the_jobs()
    {
        var (code, _, stderr) = await RunJobAsync("calendar-bot-job");

        Assert.Equal(2, code);
        Assert.Contains("scheduled-bot-job", stderr, StringComparison.Ordinal);
        Assert.Contains("data-retention-deletion-job", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Team_deletion_is_a_no_op_in_single_tenant_mode()
    {
        var (code, stdout, _) = await RunJobAsync("team-permanent-deletion-job");

        Assert.Equal(0, code);
        Assert.Contains("not enabled", stdout, StringComparison.Ordinal);
    }
}
