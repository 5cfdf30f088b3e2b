using System.Net;
using Parley.Api.Bots;
using Parley.Api.Http;
using Parley.Core.Configuration;

namespace Parley.Api.Tests.Bots;

public sealed class BotRequestValidatorTests
{
    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("172.16.0.1", true)]
    [InlineData("172.32.0.1", false)]
    [InlineData("192.168.1.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("100.64.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("fd00::1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("8.8.8.8", false)]
    [InlineData("2001:4860:4860::8888", false)]
    public void Private_addresses_are_recognised(string address, bool isPrivate)
    {
        Assert.Equal(isPrivate, BotRequestValidator.IsPrivateAddress(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080/hook")]
    [InlineData("http://localhost/hook")]
    [InlineData("https://metadata.internal/hook")]
    [InlineData("http://[::1]/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    public void Callbacks_to_private_networks_are_refused_unless_allowed(string url)
    {
        var strict = new BotRequestValidator(new FeatureOptions(), new ApiOptions());
        var details = new List<ErrorDetail>();
        Assert.False(strict.CheckTarget(url, "callback_url", details));
        Assert.Contains("WEBHOOK_ALLOW_PRIVATE_NETWORKS", Assert.Single(details).Problem, StringComparison.Ordinal);

        var allowing = new BotRequestValidator(new FeatureOptions(), new ApiOptions { WebhookAllowPrivateNetworks = true });
        Assert.True(allowing.CheckTarget(url, "callback_url", []));
    }

    [Fact]
    public void Bot_images_on_private_networks_are_refused_unless_allowed()
    {
        CreateBotRequest Request(string json) => new()
        {
            BotName = "x",
            MeetingUrl = "https://meet.google.com/abc-defg-hij",
            BotImage = System.Text.Json.JsonDocument.Parse(json).RootElement,
        };

        var strict = new BotRequestValidator(new FeatureOptions(), new ApiOptions());
        var (_, single) = strict.Validate(Request("\"http://169.254.169.254/latest/meta-data\""));
        Assert.Equal("bot_image", Assert.Single(single!.Envelope.Details!).Field);
        var (_, listed) = strict.Validate(Request("""["https://images.example.com/1.png","http://localhost:8080/2.png"]"""));
        Assert.Equal("bot_image[1]", Assert.Single(listed!.Envelope.Details!).Field);
        Assert.Contains("WEBHOOK_ALLOW_PRIVATE_NETWORKS", listed.Envelope.Details![0].Problem, StringComparison.Ordinal);
        var (publicBot, none) = strict.Validate(Request("\"https://images.example.com/1.png\""));
        Assert.Null(none);
        Assert.NotNull(publicBot);

        var allowing = new BotRequestValidator(new FeatureOptions(), new ApiOptions { WebhookAllowPrivateNetworks = true });
        Assert.Null(allowing.Validate(Request("\"http://127.0.0.1:8080/bot.png\"")).Error);
    }

    [Fact]
    public void A_public_callback_is_accepted_and_the_validated_bot_carries_it()
    {
        var validator = new BotRequestValidator(new FeatureOptions(), new ApiOptions());
        var (bot, error) = validator.Validate(new CreateBotRequest
        {
            BotName = "x",
            MeetingUrl = "https://meet.google.com/abc-defg-hij",
            CallbackConfig = new CallbackConfig { Url = "https://hooks.example.com/parley", Method = "put", Secret = "s" },
        });

        Assert.Null(error);
        Assert.Equal(new CallbackTarget("https://hooks.example.com/parley", "s", "PUT"), bot!.Callback);
    }
}
