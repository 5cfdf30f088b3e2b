using System.Globalization;
using Parley.Core.Configuration;

namespace Parley.Orchestration;

/// <summary>
/// The environment every deployed bot gets besides its id and token: where the API is and the storage
/// settings (so a bot uploads where the server reads), taken from the bound options rather than from this
/// process's environment, because settings may also come from appsettings.json or the command line.
/// </summary>
public sealed class BotEnvironment(IReadOnlyDictionary<string, string> shared, IEnumerable<string>? secretNames = null)
{
    /// <summary>The bot's own credential, minted per deployment.</summary>
    public const string BotTokenName = "BOT_TOKEN";

    public IReadOnlyDictionary<string, string> Shared { get; } = shared;

    /// <summary>
    /// Names of the entries that are credentials (BOT_TOKEN and every setting marked secret, such as
    /// AWS_SECRET_ACCESS_KEY): platforms that can keep them out of the resource spec do (a Kubernetes Secret).
    /// </summary>
    public IReadOnlySet<string> SecretNames { get; } = new HashSet<string>([BotTokenName, .. secretNames ?? []], StringComparer.Ordinal);

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
        var secrets = new List<string>();
        foreach (var options in storageOptions)
        {
            foreach (var setting in SettingsBinder.Describe([options.GetType()]))
            {
                if (setting.Attribute.Secret)
                {
                    secrets.Add(setting.Name);
                }

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

        return new BotEnvironment(values, secrets);
    }

    public IReadOnlyDictionary<string, string> For(string botId, string token)
    {
        var values = new Dictionary<string, string>(Shared, StringComparer.Ordinal) { ["BOT_ID"] = botId, [BotTokenName] = token };
        return values;
    }
}
