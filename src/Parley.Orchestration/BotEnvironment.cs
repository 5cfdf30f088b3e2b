using System.Globalization;
using Parley.Core.Configuration;

namespace Parley.Orchestration;

/// <summary>
/// The environment every deployed bot gets besides its id and token: where the API is and the storage
/// settings (so a bot uploads where the server reads), taken from the bound options rather than from this
/// process's environment, because settings may also come from appsettings.json or the command line.
/// </summary>
public sealed class BotEnvironment(IReadOnlyDictionary<string, string> shared)
{
    public IReadOnlyDictionary<string, string> Shared { get; } = shared;

    /// <param name="apiUrl">PARLEY_API_URL: the server's own URL.</param>
    /// <param name="dataDirectory">PARLEY_DATA_DIR, made absolute so the child resolves it the same way.</param>
    /// <param name="storageOptions">Options objects whose settings are passed on as they are (storage, AWS).</param>
    public static BotEnvironment Create(Uri apiUrl, string dataDirectory, IEnumerable<object> storageOptions)
    {
        ArgumentNullException.ThrowIfNull(apiUrl);
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PARLEY_API_URL"] = apiUrl.ToString().TrimEnd('/'),
            ["PARLEY_DATA_DIR"] = Path.GetFullPath(dataDirectory),
        };
        foreach (var options in storageOptions)
        {
            foreach (var setting in SettingsBinder.Describe([options.GetType()]))
            {
                var value = setting.Property.GetValue(options);
                var text = value switch
                {
                    null => null,
                    bool flag => flag ? "true" : "false",
                    Uri uri => uri.OriginalString,
                    string[] list => string.Join(',', list),
                    IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
                    _ => value.ToString(),
                };
                if (!string.IsNullOrEmpty(text))
                {
                    values[setting.Name] = text;
                }
            }
        }

        return new BotEnvironment(values);
    }

    public IReadOnlyDictionary<string, string> For(string botId, string token)
    {
        var values = new Dictionary<string, string>(Shared, StringComparer.Ordinal) { ["BOT_ID"] = botId, ["BOT_TOKEN"] = token };
        return values;
    }
}
