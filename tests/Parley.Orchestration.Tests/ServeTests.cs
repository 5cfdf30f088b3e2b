using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Parley.Testing;

namespace Parley.Orchestration.Tests;

/// <summary>`parley serve` with the orchestrator role: the real executable launching real `parley bot run` processes.</summary>
public sealed class ServeTests
{
    private const string Key = "test-key-0123456789abcdef0123456789";

    [Fact]
    public async Task A_zoom_bot_runs_as_a_local_process_and_fails_with_cannot_join_meeting_and_platforms_report_it()
    {
        await using var server = RunningServer.Start(new Dictionary<string, string?>
        {
            ["STATIC_API_KEY"] = Key,
            ["PLATFORM_PRIORITY"] = "local,k8s",
            ["LOCAL_BOT_LIMIT"] = "2",
            ["PARLEY_ORCHESTRATOR_CHECK_INTERVAL_MS"] = "200",
        });
        await server.WaitForStatusAsync("/health", HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Http.GetAsync("/v2/platforms")).StatusCode);
        server.Http.DefaultRequestHeaders.Add("x-meeting-baas-api-key", Key);

        var platforms = await GetDataAsync(server, "/v2/platforms");
        var local = platforms.GetProperty("platforms")[0];
        Assert.Equal("local", local.GetProperty("platform").GetString());
        Assert.True(local.GetProperty("enabled").GetBoolean());
        Assert.Equal(2, local.GetProperty("limit").GetInt32());
        Assert.Equal(0, local.GetProperty("active").GetInt32());
        var k8s = platforms.GetProperty("platforms")[1];
        Assert.False(k8s.GetProperty("enabled").GetBoolean());
        Assert.Equal(JsonValueKind.Null, k8s.GetProperty("limit").ValueKind);
        Assert.Contains("K8S_BOT_LIMIT", k8s.GetProperty("note").GetString(), StringComparison.Ordinal);

        using var created = await server.Http.PostAsJsonAsync("/v2/bots", new { bot_name = "Recorder", meeting_url = "https://zoom.us/j/1234567890" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data").GetProperty("bot_id").GetString()!;

        var ended = await Eventually.ReturnsAsync(async () =>
        {
            var data = await GetDataAsync(server, $"/v2/bots/{id}");
            return data.GetProperty("status").GetString() is "completed" or "failed" ? (JsonElement?)data : null;
        }, TimeSpan.FromSeconds(60), "the bot to end");
        var bot = ended.GetValueOrDefault();

        Assert.Equal("failed", bot.GetProperty("status").GetString());
        Assert.Equal("CANNOT_JOIN_MEETING", bot.GetProperty("error_code").GetString());
        Assert.True(File.Exists(Path.Combine(server.DataDirectory, "logs", "bots", id + ".log")));
        var metrics = await server.Http.GetStringAsync("/metrics");
        Assert.Contains("parley_deployments_total{platform=\"local\",result=\"success\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("parley_bots_active{platform=\"local\"} 0", metrics, StringComparison.Ordinal);
    }

    private static async Task<JsonElement> GetDataAsync(RunningServer server, string path)
    {
        using var response = await server.Http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("data").Clone();
    }
}
