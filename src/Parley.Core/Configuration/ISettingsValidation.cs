namespace Parley.Core.Configuration;

/// <summary>
/// Cross-setting rules of an options class (a flag that needs other settings, a pair that must be set
/// together). Runs after every property of every class has been bound, so it can report all problems at once.
/// </summary>
public interface ISettingsValidation
{
    void Validate(SettingsValidationContext context);
}

/// <summary>Collects problems and lets a rule look at how settings were given.</summary>
public sealed class SettingsValidationContext(Func<string, string?> lookup)
{
    private readonly List<ConfigProblem> _problems = [];

    public IReadOnlyList<ConfigProblem> Problems => _problems;

    /// <summary>The value as configured (before conversion), or null when unset.</summary>
    public string? Raw(string variable) => lookup(variable);

    public void Add(string variable, string? value, string expected, bool secret = false) =>
        _problems.Add(new ConfigProblem(variable, value, expected, secret));

    public void Add(ConfigProblem problem) => _problems.Add(problem);

    /// <summary>Reports every variable in <paramref name="required"/> that is unset or blank, naming the flag that needs it.</summary>
    public void RequireWhen(string flag, params (string Variable, string? Value, bool Secret)[] required)
    {
        foreach (var (variable, value, secret) in required)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                Add(variable, value, $"required when {flag}=true", secret);
            }
        }
    }
}
