using System.Globalization;
using System.Net;
using Parley.Testing;

namespace Parley.Sfu.Client.Tests;

/// <summary>
/// One real `parley serve` (all roles, embedded database in a temp directory, SFU workers on UDP ports in
/// 30000–30400, media on loopback) shared by the tests of the collection.
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public const string ApiKey = "client-tests-static-api-key-0123456789";

    private RunningServer? _server;

    internal RunningServer Server => _server ?? throw new InvalidOperationException("The server did not start.");

    public Uri BaseUrl => new($"http://127.0.0.1:{Server.Port}/");

    public async Task InitializeAsync()
    {
        _server = RunningServer.Start(new Dictionary<string, string?>
        {
            ["STATIC_API_KEY"] = ApiKey,
            ["JWT_SECRET"] = "client-tests-jwt-secret-0123456789abcdef0123456789",
            ["RTC_MIN_PORT"] = 30000.ToString(CultureInfo.InvariantCulture),
            ["RTC_MAX_PORT"] = 30400.ToString(CultureInfo.InvariantCulture),
            ["RTC_WORKERS"] = "1",
            ["ANNOUNCED_IP"] = "127.0.0.1",
            // The load test asks for a guest token per client.
            ["PARLEY_RATE_LIMIT_PER_SECOND"] = "0",
            ["LOG_LEVEL"] = "warn",
        });
        await _server.WaitForStatusAsync("/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(90));
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A joined client of an ad-hoc meeting, with a guest token.</summary>
    public async Task<MeetingClient> JoinAsync(string meetingId, string name)
    {
        using var http = new HttpClient { BaseAddress = BaseUrl };
        var token = await MeetingTokens.GuestAsync(http, meetingId, name);
        var client = new MeetingClient(new MeetingClientOptions { ServerUrl = BaseUrl, Token = token });
        await client.JoinAsync();
        return client;
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "parley serve";
}
