using Microsoft.AspNetCore.Http;
using Parley.Api.Http;

namespace Parley.Api.Auth;

/// <summary>Requires a valid API key on every `/v2` endpoint it guards and attaches the caller's team.</summary>
public sealed class ApiKeyFilter(ApiKeyAuthenticator authenticator) : IEndpointFilter
{
    public const string HeaderName = "x-meeting-baas-api-key";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.HttpContext;
        var team = await authenticator.AuthenticateAsync(http.Request.Headers[HeaderName].ToString(), http.RequestAborted);
        if (team is null)
        {
            return ApiError.Unauthorized();
        }

        team.Attach(http);
        return await next(context);
    }
}
