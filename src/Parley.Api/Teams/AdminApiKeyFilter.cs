using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Parley.Api.Http;
using Parley.Core.Configuration;

namespace Parley.Api.Teams;

/// <summary>
/// Guards the admin API. The feature check comes first, so that an operator of a single-tenant server is
/// told which flag to set rather than that the key is wrong; /status/features tells that much anyway.
/// </summary>
public sealed class AdminApiKeyFilter(ApiOptions options, FeatureOptions features) : IEndpointFilter
{
    public const string HeaderName = "x-admin-api-key";

    // Hashing both sides gives equal lengths, which FixedTimeEquals needs to be constant-time.
    private readonly byte[]? _adminHash = string.IsNullOrEmpty(options.AdminApiKey) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(options.AdminApiKey));

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (!features.MultiTenant)
        {
            return ApiError.Create(400, "FEATURE_DISABLED", "Feature disabled",
                "The admin API (/v2/teams) needs ENABLE_MULTI_TENANT=true on this server; a single-tenant server has one team, STATIC_TEAM_ID.",
                [new ErrorDetail("ENABLE_MULTI_TENANT", "must be true")]);
        }

        var presented = context.HttpContext.Request.Headers[HeaderName].ToString();
        // An unset admin key closes the admin API rather than opening it to anyone.
        if (_adminHash is null || presented.Length is 0 or > 512
            || !CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _adminHash))
        {
            return ApiError.Create(401, "UNAUTHORIZED", "Unauthorized",
                $"Send the admin key (PARLEY_ADMIN_API_KEY) in the {HeaderName} header.");
        }

        return await next(context);
    }
}
