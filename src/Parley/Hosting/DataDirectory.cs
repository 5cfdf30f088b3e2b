using Parley.Core.Configuration;

namespace Parley.Hosting;

public static class DataDirectory
{
    /// <summary>Creates the data directory and checks that it is writable, before anything depends on it.</summary>
    public static bool TryPrepare(string path, out ConfigProblem problem)
    {
        problem = null!;
        try
        {
            Directory.CreateDirectory(path);
            var probe = Path.Combine(path, $".write-test-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            problem = new ConfigProblem("PARLEY_DATA_DIR", path, $"expected a writable directory ({ex.Message})");
            return false;
        }
    }
}
