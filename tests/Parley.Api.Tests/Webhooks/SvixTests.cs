using System.Net.Http.Json;
using Parley.Testing;

namespace Parley.Api.Tests.Webhooks;

/// <summary>ENABLE_SVIX against a fake Svix server that records what it is sent (no Svix runs here).</summary>
public sealed class SvixServer : ApiServer
{
    public WebhookReceiver Svix { get; private set; } = null!;

    protected override async Task<Dictionary<string, string?>> EnvironmentAsync()
    {
        Svix = await WebhookReceiver.StartAsync();
        return new Dictionary<string, string?>
        {
            ["ENABLE_SVIX"] = "true",
            ["SVIX_URL"] = Svix.Url(""),
            ["SVIX_JWT_SECRET"] = "svix-token-123",
        };
    }
}

public sealed class SvixTests(SvixServer server) : IClassFixture<SvixServer>
{
    [Fact]
    public async Task Event_types_are_registered_at_start_and_events_become_svix_messages()
    {
        var svix = server.Svix;
        var types = await Eventually.ReturnsAsync(() =>
        {
            var registered = svix.Received.Where(r => r.Path == "/api/v1/event-type/").ToList();
            return Task.FromResult(registered.Count >= 4 ? registered : null);
        }, TimeSpan.FromSeconds(20), "four event types");
        Assert.Equal(["bot.chat_message", "bot.completed", "bot.failed", "bot.status_change"], types.Select(t => t.Json.GetProperty("name").GetString()).Order());
        Assert.All(types, t => Assert.Equal("Bearer svix-token-123", t.Headers["authorization"]));

        var id = await server.CreateBotAsync();
        (await server.Http.PostAsync($"/v2/bots/{id}/leave", null)).EnsureSuccessStatusCode();

        var messages = await Eventually.ReturnsAsync(() =>
        {
            var sent = svix.Received.Where(r => r.Path == "/api/v1/app/self-hosted/msg/" && r.Body.Contains(id, StringComparison.Ordinal)).ToList();
            return Task.FromResult(sent.Count >= 3 ? sent : null);
        }, TimeSpan.FromSeconds(20), "three Svix messages");
        var completed = Assert.Single(messages, m => m.Json.GetProperty("eventType").GetString() == "bot.completed");
        Assert.StartsWith("msg_", completed.Json.GetProperty("eventId").GetString(), StringComparison.Ordinal);
        Assert.Equal(id, completed.Json.GetProperty("payload").GetProperty("data").GetProperty("bot_id").GetString());
        Assert.Equal("bot.completed", completed.Json.GetProperty("payload").GetProperty("event").GetString());
        Assert.Equal(2, messages.Count(m => m.Json.GetProperty("eventType").GetString() == "bot.status_change"));
    }
}
