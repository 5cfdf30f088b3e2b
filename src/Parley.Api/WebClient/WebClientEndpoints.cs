using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Net.Http.Headers;

namespace Parley.Api.WebClient;

/// <summary>
/// The browser meeting client (web/ in the repository, copied next to the executable): the page at
/// <c>/meet/{meeting_id}</c>, a landing page at <c>/meet</c> and the static assets under <c>/meet/assets/</c>.
/// The client is plain HTML, CSS and ES modules: no build step, so what is in web/ is what is served.
/// </summary>
public static partial class WebClientEndpoints
{
    /// <summary>Where the assets live: <c>web</c> beside the executable (Parley.csproj copies web/** there).</summary>
    public static string WebRoot { get; } = Path.Combine(AppContext.BaseDirectory, "web");

    /// <summary>
    /// Pages say where the assets are from the root, so the prefix must not collide with a meeting id: a
    /// meeting called "assets" still gets its page (one segment), only deeper paths are assets.
    /// </summary>
    public const string AssetPrefix = "/meet/assets";

    // The pages carry no inline script or style; everything else is same-origin. 'self' covers ws(s):// of
    // the same host in CSP Level 3, but older engines need it spelled out. mediastream:/blob: are the
    // sources of <video> elements showing camera and remote tracks.
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
        "media-src 'self' blob: mediastream:; connect-src 'self' ws: wss:; object-src 'none'; " +
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    private static readonly FileExtensionContentTypeProvider ContentTypes = CreateContentTypes();

    public static IEndpointRouteBuilder MapWebClient(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapMethods("/meet", [HttpMethods.Get, HttpMethods.Head], Landing)
            .WithName("MeetingLandingPage").ExcludeFromDescription();
        endpoints.MapMethods("/meet/{meetingId}", [HttpMethods.Get, HttpMethods.Head], Meeting)
            .WithName("MeetingPage").ExcludeFromDescription();
        endpoints.MapMethods(AssetPrefix + "/{**path}", [HttpMethods.Get, HttpMethods.Head], Asset)
            .WithName("MeetingAssets").ExcludeFromDescription();
        return endpoints;
    }

    internal static IResult Landing(HttpContext context) => Page(context, "index.html");

    internal static IResult Meeting(HttpContext context, string meetingId)
    {
        // The id is only read by the page's script, but a path that cannot be an id is a plain 404.
        return MeetingIdPattern().IsMatch(meetingId) ? Page(context, "meet.html") : NotFoundText("No such meeting page.");
    }

    internal static IResult Asset(HttpContext context, string path)
    {
        var file = Resolve(path);
        if (file is null)
        {
            return NotFoundText("No such file.");
        }

        // Revalidated on every use (ETag/Last-Modified answer 304): an upgraded server never leaves a browser
        // with an old module next to a new one, and there is no build step that could fingerprint names.
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        return TypedResults.PhysicalFile(file.FullName, ContentType(file.Name), lastModified: file.LastWriteTimeUtc, entityTag: ETag(file));
    }

    private static IResult Page(HttpContext context, string name)
    {
        var file = Resolve(name);
        if (file is null)
        {
            return Results.Text(
                $"The web client is not installed: {Path.Combine(WebRoot, name)} is missing. It is copied from web/ by the build of src/Parley.",
                "text/plain; charset=utf-8", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        var headers = context.Response.Headers;
        // The page URL may carry a join token (?token=); it must not be stored by caches or leak via Referer.
        headers.CacheControl = "no-store";
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers["Referrer-Policy"] = "no-referrer";
        headers["Permissions-Policy"] = "camera=(self), microphone=(self), display-capture=(self), autoplay=(self)";
        headers.XFrameOptions = "DENY";
        return TypedResults.PhysicalFile(file.FullName, "text/html; charset=utf-8");
    }

    /// <summary>The file under the web root that a request path names, or null (missing, hidden, outside).</summary>
    internal static FileInfo? Resolve(string relative)
    {
        if (string.IsNullOrEmpty(relative) || relative.Contains('\\', StringComparison.Ordinal) || relative.Contains('\0', StringComparison.Ordinal))
        {
            return null;
        }

        foreach (var segment in relative.Split('/'))
        {
            // No empty, dot or dot-dot segments and no hidden files: the root is the only place served.
            if (segment.Length == 0 || segment.StartsWith('.'))
            {
                return null;
            }
        }

        var root = Path.GetFullPath(WebRoot) + Path.DirectorySeparatorChar;
        var full = Path.GetFullPath(Path.Combine(root, relative));
        if (!full.StartsWith(root, StringComparison.Ordinal))
        {
            return null;
        }

        var file = new FileInfo(full);
        return file.Exists ? file : null;
    }

    private static string ContentType(string fileName) =>
        ContentTypes.TryGetContentType(fileName, out var type) ? type : "application/octet-stream";

    private static EntityTagHeaderValue ETag(FileInfo file) =>
        new($"\"{file.LastWriteTimeUtc.Ticks:x}-{file.Length:x}\"");

    private static FileExtensionContentTypeProvider CreateContentTypes()
    {
        var provider = new FileExtensionContentTypeProvider();
        // RFC 9239: text/javascript is the one type for JavaScript; ES modules refuse anything not a JS type.
        provider.Mappings[".js"] = "text/javascript; charset=utf-8";
        provider.Mappings[".mjs"] = "text/javascript; charset=utf-8";
        provider.Mappings[".css"] = "text/css; charset=utf-8";
        provider.Mappings[".html"] = "text/html; charset=utf-8";
        provider.Mappings[".svg"] = "image/svg+xml";
        provider.Mappings[".webmanifest"] = "application/manifest+json";
        return provider;
    }

    private static IResult NotFoundText(string message) =>
        Results.Text(message, "text/plain; charset=utf-8", statusCode: StatusCodes.Status404NotFound);

    [GeneratedRegex("^[A-Za-z0-9_-]{1,128}$", RegexOptions.CultureInvariant)]
    private static partial Regex MeetingIdPattern();
}
