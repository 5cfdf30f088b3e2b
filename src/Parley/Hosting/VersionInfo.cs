using System.Reflection;

namespace Parley.Hosting;

public static class VersionInfo
{
    /// <summary>The informational version without the source-link commit suffix, e.g. "0.1.0".</summary>
    public static string Version { get; } = Read();

    private static string Read()
    {
        var informational = typeof(VersionInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? informational : informational[..plus];
    }

    /// <summary>The commit the build came from, when the SDK recorded one.</summary>
    public static string? Commit { get; } = typeof(VersionInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion is { } v && v.Contains('+', StringComparison.Ordinal)
        ? v[(v.IndexOf('+', StringComparison.Ordinal) + 1)..]
        : null;
}
