using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Parley.Api.Tests.Operations;

public sealed class OpenApiAndMetricsTests(SqliteApiServer server) : IClassFixture<SqliteApiServer>
{
    /// <summary>Every endpoint of API.md's Bots, Scheduled bots, Webhooks, Meetings, Operations and internal sections.</summary>
    public static TheoryData<string, string> Endpoints() => new()
    {
        { "post", "/v2/bots" }, { "post", "/v2/bots/batch" }, { "get", "/v2/bots" }, { "get", "/v2/bots/{botId}" },
        { "get", "/v2/bots/{botId}/status" }, { "post", "/v2/bots/{botId}/leave" }, { "post", "/v2/bots/{botId}/send-chat-message" },
        { "post", "/v2/bots/{botId}/pause-recording" }, { "post", "/v2/bots/{botId}/resume-recording" },
        { "patch", "/v2/bots/{botId}/update-config" }, { "delete", "/v2/bots/{botId}/delete-data" },
        { "post", "/v2/bots/{botId}/resend-webhook" }, { "post", "/v2/bots/{botId}/retry-callback" },
        { "get", "/v2/bots/{botId}/webhook-deliveries" },
        { "post", "/v2/bots/scheduled" }, { "get", "/v2/bots/scheduled" }, { "post", "/v2/bots/scheduled/batch" },
        { "get", "/v2/bots/scheduled/{botId}" }, { "patch", "/v2/bots/scheduled/{botId}" }, { "delete", "/v2/bots/scheduled/{botId}" },
        { "post", "/v2/webhooks" }, { "get", "/v2/webhooks" }, { "delete", "/v2/webhooks/{id}" },
        { "get", "/health" }, { "get", "/liveness" }, { "get", "/ready" }, { "get", "/status/features" }, { "get", "/metrics" },
        { "get", "/internal/bots/{botId}/config" }, { "post", "/internal/bots/{botId}/status" }, { "post", "/internal/bots/{botId}/heartbeat" },
        { "post", "/internal/bots/{botId}/events" }, { "post", "/internal/bots/{botId}/artifacts" },
        { "get", "/api/bots/pool-stats" },
        { "post", "/v2/meetings" }, { "get", "/v2/meetings" }, { "get", "/v2/meetings/{meetingId}" }, { "delete", "/v2/meetings/{meetingId}" },
        { "post", "/v2/meetings/{meetingId}/tokens" }, { "post", "/meet/{meetingId}/guest-token" },
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task The_openapi_document_describes_the_endpoint(string method, string path)
    {
        using var anonymous = new HttpClient { BaseAddress = server.Http.BaseAddress };
        using var document = JsonDocument.Parse(await anonymous.GetStringAsync("/openapi/v1.json"));

        Assert.True(document.RootElement.GetProperty("paths").TryGetProperty(path, out var item), $"{path} is missing");
        Assert.True(item.TryGetProperty(method, out _), $"{method.ToUpperInvariant()} {path} is missing");
    }

    [Fact]
    public async Task The_create_body_schema_uses_the_wire_names_and_docs_are_served_without_internet()
    {
        using var anonymous = new HttpClient { BaseAddress = server.Http.BaseAddress };
        using var document = JsonDocument.Parse(await anonymous.GetStringAsync("/openapi/v1.json"));
        var schema = document.RootElement.GetProperty("components").GetProperty("schemas").GetProperty("CreateBotRequest").GetProperty("properties");
        Assert.True(schema.TryGetProperty("meeting_url", out _));
        Assert.True(schema.TryGetProperty("timeout_config", out _));
        Assert.True(document.RootElement.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("ApiKey", out _));

        var page = await anonymous.GetStringAsync("/docs/");
        Assert.Contains("scalar.js", page, StringComparison.Ordinal);
        using var script = await anonymous.GetAsync("/docs/scalar.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
    }

    [Fact]
    public async Task Pool_stats_have_meeboters_shape_and_need_a_key()
    {
        await server.CreateBotAsync();
        using var json = JsonDocument.Parse(await server.Http.GetStringAsync("/api/bots/pool-stats"));
        Assert.Equal(
            ["total", "idle", "busy", "error", "queueLength"],
            json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.True(json.RootElement.GetProperty("queueLength").GetInt64() >= 1);

        using var anonymous = new HttpClient { BaseAddress = server.Http.BaseAddress };
        using var refused = await anonymous.GetAsync("/api/bots/pool-stats");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task Metrics_count_bots_queue_outbox_and_webhooks()
    {
        var id = await server.CreateBotAsync();
        using var bot = server.BotClient(await server.MintTokenAsync(id));
        (await bot.PostAsJsonAsync($"/internal/bots/{id}/status", new { code = "joining_call" })).EnsureSuccessStatusCode();

        var text = await Parley.Testing.Eventually.ReturnsAsync(async () =>
        {
            var metrics = await server.Http.GetStringAsync("/metrics");
            return metrics.Contains("parley_queue_messages{state=\"visible\"}", StringComparison.Ordinal) ? metrics : null;
        }, TimeSpan.FromSeconds(20), "queue metrics");

        Assert.Matches(@"parley_bots_created_total\{meeting_platform=""meet""\} [1-9]", text);
        Assert.Matches(@"parley_bots\{status=""joining_call""\} [1-9]", text);
        Assert.Contains("parley_outbox_pending ", text, StringComparison.Ordinal);
        Assert.Contains("parley_outbox_lag_seconds ", text, StringComparison.Ordinal);
        Assert.Contains("parley_job_runs_total{job=\"scheduled-bot-job\",result=\"ok\"}", text, StringComparison.Ordinal);
    }
}
