namespace Parley.Core.Configuration;

/// <summary>Single-tenant credentials (Meeting BaaS `selfHosted.staticApiKey` / `staticTeamId`).</summary>
public sealed class AuthOptions : ISettingsValidation
{
    public const string SectionName = "Auth";

    /// <summary>Generated keys are 32 random bytes in hex, the `openssl rand -hex 32` the seed recommends.</summary>
    public const int MinimumKeyLength = 16;

    [Setting("STATIC_API_KEY", Description = "The API key of the single team (header x-meeting-baas-api-key). Generated and saved in the data directory on first start in embedded mode.", Secret = true)]
    public string? StaticApiKey { get; set; }

    [Setting("STATIC_TEAM_ID", Description = "Identifier of the single team in single-tenant mode.")]
    public string StaticTeamId { get; set; } = "self-hosted";

    [Setting("MASTER_ADMIN_EMAIL", Description = "User promoted to administrator when the dashboard is enabled.")]
    public string? MasterAdminEmail { get; set; }

    public void Validate(SettingsValidationContext context)
    {
        if (StaticApiKey is { } key && (key.Length < MinimumKeyLength || key.Any(c => c <= ' ' || c > '~')))
        {
            context.Add("STATIC_API_KEY", key, $"expected at least {MinimumKeyLength} printable ASCII characters without spaces (generate one with `openssl rand -hex 32`)", secret: true);
        }

        if (StaticTeamId.Length > 64 || StaticTeamId.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
        {
            context.Add("STATIC_TEAM_ID", StaticTeamId, "expected 1 to 64 letters, digits, '-', '_' or '.'");
        }

        // Generating a key is only safe with one process and one data directory. With a shared database
        // every replica would invent its own, so a scaled-out single-tenant deployment must set one.
        var multiTenant = SettingsBinder.TryParseFlag(context.Raw("ENABLE_MULTI_TENANT"), out var flag) && flag;
        if (StaticApiKey is null && !multiTenant && !string.IsNullOrWhiteSpace(context.Raw("DATABASE_URL")))
        {
            context.Add("STATIC_API_KEY", null, "required in single-tenant mode when DATABASE_URL is set (only embedded mode generates a key); generate one with `openssl rand -hex 32`");
        }

        if (MasterAdminEmail is { } email && !email.Contains('@', StringComparison.Ordinal))
        {
            context.Add("MASTER_ADMIN_EMAIL", email, "expected an email address");
        }
    }
}
