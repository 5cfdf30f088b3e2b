using System.Net;
using System.Net.Http.Json;
using System.Text;
using Parley.Api.Meetings;
using Parley.Testing;

namespace Parley.Api.Tests.Meetings;

/// <summary>The meeting settings as a server applies them: the generated JWT_SECRET, limits, ad-hoc off, bad values.</summary>
public sealed class MeetingSettingsTests
{
    private static Dictionary<string, string?> Env(string dataDir, params (string Name, string Value)[] extra)
    {
        var env = new Dictionary<string, string?>
        {
            ["PARLEY_DATA_DIR"] = dataDir,
            ["STATIC_API_KEY"] = ApiServer.Key,
            ["PARLEY_ROLES"] = "api",
        };
        foreach (var (name, value) in extra)
        {
            env[name] = value;
        }

        return env;
    }

    private static async Task<RunningServer> StartAsync(Dictionary<string, string?> env, TempDirectory dir)
    {
        var server = RunningServer.Start(env, directory: dir);
        await server.WaitForStatusAsync("/ready", HttpStatusCode.OK);
        server.Http.DefaultRequestHeaders.Add("x-meeting-baas-api-key", ApiServer.Key);
        return server;
    }

    private static async Task<(string MeetingId, string Token)> MeetingAndTokenAsync(HttpClient http)
    {
        using var created = await http.PostAsJsonAsync("/v2/meetings", new { });
        var id = (await created.ReadJsonAsync()).GetProperty("data").GetProperty("meeting_id").GetString()!;
        using var token = await http.PostAsJsonAsync($"/v2/meetings/{id}/tokens", new { identity = "alice", name = "Alice" });
        return (id, (await token.ReadJsonAsync()).GetProperty("data").GetProperty("token").GetString()!);
    }

    private static MeetingTokenService Verifier(byte[] key) => new(new MeetingSigningKey(key, null, generated: false), TimeProvider.System);

    [Fact]
    public async Task Without_JWT_SECRET_one_secret_is_generated_saved_0600_and_reused_after_a_restart()
    {
        using var dir = new TempDirectory();
        var data = Path.Combine(dir.Path, "data");
        var file = Path.Combine(data, MeetingSecretStore.FileName);
        var env = Env(data);

        string firstToken;
        string firstSecret;
        await using (var first = await StartAsync(env, dir))
        {
            (_, firstToken) = await MeetingAndTokenAsync(first.Http);
            firstSecret = File.ReadAllText(file).Trim();
            first.Process.Terminate();
            Assert.Equal(0, await first.Process.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }

        Assert.Matches("^[0-9a-f]{64}$", firstSecret);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));

        await using var second = await StartAsync(env, dir);
        var (_, secondToken) = await MeetingAndTokenAsync(second.Http);
        Assert.Equal(firstSecret, File.ReadAllText(file).Trim());
        // Tokens of both runs verify with the stored secret: the first run's are still good after the restart.
        var verifier = Verifier(Encoding.UTF8.GetBytes(firstSecret));
        Assert.True((await verifier.ValidateAsync(firstToken)).IsValid);
        Assert.True((await verifier.ValidateAsync(secondToken)).IsValid);
        Assert.DoesNotContain(firstSecret, second.Process.Stdout + second.Process.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_configured_JWT_SECRET_signs_the_tokens_and_limits_apply()
    {
        using var dir = new TempDirectory();
        var data = Path.Combine(dir.Path, "data");
        const string Secret = "configured-jwt-secret-configured-jwt-secret";
        await using var server = await StartAsync(Env(data, ("JWT_SECRET", Secret), ("MAX_PARTICIPANTS", "12"), ("MEETING_TTL", "900"),
            ("PARLEY_MEETING_TOKEN_TTL", "120"), ("PARLEY_ADHOC_MEETINGS", "false"), ("API_SERVER_BASEURL", "https://meet.example.test/")), dir);

        using var created = await server.Http.PostAsJsonAsync("/v2/meetings", new { });
        var meeting = (await created.ReadJsonAsync()).GetProperty("data");
        var id = meeting.GetProperty("meeting_id").GetString()!;
        Assert.Equal(12, meeting.GetProperty("max_participants").GetInt32());
        Assert.Equal(900, meeting.GetProperty("ttl_seconds").GetInt32());
        Assert.Equal($"https://meet.example.test/meet/{id}", meeting.GetProperty("join_url").GetString());

        using var tokenResponse = await server.Http.PostAsJsonAsync($"/v2/meetings/{id}/tokens", new { identity = "alice", name = "Alice" });
        var token = (await tokenResponse.ReadJsonAsync()).GetProperty("data").GetProperty("token").GetString()!;
        var payload = Jwt.Payload(token);
        Assert.Equal(120, payload.GetProperty("exp").GetInt64() - payload.GetProperty("iat").GetInt64());
        Assert.True((await Verifier(Encoding.UTF8.GetBytes(Secret)).ValidateAsync(token)).IsValid);
        Assert.False(File.Exists(Path.Combine(data, MeetingSecretStore.FileName)));

        using var anonymous = new HttpClient { BaseAddress = server.Http.BaseAddress };
        using var adhoc = await anonymous.PostAsJsonAsync("/meet/not-created-here/guest-token", new { name = "Guest" });
        await adhoc.AssertErrorAsync(HttpStatusCode.NotFound, "MEETING_NOT_FOUND");
    }

    [Fact]
    public async Task Guest_tokens_are_rate_limited_per_address()
    {
        using var dir = new TempDirectory();
        await using var server = await StartAsync(Env(Path.Combine(dir.Path, "data"), ("PARLEY_RATE_LIMIT_PER_SECOND", "2")), dir);
        using var anonymous = new HttpClient { BaseAddress = server.Http.BaseAddress };
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            using var response = await anonymous.PostAsJsonAsync("/meet/rate-limited-room/guest-token", new { name = "Guest" });
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                await response.AssertErrorAsync(HttpStatusCode.TooManyRequests, "TOO_MANY_REQUESTS");
                Assert.Equal("2", response.Headers.GetValues("x-ratelimit-limit").Single());
                break;
            }
        }

        // Six requests cannot all fall into windows of two per second unless each took a third of a second.
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
    }

    [Theory]
    [InlineData("JWT_SECRET", "too-short", "JWT_SECRET=")]
    [InlineData("MAX_PARTICIPANTS", "0", "MAX_PARTICIPANTS='0'")]
    [InlineData("MEETING_TTL", "10", "MEETING_TTL='10'")]
    [InlineData("PARLEY_ADHOC_MEETINGS", "maybe", "PARLEY_ADHOC_MEETINGS='maybe'")]
    public async Task A_bad_meeting_setting_stops_the_start_with_exit_code_2(string name, string value, string expected)
    {
        using var dir = new TempDirectory();
        var (code, _, stderr) = await ParleyProcess.RunAsync(["serve"], Env(Path.Combine(dir.Path, "data"), (name, value)), dir.Path);
        Assert.Equal(2, code);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("too-short", stderr, StringComparison.Ordinal);
    }
}
