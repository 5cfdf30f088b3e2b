using System.Text.RegularExpressions;

namespace Parley.Core.Bots;

/// <summary>The meeting platforms of API.md (`meeting_platform`).</summary>
public static class MeetingPlatform
{
    public const string Parley = "parley";
    public const string Meet = "meet";
    public const string Teams = "teams";
    public const string Zoom = "zoom";

    public static readonly IReadOnlyList<string> All = [Parley, Meet, Teams, Zoom];
}

/// <summary>
/// A meeting URL recognised as one of the supported platforms, with a normalised form used to find
/// duplicate bots (`allow_multiple_bots=false`): the same meeting reached through different spellings of
/// its URL (case, trailing slash, tracking parameters) normalises to the same string.
/// </summary>
public sealed partial record MeetingUrl(string Original, string Platform, string Normalized)
{
    public static bool TryParse(string? value, out MeetingUrl meetingUrl)
    {
        meetingUrl = null!;
        if (string.IsNullOrWhiteSpace(value) || value.Length > 2048
            || !Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri)
            || uri.Scheme is not ("https" or "http") || string.IsNullOrEmpty(uri.Host))
        {
            return false;
        }

        var host = uri.Host.ToLowerInvariant();
        var path = uri.AbsolutePath.TrimEnd('/');

        if (host == "meet.google.com")
        {
            var code = MeetCode().Match(path);
            if (!code.Success)
            {
                return false;
            }

            meetingUrl = new MeetingUrl(value.Trim(), MeetingPlatform.Meet, $"https://meet.google.com/{code.Groups[1].Value.ToLowerInvariant()}");
            return true;
        }

        if (host is "teams.microsoft.com" or "teams.live.com" or "teams.microsoft.us" || host.EndsWith(".teams.microsoft.com", StringComparison.Ordinal))
        {
            if (path.Length <= 1)
            {
                return false;
            }

            // Teams links carry the meeting identity in the path (meetup-join/<thread>/<id>) plus a context
            // query that names tenant and organiser; both identify the meeting, so both are kept.
            var query = uri.Query.Length > 0 ? uri.Query : "";
            meetingUrl = new MeetingUrl(value.Trim(), MeetingPlatform.Teams, $"https://{host}{Uri.UnescapeDataString(path).ToLowerInvariant()}{query}");
            return true;
        }

        if (host == "zoom.us" || host.EndsWith(".zoom.us", StringComparison.Ordinal) || host == "zoomgov.com" || host.EndsWith(".zoomgov.com", StringComparison.Ordinal))
        {
            var id = ZoomId().Match(path);
            if (!id.Success)
            {
                return false;
            }

            // The meeting number identifies the meeting; the vanity subdomain and the pwd do not change which.
            meetingUrl = new MeetingUrl(value.Trim(), MeetingPlatform.Zoom, $"zoom:{id.Groups[1].Value}");
            return true;
        }

        var parley = ParleyPath().Match(path);
        if (parley.Success)
        {
            var port = uri.IsDefaultPort ? "" : $":{uri.Port}";
            meetingUrl = new MeetingUrl(value.Trim(), MeetingPlatform.Parley, $"{uri.Scheme}://{host}{port}/meet/{parley.Groups[1].Value}");
            return true;
        }

        return false;
    }

    [GeneratedRegex(@"^/([a-z]{3}-[a-z]{4}-[a-z]{3})$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex MeetCode();

    [GeneratedRegex(@"^/(?:j|w|wc|wc/join|s|my)/(\d{9,11})(?:/.*)?$", RegexOptions.CultureInvariant)]
    private static partial Regex ZoomId();

    [GeneratedRegex(@"^/meet/([A-Za-z0-9_-]{1,64})$", RegexOptions.CultureInvariant)]
    private static partial Regex ParleyPath();
}
