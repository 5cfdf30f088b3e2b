using Parley.Testing;

namespace Parley.Tests.Hosting;

/// <summary>
/// Bad configuration stops `parley serve` before it serves anything: exit code 2, one line per problem
/// naming the variable and the expectation, secrets masked, no stack trace.
/// </summary>
public sealed class ConfigurationErrorTests
{
    private static async Task<string> ServeExpectingExit2(Dictionary<string, string?> environment, params string[] arguments)
    {
        using var dir = new TempDirectory();
        environment.TryAdd("PARLEY_DATA_DIR", Path.Combine(dir.Path, "data"));
        environment.TryAdd("PORT", ParleyProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture));
        var (code, stdout, stderr) = await ParleyProcess.RunAsync(["serve", .. arguments], environment, dir.Path);

        Assert.True(code == 2, $"expected exit code 2, got {code}.\nstdout:\n{stdout}\nstderr:\n{stderr}");
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", stdout, StringComparison.Ordinal);
        return stderr;
    }

    [Fact]
    public async Task A_bad_flag_value()
    {
        var stderr = await ServeExpectingExit2(new() { ["ENABLE_STRIPE"] = "yes" });

        Assert.Contains("ENABLE_STRIPE='yes': expected true, false, 1 or 0", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_url()
    {
        var stderr = await ServeExpectingExit2(new() { ["REDIS_URL"] = "http://cache:6379" });

        Assert.Contains("REDIS_URL='http://cache:6379': expected an absolute URL starting with redis:// or rediss://", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_database_url()
    {
        var stderr = await ServeExpectingExit2(new() { ["DATABASE_URL"] = "mysql://root:pw@db/parley", ["STATIC_API_KEY"] = "0123456789abcdef0123" });

        Assert.Contains("DATABASE_URL='mysql://root:********@db/parley': expected postgres://", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("70000")]
    [InlineData("http")]
    public async Task A_bad_port(string port)
    {
        var stderr = await ServeExpectingExit2(new() { ["PORT"] = port });

        Assert.Contains($"PORT='{port}': expected an integer from 1 to 65535", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_port_on_the_command_line_gets_the_same_line()
    {
        var stderr = await ServeExpectingExit2([], "--port", "99999");

        Assert.Contains("PORT='99999': expected an integer from 1 to 65535", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_flag_on_without_its_settings()
    {
        var stderr = await ServeExpectingExit2(new() { ["ENABLE_SVIX"] = "true" });

        Assert.Contains("SVIX_URL=(not set): required when ENABLE_SVIX=true", stderr, StringComparison.Ordinal);
        Assert.Contains("SVIX_JWT_SECRET=(not set): required when ENABLE_SVIX=true", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Several_mistakes_are_reported_together_and_secrets_are_masked()
    {
        var stderr = await ServeExpectingExit2(new()
        {
            ["PORT"] = "0",
            ["LOG_LEVEL"] = "loud",
            ["ENABLE_EMAIL"] = "on",
            ["STATIC_API_KEY"] = "tooshort",
            ["REDIS_URL"] = "tcp://admin:hunter2hunter2@cache:6379",
            ["GLADIA_API_KEY"] = "irrelevant-but-set",
        });

        Assert.Contains("5 configuration problem(s)", stderr, StringComparison.Ordinal);
        Assert.Contains("PORT='0'", stderr, StringComparison.Ordinal);
        Assert.Contains("LOG_LEVEL='loud': expected one of trace, debug, info, warn, error", stderr, StringComparison.Ordinal);
        Assert.Contains("ENABLE_EMAIL='on'", stderr, StringComparison.Ordinal);
        Assert.Contains("STATIC_API_KEY='********'", stderr, StringComparison.Ordinal);
        Assert.Contains("REDIS_URL='tcp://admin:********@cache:6379'", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("tooshort", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_role()
    {
        var stderr = await ServeExpectingExit2([], "--roles", "api,transcoder");

        Assert.Contains("PARLEY_ROLES='api,transcoder': expected a comma-separated list of api, jobs, orchestrator, sfu", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_data_directory_that_cannot_be_created()
    {
        using var dir = new TempDirectory();
        var file = Path.Combine(dir.Path, "a-file");
        await File.WriteAllTextAsync(file, "not a directory");

        var stderr = await ServeExpectingExit2(new() { ["PARLEY_DATA_DIR"] = Path.Combine(file, "data") });

        Assert.Contains($"PARLEY_DATA_DIR='{Path.Combine(file, "data")}': expected a writable directory", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_port_already_in_use()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var stderr = await ServeExpectingExit2(new() { ["PORT"] = port });

        Assert.Contains($"PORT='{port}': 127.0.0.1:{port} is not available", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sources_take_precedence_file_then_environment_then_command_line()
    {
        using var dir = new TempDirectory();
        var file = Path.Combine(dir.Path, "settings.json");
        await File.WriteAllTextAsync(file, """{ "LOG_LEVEL": "from-file", "LOG_FORMAT": "from-file" }""");

        // The environment overrides the file's LOG_LEVEL; the command line overrides the environment's HOST.
        var stderr = await ServeExpectingExit2(
            new() { ["LOG_LEVEL"] = "debug", ["HOST"] = "from env" },
            "--config", file, "--set", "HOST=from-cli", "--set", "no-equals-sign");

        Assert.DoesNotContain("LOG_LEVEL", stderr, StringComparison.Ordinal);
        Assert.Contains("LOG_FORMAT='from-file'", stderr, StringComparison.Ordinal);
        Assert.Contains("HOST='from-cli'", stderr, StringComparison.Ordinal);
        Assert.Contains("--set='no-equals-sign': expected KEY=VALUE", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_settings_file_that_is_not_json()
    {
        using var dir = new TempDirectory();
        var file = Path.Combine(dir.Path, "appsettings.json");
        await File.WriteAllTextAsync(file, "{ PORT: ");

        var stderr = await ServeExpectingExit2([], "--config", file);

        Assert.Contains("the file is not valid JSON", stderr, StringComparison.Ordinal);
    }
}
