using System.Net;
using System.Text.Json;
using Parley.Testing;

namespace Parley.Tests.Hosting;

/// <summary>`parley serve` with nothing installed: SQLite in a temp data directory, a real child process.</summary>
public sealed class ServeEmbeddedTests
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(40);

    [Fact]
    public async Task Serves_the_operations_endpoints_and_exits_0_on_sigterm()
    {
        await using var server = RunningServer.Start(new Dictionary<string, string?>
        {
            ["SELF_HOSTED"] = "true",
            ["ENABLE_MULTI_TENANT"] = "1",
            ["ENABLE_STRIPE"] = "FALSE",
        });

        using var ready = await server.WaitForStatusAsync("/ready", HttpStatusCode.OK);
        using (var readyJson = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()))
        {
            Assert.Equal("up", readyJson.RootElement.GetProperty("status").GetString());
            Assert.Equal("up", readyJson.RootElement.GetProperty("components").GetProperty("migrations").GetProperty("status").GetString());
        }

        using var health = await server.Http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        using (var healthJson = JsonDocument.Parse(await health.Content.ReadAsStringAsync()))
        {
            var database = healthJson.RootElement.GetProperty("components").GetProperty("database");
            Assert.Equal("up", database.GetProperty("status").GetString());
            Assert.StartsWith("SQLite ", database.GetProperty("description").GetString(), StringComparison.Ordinal);
        }

        Assert.True(File.Exists(Path.Combine(server.DataDirectory, "parley.db")));

        using var liveness = await server.Http.GetAsync("/liveness");
        Assert.Equal(HttpStatusCode.OK, liveness.StatusCode);

        // Exactly the Meeting BaaS shape, flags as set in the environment.
        var features = await server.Http.GetStringAsync("/status/features");
        Assert.Equal(
            """{"selfHosted":true,"features":{"stripe":false,"svix":false,"calendar":false,"multitenant":true,"dashboard":false,"transcription":false,"email":false}}""",
            features);

        using var tagged = new HttpRequestMessage(HttpMethod.Get, "/liveness");
        tagged.Headers.Add("x-request-id", "probe-42");
        using var echoed = await server.Http.SendAsync(tagged);
        Assert.Equal("probe-42", echoed.Headers.GetValues("x-request-id").Single());

        var metrics = await server.Http.GetStringAsync("/metrics");
        Assert.Contains("process_cpu_seconds_total", metrics, StringComparison.Ordinal);
        Assert.Contains("dotnet_collection_count_total", metrics, StringComparison.Ordinal);
        Assert.Contains("http_request_duration_seconds_count{code=\"200\",method=\"GET\",controller=\"\",action=\"\",endpoint=\"/status/features\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("endpoint=\"/ready\"", metrics, StringComparison.Ordinal);

        Assert.Contains($"is listening on http://127.0.0.1:{server.Port}", server.Process.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Generated API key", server.Process.Stdout, StringComparison.Ordinal);

        server.Process.Terminate();
        Assert.Equal(0, await server.Process.WaitForExitAsync(ExitTimeout));
    }

    [Fact]
    public async Task Sigterm_lets_a_request_in_flight_finish_before_exiting_0()
    {
        const string Key = "0123456789abcdef0123456789abcdef";
        await using var server = RunningServer.Start(new Dictionary<string, string?> { ["STATIC_API_KEY"] = Key });
        await server.WaitForStatusAsync("/ready", HttpStatusCode.OK);

        // A client that has sent its headers and half of its body when the stop signal arrives.
        var body = System.Text.Encoding.UTF8.GetBytes("""{"bot_name":"Late","meeting_url":"https://meet.google.com/abc-defg-hij"}""");
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, server.Port);
        var stream = client.GetStream();
        var head = $"POST /v2/bots HTTP/1.1\r\nHost: 127.0.0.1\r\nx-meeting-baas-api-key: {Key}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(body.AsMemory(0, 10));
        await stream.FlushAsync();

        server.Process.Terminate();
        await server.Process.WaitForStdoutAsync("Application is shutting down", TimeSpan.FromSeconds(20));
        await stream.WriteAsync(body.AsMemory(10));
        using var reader = new StreamReader(stream);
        var response = await reader.ReadToEndAsync();

        Assert.StartsWith("HTTP/1.1 201", response, StringComparison.Ordinal);
        Assert.Contains("\"bot_id\"", response, StringComparison.Ordinal);
        Assert.Equal(0, await server.Process.WaitForExitAsync(ExitTimeout));
    }

    [Fact]
    public async Task The_first_start_prints_the_generated_key_once_and_later_starts_reuse_it()
    {
        using var directory = new TempDirectory();
        string key;
        await using (var first = RunningServer.Start(directory: directory))
        {
            await first.Process.WaitForStdoutAsync("Generated API key", TimeSpan.FromSeconds(60));
            await first.WaitForStatusAsync("/ready", HttpStatusCode.OK);
            var line = first.Process.Stdout.Split('\n').Single(l => l.StartsWith("Generated API key", StringComparison.Ordinal));
            key = line[(line.LastIndexOf(' ') + 1)..].Trim();
            Assert.Matches("^[0-9a-f]{64}$", key);

            var file = Path.Combine(directory.Path, "data", "api-key");
            Assert.Equal(key, File.ReadAllText(file).Trim());
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));

            first.Process.Terminate();
            Assert.Equal(0, await first.Process.WaitForExitAsync(ExitTimeout));
        }

        await using var second = RunningServer.Start(directory: directory);
        await second.WaitForStatusAsync("/ready", HttpStatusCode.OK);
        await second.Process.WaitForStdoutAsync("API key: stored in", TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(key, second.Process.Stdout, StringComparison.Ordinal);
        second.Process.Terminate();
        Assert.Equal(0, await second.Process.WaitForExitAsync(ExitTimeout));
    }

    [Fact]
    public async Task Json_log_format_writes_one_json_object_per_line_with_the_request_id()
    {
        await using var server = RunningServer.Start(new Dictionary<string, string?> { ["LOG_FORMAT"] = "json" });
        await server.WaitForStatusAsync("/ready", HttpStatusCode.OK);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/status/features");
        request.Headers.Add("x-request-id", "trace-me-123");
        using var response = await server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        server.Process.Terminate();
        Assert.Equal(0, await server.Process.WaitForExitAsync(ExitTimeout));

        var lines = server.Process.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.NotEmpty(lines);
        var documents = lines.Select(l => JsonDocument.Parse(l)).ToList();
        Assert.Contains(documents, d =>
            d.RootElement.TryGetProperty("Message", out var m)
            && m.GetString()!.Contains("GET /status/features responded 200", StringComparison.Ordinal)
            && d.RootElement.GetProperty("State").GetProperty("RequestId").GetString() == "trace-me-123");
        Assert.Contains(documents, d => d.RootElement.TryGetProperty("event", out var e) && e.GetString() == "listening");
        documents.ForEach(d => d.Dispose());
    }

    [Fact]
    public async Task A_process_with_only_the_jobs_and_sfu_roles_serves_signaling_and_operations_but_not_the_api()
    {
        await using var server = RunningServer.Start(extraArguments: ["--roles", "jobs,sfu"]);

        await server.WaitForStatusAsync("/ready", HttpStatusCode.OK);

        Assert.Contains("Role sfu started", server.Process.Stdout, StringComparison.Ordinal);
        Assert.Contains("SFU started", server.Process.Stdout, StringComparison.Ordinal);
        Assert.Contains("(roles: jobs, sfu)", server.Process.Stdout, StringComparison.Ordinal);
        using (var signaling = await server.Http.GetAsync("/rtc/ws"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, signaling.StatusCode); // a plain GET: the WebSocket is there
        }

        using (var api = await server.Http.GetAsync("/v2/bots"))
        {
            Assert.Equal(HttpStatusCode.NotFound, api.StatusCode);
        }

        server.Process.Terminate();
        Assert.Equal(0, await server.Process.WaitForExitAsync(ExitTimeout));
    }

    [Fact]
    public async Task An_unreachable_postgres_keeps_ready_and_health_at_503_while_liveness_answers()
    {
        var closedPort = ParleyProcess.FreePort();
        await using var server = RunningServer.Start(new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = $"postgres://parley:secret@127.0.0.1:{closedPort}/parley",
            ["STATIC_API_KEY"] = "0123456789abcdef0123456789abcdef",
            ["PARLEY_DATABASE_TIMEOUT_SECONDS"] = "2",
        });

        await server.WaitForStatusAsync("/liveness", HttpStatusCode.OK);

        using var ready = await server.Http.GetAsync("/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        using var health = await server.Http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        using var json = JsonDocument.Parse(await health.Content.ReadAsStringAsync());
        Assert.Equal("down", json.RootElement.GetProperty("components").GetProperty("database").GetProperty("status").GetString());
        Assert.DoesNotContain("secret", await health.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        server.Process.Terminate();
        Assert.Equal(0, await server.Process.WaitForExitAsync(ExitTimeout));
    }
}
