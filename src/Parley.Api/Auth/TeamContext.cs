using Microsoft.AspNetCore.Http;

namespace Parley.Api.Auth;

/// <summary>The team a request acts for, resolved from its API key.</summary>
public sealed record TeamContext(string TeamId, string? ApiKeyId)
{
    private const string ItemKey = "parley.team";

    public static TeamContext Get(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Items[ItemKey] as TeamContext
            ?? throw new InvalidOperationException("No team context: the endpoint is not behind the API key filter.");
    }

    internal void Attach(HttpContext context) => context.Items[ItemKey] = this;
}
