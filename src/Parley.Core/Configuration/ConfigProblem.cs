namespace Parley.Core.Configuration;

/// <summary>
/// One thing wrong with the configuration: the variable, the value as given (masked when secret) and what
/// would have been accepted. Rendered as one line on stderr before the process exits with code 2.
/// </summary>
public sealed record ConfigProblem(string Variable, string? Value, string Expected, bool Secret = false)
{
    public override string ToString()
    {
        var shown = Value is null ? "(not set)" : $"'{Mask(Value, Secret)}'";
        return $"{Variable}={shown}: {Expected}";
    }

    /// <summary>
    /// Masks a secret. A URL keeps everything but its password, so an operator still sees which host and
    /// database a bad DATABASE_URL or REDIS_URL points at.
    /// </summary>
    public static string Mask(string value, bool secret)
    {
        if (!secret || value.Length == 0)
        {
            return value;
        }

        var schemeEnd = value.IndexOf("://", StringComparison.Ordinal);
        var at = value.LastIndexOf('@');
        if (schemeEnd > 0 && at > schemeEnd)
        {
            var userInfo = value[(schemeEnd + 3)..at];
            var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            return colon < 0
                ? value
                : string.Concat(value.AsSpan(0, schemeEnd + 3), userInfo.AsSpan(0, colon), ":********", value.AsSpan(at));
        }

        return schemeEnd > 0 ? value : "********";
    }
}

/// <summary>Thrown by startup code that finds configuration problems; the host prints them and exits 2.</summary>
public sealed class ConfigurationProblemsException(IReadOnlyList<ConfigProblem> problems)
    : Exception($"{problems.Count} configuration problem(s)")
{
    public IReadOnlyList<ConfigProblem> Problems { get; } = problems;
}
