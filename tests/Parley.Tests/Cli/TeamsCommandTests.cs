using System.Net;
using System.Text.Json;
using Parley.Testing;

namespace Parley.Tests.Cli;

/// <summary>`parley teams` and `parley keys` on a temporary SQLite data directory, checked against a running server.</summary>
public sealed class TeamsCommandTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    private string Data => Path.Combine(_directory.Path, "data");

    public void Dispose() => _directory.Dispose();

    private Task<(int ExitCode, string Stdout, string Stderr)> Run(params string[] arguments) =>
        ParleyProcess.RunAsync([.. arguments, "--data-dir", Data], new Dictionary<string, string?> { ["ENABLE_MULTI_TENANT"] = "true" }, _directory.Path);

    private async Task<JsonElement> RunJson(params string[] arguments)
    {
        var (code, stdout, stderr) = await Run([.. arguments, "--json"]);
        Assert.True(code == 0, $"exit {code}: {stderr}");
        using var document = JsonDocument.Parse(stdout);
        return document.RootElement.Clone();
    }

    private async Task MigrateAsync()
    {
        var (code, _, stderr) = await Run("migrate");
        Assert.True(code == 0, stderr);
    }

    [Theory]
    [InlineData("teams", "create", "--name")]
    [InlineData("teams", "list", "--include-deleted")]
    [InlineData("teams", "delete", "team-id")]
    [InlineData("keys", "create", "--team")]
    [InlineData("keys", "list", "--json")]
    [InlineData("keys", "revoke", "key-id")]
    public async Task Every_subcommand_has_help(string group, string command, string expected)
    {
        var (code, stdout, _) = await ParleyProcess.RunAsync([group, command, "--help"], new Dictionary<string, string?>(), _directory.Path);

        Assert.Equal(0, code);
        Assert.Contains(expected, stdout, StringComparison.Ordinal);
        Assert.Contains("--data-dir", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_a_database_that_is_not_migrated_every_command_exits_2_and_creates_nothing()
    {
        var (code, stdout, stderr) = await Run("teams", "list");

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("not migrated", stderr, StringComparison.Ordinal);
        Assert.Contains("parley migrate", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(Data, "parley.db")));

        var (keys, _, _) = await Run("keys", "create", "--team", "x");
        Assert.Equal(2, keys);
    }

    [Fact]
    public async Task Bad_usage_exits_2_and_unknown_teams_or_keys_exit_1()
    {
        await MigrateAsync();

        Assert.Equal(2, (await Run("teams", "create")).ExitCode);
        Assert.Equal(2, (await Run("teams", "create", "--name", new string('n', 256))).ExitCode);
        Assert.Equal(2, (await Run("teams", "create", "--name", "  ")).ExitCode);
        Assert.Equal(2, (await Run("keys", "list")).ExitCode);
        Assert.Equal(2, (await Run("keys", "revoke", "--team", "t")).ExitCode);
        Assert.Equal(2, (await Run("teams")).ExitCode);

        var (deleteCode, _, deleteError) = await Run("teams", "delete", "no-such-team");
        Assert.Equal(1, deleteCode);
        Assert.Contains("no team no-such-team", deleteError, StringComparison.Ordinal);
        Assert.Equal(1, (await Run("keys", "list", "--team", "no-such-team")).ExitCode);
        Assert.Equal(1, (await Run("keys", "create", "--team", "no-such-team")).ExitCode);

        var team = await RunJson("teams", "create", "--name", "Acme");
        Assert.Equal(1, (await Run("keys", "revoke", "--team", team.GetProperty("team_id").GetString()!, "no-such-key")).ExitCode);
    }

    [Fact]
    public async Task Created_keys_work_against_a_server_until_revoked_or_the_team_is_deleted()
    {
        await MigrateAsync();
        var (textCode, textOut, _) = await Run("teams", "create", "--name", "Text output");
        Assert.Equal(0, textCode);
        Assert.Matches(@"Created team [0-9a-f-]{36} \(Text output\)\.", textOut);
        Assert.Matches(@"(?m)^pk_[0-9a-f]{64}$", textOut);

        var team = await RunJson("teams", "create", "--name", "Acme");
        var teamId = team.GetProperty("team_id").GetString()!;
        var firstKey = team.GetProperty("api_key").GetProperty("key").GetString()!;
        var firstKeyId = team.GetProperty("api_key").GetProperty("id").GetString()!;
        var second = await RunJson("keys", "create", "--team", teamId, "--name", "ci");
        var secondKey = second.GetProperty("key").GetString()!;
        Assert.Equal("ci", second.GetProperty("name").GetString());

        var keys = (await RunJson("keys", "list", "--team", teamId)).EnumerateArray().ToList();
        Assert.Equal([firstKeyId, second.GetProperty("id").GetString()], keys.Select(k => k.GetProperty("id").GetString()));
        Assert.DoesNotContain(firstKey, keys[0].ToString(), StringComparison.Ordinal);
        Assert.Equal(firstKey[..11], keys[0].GetProperty("prefix").GetString());

        var listed = (await RunJson("teams", "list")).EnumerateArray().Select(t => t.GetProperty("name").GetString()).ToList();
        Assert.Equal(["Acme", "Text output"], listed);
        var (tableCode, table, _) = await Run("teams", "list");
        Assert.Equal(0, tableCode);
        Assert.Contains(teamId, table, StringComparison.Ordinal);

        await using var server = RunningServer.Start(
            new Dictionary<string, string?> { ["ENABLE_MULTI_TENANT"] = "true", ["PARLEY_DATA_DIR"] = Data, ["PARLEY_RATE_LIMIT_PER_SECOND"] = "0" },
            directory: _directory);
        await server.WaitForStatusAsync("/ready", HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(server, firstKey));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(server, secondKey));

        var (revokeCode, revokeOut, revokeError) = await Run("keys", "revoke", "--team", teamId, firstKeyId);
        Assert.True(revokeCode == 0, revokeError);
        Assert.Contains("Revoked", revokeOut, StringComparison.Ordinal);
        // The server learns of a revocation made elsewhere when its cached lookup expires (a few seconds).
        await WaitForStatusAsync(server, firstKey, HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(server, secondKey));

        var (deleteCode, _, deleteError) = await Run("teams", "delete", teamId);
        Assert.True(deleteCode == 0, deleteError);
        await WaitForStatusAsync(server, secondKey, HttpStatusCode.Unauthorized);

        Assert.DoesNotContain((await RunJson("teams", "list")).EnumerateArray(), t => t.GetProperty("team_id").GetString() == teamId);
        var deleted = (await RunJson("teams", "list", "--include-deleted")).EnumerateArray().Single(t => t.GetProperty("team_id").GetString() == teamId);
        Assert.NotEqual(JsonValueKind.Null, deleted.GetProperty("deleted_at").ValueKind);
        var revoked = (await RunJson("keys", "list", "--team", teamId)).EnumerateArray().Single(k => k.GetProperty("id").GetString() == firstKeyId);
        Assert.NotEqual(JsonValueKind.Null, revoked.GetProperty("revoked_at").ValueKind);
        Assert.NotEqual(JsonValueKind.Null, revoked.GetProperty("last_used_at").ValueKind);
    }

    private static async Task<HttpStatusCode> StatusAsync(RunningServer server, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v2/bots");
        request.Headers.Add("x-meeting-baas-api-key", key);
        using var response = await server.Http.SendAsync(request);
        return response.StatusCode;
    }

    private static Task WaitForStatusAsync(RunningServer server, string key, HttpStatusCode status) =>
        Eventually.ReturnsAsync(
            async () => await StatusAsync(server, key) == status ? (object?)true : null,
            TimeSpan.FromSeconds(20),
            $"GET /v2/bots with the key to answer {(int)status}");
}
