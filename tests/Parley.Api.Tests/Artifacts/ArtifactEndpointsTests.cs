using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.Api.Artifacts;
using Parley.Core.Storage;
using Parley.Infrastructure.Storage;
using Parley.Testing;

namespace Parley.Api.Tests.Artifacts;

/// <summary>The signed download endpoint on a real Kestrel listening on 127.0.0.1.</summary>
public sealed class ArtifactEndpointsTests : IAsyncLifetime
{
    private static readonly byte[] Video = Enumerable.Range(0, 10_000).Select(i => (byte)(i % 251)).ToArray();

    private readonly TempDirectory _data = new();
    private readonly HttpClient _http = new();
    private LocalArtifactStore _store = null!;
    private LocalUrlSigner _signer = null!;
    private WebApplication _app = null!;
    private Uri _base = null!;

    public async Task InitializeAsync()
    {
        _signer = new LocalUrlSigner(ArtifactSigningKey.Resolve(null, _data.Path), new Uri("http://parley.invalid"));
        _store = new LocalArtifactStore(_data.Path, _signer, NullLogger<LocalArtifactStore>.Instance);
        await _store.PutAsync(StorageBucket.Artifacts, "bots/b1/video.mp4", new MemoryStream(Video), "video/mp4", default);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IArtifactStore>(_store);
        _app = builder.Build();
        _app.MapParleyArtifacts();
        _app.Urls.Add("http://127.0.0.1:0");
        await _app.StartAsync();
        _base = new Uri(_app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        _http.Dispose();
        _data.Dispose();
    }

    [Fact]
    public async Task A_signed_link_downloads_the_file_with_its_content_type_and_no_api_key()
    {
        using var response = await _http.GetAsync(Link(StorageBucket.Artifacts, "bots/b1/video.mp4"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("video/mp4", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Video.Length, response.Content.Headers.ContentLength);
        Assert.Equal(Video, await response.Content.ReadAsByteArrayAsync());
        Assert.Contains("bytes", response.Headers.AcceptRanges);
    }

    [Fact]
    public async Task A_range_request_gets_206_and_just_those_bytes()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Link(StorageBucket.Artifacts, "bots/b1/video.mp4"));
        request.Headers.Range = new RangeHeaderValue(100, 199);

        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal($"bytes 100-199/{Video.Length}", response.Content.Headers.ContentRange?.ToString());
        Assert.Equal(Video[100..200], await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Keys_with_spaces_and_accents_round_trip_through_the_link()
    {
        await _store.PutAsync(StorageBucket.Logs, "bots/b 1/journal é.log", new MemoryStream([7, 8, 9]), "text/plain", default);

        using var response = await _http.GetAsync(Link(StorageBucket.Logs, "bots/b 1/journal é.log"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([7, 8, 9], await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("signature")]
    [InlineData("expires")]
    [InlineData("key")]
    [InlineData("bucket")]
    [InlineData("missing")]
    public async Task A_tampered_link_is_403_invalid_signature(string part)
    {
        var link = Link(StorageBucket.Artifacts, "bots/b1/video.mp4");
        var query = HttpUtility.ParseQueryString(link.Query);
        var path = link.AbsolutePath;
        switch (part)
        {
            case "signature":
                query["signature"] = new string('0', 64);
                break;
            case "expires":
                query["expires"] = (long.Parse(query["expires"]!, CultureInfo.InvariantCulture) + 3600).ToString(CultureInfo.InvariantCulture);
                break;
            case "key":
                path = path.Replace("b1", "b2", StringComparison.Ordinal);
                break;
            case "bucket":
                path = path.Replace("/artifacts/bots", "/logs/bots", StringComparison.Ordinal);
                break;
            case "missing":
                query.Remove("signature");
                break;
        }

        using var response = await _http.GetAsync(new Uri(_base, $"{path}?{query}"));

        await AssertErrorAsync(response, HttpStatusCode.Forbidden, "INVALID_SIGNATURE");
    }

    [Fact]
    public async Task An_expired_link_is_410_link_expired()
    {
        var expires = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds();
        var signature = _signer.Sign("artifacts", "bots/b1/video.mp4", expires);

        using var response = await _http.GetAsync(new Uri(_base, $"/v2/artifacts/artifacts/bots/b1/video.mp4?expires={expires}&signature={signature}"));

        await AssertErrorAsync(response, HttpStatusCode.Gone, "LINK_EXPIRED");
    }

    [Fact]
    public async Task A_validly_signed_link_to_a_deleted_file_is_404()
    {
        var link = Link(StorageBucket.Artifacts, "bots/b1/video.mp4");
        await _store.DeletePrefixAsync(StorageBucket.Artifacts, "bots/b1/", default);

        using var response = await _http.GetAsync(link);

        await AssertErrorAsync(response, HttpStatusCode.NotFound, "NOT_FOUND");
    }

    [Fact]
    public async Task A_signature_for_an_escaping_path_still_cannot_read_outside_the_bucket()
    {
        await File.WriteAllTextAsync(Path.Combine(_data.Path, "api-key"), "secret");
        var expires = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        // Even a correctly signed traversal (the key leaked) is refused by the key rules.
        var signature = _signer.Sign("artifacts", "../api-key", expires);

        using var response = await _http.GetAsync(new Uri(_base, $"/v2/artifacts/artifacts/%2E%2E%2Fapi-key?expires={expires}&signature={signature}"));

        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("secret", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private Uri Link(StorageBucket bucket, string key)
    {
        var signed = _store.GetDownloadUrl(bucket, key, TimeSpan.FromHours(4));
        return new Uri(_base, signed.PathAndQuery);
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = body.RootElement;
        Assert.False(root.GetProperty("success").GetBoolean());
        Assert.Equal(code, root.GetProperty("code").GetString());
        Assert.Equal((int)status, root.GetProperty("statusCode").GetInt32());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("error").GetString()));
        Assert.False(string.IsNullOrEmpty(root.GetProperty("message").GetString()));
    }
}
