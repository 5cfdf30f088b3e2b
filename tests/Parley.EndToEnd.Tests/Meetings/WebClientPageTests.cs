using System.Net;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Parley.EndToEnd.Tests.Meetings;

/// <summary>How the api role serves the web client, and the pre-join screen in Chromium (no meeting needed).</summary>
[Collection(MeetingCollection.Name)]
public sealed class WebClientPageTests(MeetingEnvironment environment, ITestOutputHelper output)
{
    [Fact]
    public async Task The_meeting_page_is_served_uncached_with_its_assets_under_the_right_content_types()
    {
        var http = environment.Server.Http;
        using var page = await http.GetAsync("/meet/abc_DEF-123");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no-store", page.Headers.CacheControl?.ToString() ?? "", StringComparison.Ordinal);
        Assert.Contains("data-testid=\"join-button\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        foreach (var (path, type) in new[]
        {
            ("/meet/assets/js/main.js", "text/javascript"),
            ("/meet/assets/js/signaling.js", "text/javascript"),
            ("/meet/assets/meet.css", "text/css"),
            ("/meet/assets/favicon.svg", "image/svg+xml"),
        })
        {
            using var asset = await http.GetAsync(path);
            Assert.True(asset.StatusCode == HttpStatusCode.OK, $"GET {path} answered {(int)asset.StatusCode}");
            Assert.Equal(type, asset.Content.Headers.ContentType?.MediaType);
        }

        using var landing = await http.GetAsync("/meet");
        Assert.Equal(HttpStatusCode.OK, landing.StatusCode);
        Assert.Contains("data-testid=\"landing\"", await landing.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Nothing outside web/ is reachable, and nonsense ids are not pages.
        foreach (var path in new[] { "/meet/assets/../parley.dll", "/meet/assets/%2e%2e/parley.dll", "/meet/assets/js/nope.js", "/meet/a%20b" })
        {
            using var response = await http.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"GET {path} answered {(int)response.StatusCode}, expected 404");
        }
    }

    [Fact]
    public async Task The_pre_join_screen_lists_devices_shows_the_preview_and_asks_for_a_name()
    {
        await using var scene = new MeetingScene(environment, output);
        var guest = await scene.OpenAsync("Nameless", "/meet/prejoin-check");
        await scene.StepAsync("camera and microphone selectors list the fake devices and the preview plays", async () =>
        {
            await Expect(guest.Page.GetByTestId("camera-select").Locator("option")).Not.ToHaveCountAsync(0);
            await Expect(guest.Page.GetByTestId("microphone-select").Locator("option")).Not.ToHaveCountAsync(0);
            await Expect(guest.Page.GetByTestId("camera-select")).ToBeEnabledAsync();
            await guest.Page.WaitForFunctionAsync("() => document.querySelector('[data-testid=preview-video]').videoWidth > 0", null, new() { Timeout = 20_000 });
        });

        await scene.StepAsync("joining without a name asks for one and stays on the pre-join screen", async () =>
        {
            await guest.Page.GetByTestId("name-input").FillAsync("   ");
            await guest.Page.GetByTestId("join-button").ClickAsync();
            await Expect(guest.Page.GetByTestId("prejoin-error")).ToBeVisibleAsync();
            await Expect(guest.Page.GetByTestId("prejoin")).ToBeVisibleAsync();
        });

        await scene.StepAsync("turning the camera off on the pre-join screen hides the preview", async () =>
        {
            await guest.Page.GetByTestId("prejoin-camera-toggle").ClickAsync();
            await Expect(guest.Page.GetByTestId("preview-video")).ToBeHiddenAsync();
            await guest.Page.GetByTestId("prejoin-camera-toggle").ClickAsync();
            await Expect(guest.Page.GetByTestId("preview-video")).ToBeVisibleAsync();
        });
    }

    [Fact]
    public async Task The_pre_join_screen_fits_a_phone()
    {
        await using var scene = new MeetingScene(environment, output);
        var guest = await scene.OpenAsync("Phone", "/meet/phone-check", phone: true);
        await scene.StepAsync("no horizontal overflow and the join button can be reached", async () =>
        {
            Assert.True(await guest.Page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"),
                "The pre-join screen scrolls sideways on a 390 px wide screen.");
            await guest.Page.GetByTestId("join-button").ScrollIntoViewIfNeededAsync();
            await Expect(guest.Page.GetByTestId("join-button")).ToBeInViewportAsync();
        });
    }
}
