namespace Parley.Core.Configuration;

/// <summary>
/// Marks an options property as a setting read from configuration under <see cref="Name"/>, which is also
/// the environment variable name. The property initializer is the built-in default.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
public sealed class SettingAttribute(string name) : Attribute
{
    public string Name { get; } = name;

    /// <summary>What the setting does; docs/configuration.md carries the long form.</summary>
    public string Description { get; init; } = "";

    /// <summary>A secret is never echoed back in a problem line or a log.</summary>
    public bool Secret { get; init; }

    /// <summary>Inclusive bounds for integer settings; ignored for other types.</summary>
    public long Min { get; init; } = long.MinValue;

    public long Max { get; init; } = long.MaxValue;

    /// <summary>For string settings: the accepted values (case-insensitive); empty accepts any value.</summary>
    public string[] AllowedValues { get; init; } = [];

    /// <summary>For URI settings: the accepted schemes; empty accepts any absolute URI.</summary>
    public string[] Schemes { get; init; } = [];
}
