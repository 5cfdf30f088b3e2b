using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Parley.Bots.Tests.Recording;

namespace Parley.Bots.Tests.Camera;

/// <summary>
/// A local web server for bot_image tests on 127.0.0.1 (a free port): serves the files it was given by name, 404
/// for anything else. Also makes the test pictures with Debian's ffmpeg (fails, never skips, without it).
/// </summary>
internal sealed class ImageServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ImageServer(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    /// <summary>How many requests came in, by path.</summary>
    public Dictionary<string, int> Requests { get; } = new(StringComparer.Ordinal);

    public Uri Url(string name) => new(BaseUrl, name);

    public static async Task<ImageServer> StartAsync(IReadOnlyDictionary<string, (byte[] Body, string ContentType)> files)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        ImageServer? server = null;
        app.MapGet("/{name}", (string name) =>
        {
            lock (server!.Requests)
            {
                server.Requests[name] = server.Requests.GetValueOrDefault(name) + 1;
            }

            return files.TryGetValue(name, out var file) ? Results.Bytes(file.Body, file.ContentType) : Results.NotFound();
        });
        await app.StartAsync();
        server = new ImageServer(app, new Uri(app.Urls.First() + "/"));
        return server;
    }

    /// <summary>A one-frame PNG of a plain colour (lavfi color source).</summary>
    public static byte[] SolidPng(string color, int width, int height)
    {
        var path = Path.Combine(Path.GetTempPath(), $"parley-bot-image-{Guid.NewGuid():N}.png");
        try
        {
            var (_, error, code) = Media.Run("ffmpeg", $"-v error -y -f lavfi -i color={color}:s={width}x{height} -frames:v 1 \"{path}\"");
            Assert.True(code == 0, error);
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
