using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Parley.Testing;

namespace Parley.Api.Tests.Bots;

/// <summary>
/// A bot driven through its life by the bot-facing API, as a bot process would, with the public actions
/// and the webhooks they cause.
/// </summary>
public abstract class BotLifecycleTests(ApiServer server)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private HttpClient Http => server.Http;

    private static async Task PostStatusAsync(HttpClient bot, string botId, string code, HttpStatusCode expected = HttpStatusCode.OK, string? errorCode = null)
    {
        using var response = await bot.PostAsJsonAsync($"/internal/bots/{botId}/status", new { code, error_code = errorCode });
        Assert.True(response.StatusCode == expected, $"{code}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    [Fact]
    public async Task A_bot_reports_its_way_to_completed_and_every_change_is_stored_and_sent()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        using var endpoint = await Http.PostAsJsonAsync("/v2/webhooks", new { url = receiver.Url("/account"), secret = "endpoint-secret-123" });
        var endpointId = (await endpoint.ReadJsonAsync()).GetProperty("data").GetProperty("id").GetString();
        try
        {
            var id = await server.CreateBotAsync(new
            {
                bot_name = "Lifecycle",
                meeting_url = $"https://meet.google.com/{Api.MeetCode()}",
                extra = new { ticket = "T-1" },
                callback_config = new { url = receiver.Url("/callback"), secret = "callback-secret", method = "PUT" },
            });
            using var bot = server.BotClient(await server.MintTokenAsync(id));

            var config = await bot.GetDataAsync($"/internal/bots/{id}/config");
            Assert.Equal("meet", config.GetProperty("meeting_platform").GetString());
            Assert.Equal(600, config.GetProperty("timeout_config").GetProperty("waiting_room_timeout").GetInt32());

            foreach (var code in new[] { "joining_call", "in_waiting_room", "in_call_not_recording", "in_call_recording", "call_ended", "completed" })
            {
                await PostStatusAsync(bot, id, code);
            }

            var details = await Http.GetDataAsync($"/v2/bots/{id}");
            Assert.Equal("completed", details.GetProperty("status").GetString());
            Assert.Equal(
                ["queued", "joining_call", "in_waiting_room", "in_call_not_recording", "in_call_recording", "call_ended", "completed"],
                details.GetProperty("status_history").EnumerateArray().Select(h => h.GetProperty("code").GetString()));
            Assert.Equal(JsonValueKind.String, details.GetProperty("joined_at").ValueKind);
            Assert.Equal(JsonValueKind.String, details.GetProperty("exited_at").ValueKind);
            Assert.Equal("DONE", details.GetProperty("deployment").GetProperty("state").GetString());
            Assert.Equal("local", details.GetProperty("deployment").GetProperty("platform").GetString());

            // Six status changes and one bot.completed to the account endpoint; bot.completed to the callback.
            await Eventually.ReturnsAsync(() => Task.FromResult(receiver.For(id).Count() >= 8 ? (object?)true : null), Deadline, "8 webhooks");
            var account = receiver.For(id).Where(r => r.Path == "/account").ToList();
            Assert.Equal(6, account.Count(r => r.Json.GetProperty("event").GetString() == "bot.status_change"));
            var completed = Assert.Single(account, r => r.Json.GetProperty("event").GetString() == "bot.completed");
            Assert.Equal("T-1", completed.Json.GetProperty("extra").GetProperty("ticket").GetString());
            Assert.True(completed.Json.GetProperty("data").TryGetProperty("duration_seconds", out _));
            AssertSigned(completed, "endpoint-secret-123");

            var callback = Assert.Single(receiver.For(id), r => r.Path == "/callback");
            Assert.Equal("PUT", callback.Method);
            Assert.Equal("callback-secret", callback.Headers["x-mb-secret"]);
            AssertSigned(callback, "callback-secret");

            var statuses = account.Where(r => r.Json.GetProperty("event").GetString() == "bot.status_change")
                .Select(r => r.Json.GetProperty("data").GetProperty("status").GetProperty("code").GetString()).ToHashSet();
            string[] expected = ["joining_call", "in_waiting_room", "in_call_not_recording", "in_call_recording", "call_ended", "completed"];
            Assert.Equal(expected.Order(), statuses.Order());

            // The token ended with the bot.
            using var after = await bot.PostAsync($"/internal/bots/{id}/heartbeat", null);
            Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        }
        finally
        {
            await Http.DeleteAsync($"/v2/webhooks/{endpointId}");
        }
    }

    [Fact]
    public async Task Impossible_transitions_are_refused_and_terminal_statuses_are_final()
    {
        var id = await server.CreateBotAsync();
        using var bot = server.BotClient(await server.MintTokenAsync(id));

        await PostStatusAsync(bot, id, "in_call_recording", HttpStatusCode.Conflict);
        await PostStatusAsync(bot, id, "no_such_status", HttpStatusCode.BadRequest);
        await PostStatusAsync(bot, id, "joining_call");
        await PostStatusAsync(bot, id, "joining_call");
        await PostStatusAsync(bot, id, "failed", errorCode: "CANNOT_JOIN_MEETING");

        var details = await Http.GetDataAsync($"/v2/bots/{id}");
        Assert.Equal("failed", details.GetProperty("status").GetString());
        Assert.Equal("CANNOT_JOIN_MEETING", details.GetProperty("error_code").GetString());
        Assert.Equal(3, details.GetProperty("status_history").GetArrayLength());
    }

    [Fact]
    public async Task A_wrong_or_foreign_token_is_401()
    {
        var first = await server.CreateBotAsync();
        var second = await server.CreateBotAsync();
        var token = await server.MintTokenAsync(first);
        await server.MintTokenAsync(second);

        using var foreign = server.BotClient(token);
        using (var response = await foreign.GetAsync($"/internal/bots/{second}/config"))
        {
            await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        }

        using var wrong = server.BotClient("pbt_not-a-token");
        using var wrongResponse = await wrong.GetAsync($"/internal/bots/{first}/config");
        Assert.Equal(HttpStatusCode.Unauthorized, wrongResponse.StatusCode);
    }

    [Fact]
    public async Task Chat_pause_resume_and_leave_reach_the_bot_through_its_heartbeat()
    {
        var id = await server.CreateBotAsync();
        using var bot = server.BotClient(await server.MintTokenAsync(id));

        using (var early = await Http.PostAsJsonAsync($"/v2/bots/{id}/send-chat-message", new { message = "hello" }))
        {
            await early.AssertErrorAsync(HttpStatusCode.Conflict, "BOT_STATUS");
        }

        using (var earlyPause = await Http.PostAsync($"/v2/bots/{id}/pause-recording", null))
        {
            await earlyPause.AssertErrorAsync(HttpStatusCode.Conflict, "BOT_STATUS");
        }

        await PostStatusAsync(bot, id, "joining_call");
        await PostStatusAsync(bot, id, "in_call_recording");
        using (var tooLong = await Http.PostAsJsonAsync($"/v2/bots/{id}/send-chat-message", new { message = new string('m', 501) }))
        {
            await tooLong.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_ERROR");
        }

        (await Http.PostAsJsonAsync($"/v2/bots/{id}/send-chat-message", new { message = "hello everyone" })).EnsureSuccessStatusCode();
        (await Http.PostAsync($"/v2/bots/{id}/pause-recording", null)).EnsureSuccessStatusCode();
        using (var again = await Http.PostAsync($"/v2/bots/{id}/pause-recording", null))
        {
            await again.AssertErrorAsync(HttpStatusCode.Conflict, "BOT_STATUS");
        }

        using (var beat = await bot.PostAsync($"/internal/bots/{id}/heartbeat", null))
        {
            var data = (await beat.ReadJsonAsync()).GetProperty("data");
            Assert.False(data.GetProperty("should_leave").GetBoolean());
            Assert.True(data.GetProperty("recording_paused").GetBoolean());
            Assert.Equal("hello everyone", Assert.Single(data.GetProperty("pending_chat_messages").EnumerateArray()).GetString());
        }

        await PostStatusAsync(bot, id, "recording_paused");
        (await Http.PostAsync($"/v2/bots/{id}/resume-recording", null)).EnsureSuccessStatusCode();
        (await Http.PostAsync($"/v2/bots/{id}/leave", null)).EnsureSuccessStatusCode();
        using (var beat = await bot.PostAsync($"/internal/bots/{id}/heartbeat", null))
        {
            var data = (await beat.ReadJsonAsync()).GetProperty("data");
            Assert.True(data.GetProperty("should_leave").GetBoolean());
            Assert.False(data.GetProperty("recording_paused").GetBoolean());
            Assert.Empty(data.GetProperty("pending_chat_messages").EnumerateArray());
        }

        await PostStatusAsync(bot, id, "api_request_stop");
        await PostStatusAsync(bot, id, "completed", errorCode: "API_REQUEST");
        using var ended = await Http.PostAsync($"/v2/bots/{id}/leave", null);
        await ended.AssertErrorAsync(HttpStatusCode.Conflict, "BOT_STATUS");
    }

    [Fact]
    public async Task Leaving_a_queued_bot_ends_it_at_once()
    {
        var id = await server.CreateBotAsync();

        (await Http.PostAsync($"/v2/bots/{id}/leave", null)).EnsureSuccessStatusCode();

        var details = await Http.GetDataAsync($"/v2/bots/{id}");
        Assert.Equal("completed", details.GetProperty("status").GetString());
        Assert.Equal("API_REQUEST", details.GetProperty("error_code").GetString());
    }

    [Fact]
    public async Task Events_build_participants_and_speakers_and_chat_becomes_a_webhook()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        using var endpoint = await Http.PostAsJsonAsync("/v2/webhooks", new { url = receiver.Url(), events = new[] { "bot.chat_message" } });
        var endpointId = (await endpoint.ReadJsonAsync()).GetProperty("data").GetProperty("id").GetString();
        try
        {
            var id = await server.CreateBotAsync();
            using var bot = server.BotClient(await server.MintTokenAsync(id));
            using var events = await bot.PostAsJsonAsync($"/internal/bots/{id}/events", new
            {
                events = new object[]
                {
                    new { type = "participant_join", participant = new { id = "u-1", name = "Ada" } },
                    new { type = "participant_join", participant = new { id = "u-2", name = "Grace" } },
                    new { type = "speaker_change", participant = new { id = "u-2", name = "Grace" } },
                    new { type = "chat_message", participant = new { id = "u-1", name = "Ada" }, text = "hi bot", message_id = "m-1" },
                },
            });
            Assert.Equal(HttpStatusCode.OK, events.StatusCode);

            var details = await Http.GetDataAsync($"/v2/bots/{id}");
            var participants = details.GetProperty("participants").EnumerateArray().ToList();
            Assert.Equal([1, 2], participants.Select(p => p.GetProperty("id").GetInt32()));
            Assert.Equal("Ada", participants[0].GetProperty("name").GetString());
            Assert.False(participants[0].TryGetProperty("_key", out _));
            var speaker = Assert.Single(details.GetProperty("speakers").EnumerateArray());
            Assert.Equal(2, speaker.GetProperty("id").GetInt32());

            var chat = await Eventually.ReturnsAsync(() => Task.FromResult(receiver.For(id).FirstOrDefault()), Deadline, "the chat webhook");
            Assert.Equal("bot.chat_message", chat.Json.GetProperty("event").GetString());
            Assert.Equal("hi bot", chat.Json.GetProperty("data").GetProperty("text").GetString());
            Assert.Equal("Ada", chat.Json.GetProperty("data").GetProperty("sender_name").GetString());

            using var bad = await bot.PostAsJsonAsync($"/internal/bots/{id}/events", new { events = new[] { new { type = "teleport" } } });
            await bad.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_ERROR");
        }
        finally
        {
            await Http.DeleteAsync($"/v2/webhooks/{endpointId}");
        }
    }

    [Fact]
    public async Task A_receiver_that_fails_twice_gets_exactly_one_successful_signed_delivery()
    {
        await using var receiver = await WebhookReceiver.StartAsync(failFirst: 2);
        var id = await server.CreateBotAsync(new { bot_name = "Retry", meeting_url = $"https://meet.google.com/{Api.MeetCode()}", callback_url = receiver.Url() });
        using var bot = server.BotClient(await server.MintTokenAsync(id));
        await PostStatusAsync(bot, id, "failed", errorCode: "INTERNAL_ERROR");

        var success = await Eventually.ReturnsAsync(
            () => Task.FromResult(receiver.For(id).FirstOrDefault(r => r.AnsweredWith == 200)), Deadline, "a successful delivery");
        var attempts = receiver.For(id).ToList();
        Assert.Equal([500, 500, 200], attempts.Select(a => a.AnsweredWith));
        Assert.Single(attempts.Select(a => a.Headers["webhook-id"]).Distinct());
        Assert.Equal("bot.failed", success.Json.GetProperty("event").GetString());
        Assert.Equal("INTERNAL_ERROR", success.Json.GetProperty("data").GetProperty("error_code").GetString());

        var log = await Eventually.ReturnsAsync(async () =>
        {
            var data = await Http.GetDataAsync($"/v2/bots/{id}/webhook-deliveries");
            return data.EnumerateArray().Any(d => d.GetProperty("status").GetString() == "succeeded") ? (JsonElement?)data : null;
        }, Deadline, "the delivery log to show success");
        var delivery = Assert.Single(log!.Value.EnumerateArray());
        Assert.Equal(3, delivery.GetProperty("attempt").GetInt32());
        Assert.Equal(200, delivery.GetProperty("status_code").GetInt32());
        Assert.Equal("bot.failed", delivery.GetProperty("event").GetString());
    }

    [Fact]
    public async Task Resend_webhook_and_retry_callback_send_the_final_event_again()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var id = await server.CreateBotAsync(new { bot_name = "Resend", meeting_url = $"https://meet.google.com/{Api.MeetCode()}", callback_url = receiver.Url("/first") });
        using (var early = await Http.PostAsync($"/v2/bots/{id}/resend-webhook", null))
        {
            await early.AssertErrorAsync(HttpStatusCode.Conflict, "BOT_STATUS");
        }

        (await Http.PostAsync($"/v2/bots/{id}/leave", null)).EnsureSuccessStatusCode();
        await Eventually.ReturnsAsync(() => Task.FromResult(receiver.For(id).Any() ? (object?)true : null), Deadline, "the first callback");

        (await Http.PostAsync($"/v2/bots/{id}/resend-webhook", null)).EnsureSuccessStatusCode();
        using (var retry = await Http.PostAsJsonAsync($"/v2/bots/{id}/retry-callback", new { url = receiver.Url("/second"), secret = "s3cret-value", method = "POST" }))
        {
            Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        }

        using (var bad = await Http.PostAsJsonAsync($"/v2/bots/{id}/retry-callback", new { url = "not a url" }))
        {
            await bad.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_ERROR");
        }

        await Eventually.ReturnsAsync(() => Task.FromResult(receiver.For(id).Count() >= 3 ? (object?)true : null), Deadline, "three callbacks");
        Assert.Equal(2, receiver.For(id).Count(r => r.Path == "/first"));
        var second = Assert.Single(receiver.For(id), r => r.Path == "/second");
        Assert.Equal("bot.completed", second.Json.GetProperty("event").GetString());
        AssertSigned(second, "s3cret-value");
    }

    [Fact]
    public async Task Update_config_merges_extra_and_delete_data_removes_the_artifacts()
    {
        var id = await server.CreateBotAsync(new { bot_name = "Data", meeting_url = $"https://meet.google.com/{Api.MeetCode()}", extra = new { keep = 1, drop = 2 } });
        using (var patch = await Http.PatchAsJsonAsync($"/v2/bots/{id}/update-config", new { extra = new { drop = (int?)null, added = "yes" } }))
        {
            var extra = (await patch.ReadJsonAsync()).GetProperty("data").GetProperty("extra");
            Assert.Equal(1, extra.GetProperty("keep").GetInt32());
            Assert.False(extra.TryGetProperty("drop", out _));
            Assert.Equal("yes", extra.GetProperty("added").GetString());
        }

        using var bot = server.BotClient(await server.MintTokenAsync(id));
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes("fake mp4 bytes"));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("video/mp4");
        using (var upload = await bot.PostAsync($"/internal/bots/{id}/artifacts?kind=video&name=video.mp4", content))
        {
            Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        }

        using (var early = await Http.DeleteAsync($"/v2/bots/{id}/delete-data"))
        {
            await early.AssertErrorAsync(HttpStatusCode.Conflict, "BOT_STATUS");
        }

        await PostStatusAsync(bot, id, "failed", errorCode: "INTERNAL_ERROR");
        var video = (await Http.GetDataAsync($"/v2/bots/{id}")).GetProperty("video").GetString()!;
        using (var anonymous = new HttpClient())
        {
            Assert.Equal("fake mp4 bytes", await anonymous.GetStringAsync(video));
        }

        (await Http.DeleteAsync($"/v2/bots/{id}/delete-data")).EnsureSuccessStatusCode();

        var details = await Http.GetDataAsync($"/v2/bots/{id}");
        Assert.True(details.GetProperty("artifacts_deleted").GetBoolean());
        Assert.Equal(JsonValueKind.Null, details.GetProperty("video").ValueKind);
        using var gone = new HttpClient();
        Assert.Equal(HttpStatusCode.NotFound, (await gone.GetAsync(video)).StatusCode);
    }

    /// <summary>Verifies the Standard Webhooks signature the way a receiver would.</summary>
    private static void AssertSigned(ReceivedWebhook webhook, string secret)
    {
        var signed = $"{webhook.Headers["webhook-id"]}.{webhook.Headers["webhook-timestamp"]}.{webhook.Body}";
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(signed)));
        Assert.Equal(expected, webhook.Headers["webhook-signature"]);
        Assert.StartsWith("msg_", webhook.Headers["webhook-id"], StringComparison.Ordinal);
    }
}

public sealed class BotLifecycleSqliteTests(SqliteApiServer server) : BotLifecycleTests(server), IClassFixture<SqliteApiServer>;

public sealed class BotLifecyclePostgresTests(PostgresApiServer server) : BotLifecycleTests(server), IClassFixture<PostgresApiServer>;
