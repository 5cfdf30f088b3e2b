using System.Globalization;
using System.Reflection;

namespace Parley.Core.Configuration;

/// <summary>A setting as declared on an options class: where it lives, its variable name and its default.</summary>
public sealed record SettingDescriptor(Type Owner, PropertyInfo Property, SettingAttribute Attribute, object? Default)
{
    public string Name => Attribute.Name;
}

/// <summary>The bound options objects and every problem found while binding and validating them.</summary>
public sealed class SettingsBindResult(
    IReadOnlyDictionary<Type, object> instances,
    IReadOnlyList<ConfigProblem> problems)
{
    public IReadOnlyList<ConfigProblem> Problems { get; } = problems;

    public bool IsValid => Problems.Count == 0;

    public T Get<T>() where T : class => (T)instances[typeof(T)];

    public IEnumerable<object> All => instances.Values;

    /// <summary>The same options with problems found outside binding (an unreadable file) listed first.</summary>
    public SettingsBindResult WithProblemsFirst(IReadOnlyList<ConfigProblem> earlier) =>
        earlier.Count == 0 ? this : new SettingsBindResult(instances, [.. earlier, .. Problems]);
}

/// <summary>
/// Binds options classes from flat variable names (the environment variable names) and validates them.
/// We do not use the configuration binder plus the source-generated options validator because a problem
/// line must name the environment variable and a conversion error ("abc" for PORT) must be collected with
/// the others instead of throwing on the first one. Runs once at start, so reflection cost does not matter.
/// </summary>
public static class SettingsBinder
{
    public static IReadOnlyList<SettingDescriptor> Describe(IEnumerable<Type> optionTypes)
    {
        var list = new List<SettingDescriptor>();
        foreach (var type in optionTypes)
        {
            var defaults = Activator.CreateInstance(type)!;
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                var attribute = property.GetCustomAttribute<SettingAttribute>();
                if (attribute is not null)
                {
                    list.Add(new SettingDescriptor(type, property, attribute, property.GetValue(defaults)));
                }
            }
        }

        return list;
    }

    /// <param name="lookup">Returns the configured value of a variable, or null when it is not set.</param>
    public static SettingsBindResult Bind(IEnumerable<Type> optionTypes, Func<string, string?> lookup)
    {
        ArgumentNullException.ThrowIfNull(lookup);
        var types = optionTypes.ToList();
        var instances = new Dictionary<Type, object>();
        var problems = new List<ConfigProblem>();

        foreach (var type in types)
        {
            instances[type] = Activator.CreateInstance(type)!;
        }

        foreach (var descriptor in Describe(types))
        {
            var value = lookup(descriptor.Name);
            // An empty value counts as unset: `.env` files and Kubernetes manifests often carry `NAME=`.
            if (string.IsNullOrWhiteSpace(value))
            {
                continue;
            }

            if (TryConvert(descriptor, value.Trim(), out var converted, out var expected))
            {
                descriptor.Property.SetValue(instances[descriptor.Owner], converted);
            }
            else
            {
                problems.Add(new ConfigProblem(descriptor.Name, value, expected, descriptor.Attribute.Secret));
            }
        }

        var context = new SettingsValidationContext(lookup);
        foreach (var instance in instances.Values)
        {
            if (instance is ISettingsValidation validation)
            {
                validation.Validate(context);
            }
        }

        // A variable that failed conversion keeps its default, which a cross-setting rule may then report
        // again; one line per variable is what an operator wants to read.
        var seen = new HashSet<string>(problems.Select(p => p.Variable), StringComparer.OrdinalIgnoreCase);
        problems.AddRange(context.Problems.Where(p => seen.Add(p.Variable)));
        return new SettingsBindResult(instances, problems);
    }

    private static bool TryConvert(SettingDescriptor descriptor, string value, out object? converted, out string expected)
    {
        var attribute = descriptor.Attribute;
        var type = Nullable.GetUnderlyingType(descriptor.Property.PropertyType) ?? descriptor.Property.PropertyType;
        converted = null;
        expected = "";

        if (type == typeof(bool))
        {
            expected = "expected true, false, 1 or 0";
            if (TryParseFlag(value, out var flag))
            {
                converted = flag;
                return true;
            }

            return false;
        }

        if (type == typeof(int) || type == typeof(long))
        {
            var min = Math.Max(attribute.Min, type == typeof(int) ? int.MinValue : long.MinValue);
            var max = Math.Min(attribute.Max, type == typeof(int) ? int.MaxValue : long.MaxValue);
            expected = DescribeRange(min, max);
            if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
                || number < min || number > max)
            {
                return false;
            }

            converted = type == typeof(int) ? (object)(int)number : number;
            return true;
        }

        if (type == typeof(Uri))
        {
            var schemes = attribute.Schemes;
            expected = schemes.Length == 0
                ? "expected an absolute URL"
                : $"expected an absolute URL starting with {string.Join(" or ", schemes.Select(s => s + "://"))}";
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host) && uri.Scheme != "file"
                || schemes.Length > 0 && !schemes.Contains(uri.Scheme, StringComparer.OrdinalIgnoreCase))
            {
                return false;
            }

            converted = uri;
            return true;
        }

        if (type == typeof(string[]))
        {
            var items = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            expected = attribute.AllowedValues.Length == 0
                ? "expected a comma-separated list"
                : $"expected a comma-separated list of {string.Join(", ", attribute.AllowedValues)}";
            if (items.Length == 0)
            {
                return false;
            }

            if (attribute.AllowedValues.Length > 0)
            {
                for (var i = 0; i < items.Length; i++)
                {
                    var match = attribute.AllowedValues.FirstOrDefault(a => a.Equals(items[i], StringComparison.OrdinalIgnoreCase));
                    if (match is null)
                    {
                        return false;
                    }

                    items[i] = match;
                }
            }

            converted = items;
            return true;
        }

        if (type == typeof(string))
        {
            if (attribute.AllowedValues.Length == 0)
            {
                converted = value;
                return true;
            }

            expected = $"expected one of {string.Join(", ", attribute.AllowedValues)}";
            converted = attribute.AllowedValues.FirstOrDefault(a => a.Equals(value, StringComparison.OrdinalIgnoreCase));
            return converted is not null;
        }

        throw new InvalidOperationException(
            $"Setting {attribute.Name} on {descriptor.Owner.Name} has unsupported type {type.Name}.");
    }

    /// <summary>Feature flags accept true/false/1/0 in any case, as the Meeting BaaS charts write them.</summary>
    public static bool TryParseFlag(string? value, out bool flag)
    {
        switch (value?.Trim().ToUpperInvariant())
        {
            case "TRUE" or "1":
                flag = true;
                return true;
            case "FALSE" or "0":
                flag = false;
                return true;
            default:
                flag = false;
                return false;
        }
    }

    private static string DescribeRange(long min, long max) => (min, max) switch
    {
        (long.MinValue or int.MinValue, long.MaxValue or int.MaxValue) => "expected an integer",
        (_, long.MaxValue or int.MaxValue) => $"expected an integer of at least {min}",
        _ => $"expected an integer from {min} to {max}",
    };
}
