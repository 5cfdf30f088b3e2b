namespace Parley.Testing;

/// <summary>
/// The real servers test.sh starts. A test that needs one and does not find it fails with a message that
/// says how to get it: such a test must never pass silently.
/// </summary>
internal static class TestEnvironment
{
    public static string PostgresUrl => Require("PARLEY_TEST_DATABASE_URL", "PostgreSQL");

    public static string RedisUrl => Require("PARLEY_TEST_REDIS_URL", "Redis");

    public static string AwsEndpointUrl => Require("PARLEY_TEST_AWS_ENDPOINT_URL", "moto_server");

    /// <summary>The repository root (where Parley.slnx is).</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    private static string Require(string variable, string what)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new InvalidOperationException(
                $"This test needs {what}, which ./test.sh starts and announces in {variable}. Run the tests with ./test.sh.");
        }

        return value;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Parley.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Parley.slnx not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A temporary directory removed when the test ends.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "parley-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A child process may still hold a file for a moment; the OS temp cleaner takes the rest.
        }
    }
}

/// <summary>Waiting for a condition with a deadline, never for a fixed time.</summary>
internal static class Eventually
{
    public static async Task<T> ReturnsAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await probe() is { } value)
                {
                    return value;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException)
            {
                last = ex;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0}s waiting for {what}. Last error: {last?.Message ?? "none"}");
    }
}
