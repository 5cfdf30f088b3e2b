using Parley.Bots.Adapters;
using Parley.Bots.Adapters.Scripted;
using Parley.Core.Configuration;

namespace Parley.Bots.Tests.Adapters;

public sealed class MeetingScriptTests
{
    [Fact]
    public void A_valid_script_parses_into_steps()
    {
        var error = MeetingScript.TryParse("""[{"status":"in_call_recording"},{"join":"A"},{"wait_ms":5},{"end":"removed"}]""", out var steps);
        Assert.Null(error);
        Assert.Equal(4, steps.Count);
        Assert.Equal(new ScriptStep.End(MeetingEnd.Removed), steps[3]);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{}")]
    [InlineData("""[{"status":"completed"}]""")]
    [InlineData("""[{"fail":{"code":"NOT_A_CODE"}}]""")]
    [InlineData("""[{"wait_ms":-1}]""")]
    public void A_bad_script_is_refused_with_a_reason(string script) =>
        Assert.NotNull(MeetingScript.TryParse(script, out _));

    [Fact]
    public void The_scripted_adapter_needs_its_switch_and_a_script()
    {
        Assert.Contains(Validate(new BotOptions { Script = "[]" }), p => p.Variable == "PARLEY_BOT_SCRIPT");
        Assert.Contains(Validate(new BotOptions { TestAdapter = "scripted" }), p => p.Variable == "PARLEY_BOT_SCRIPT");
        Assert.Empty(Validate(new BotOptions { TestAdapter = "scripted", Script = "[]" }));
    }

    [Fact]
    public void Parley_meetings_get_the_native_adapter_the_others_the_unsupported_one_and_tests_can_register_their_own()
    {
        var registry = MeetingAdapterRegistry.CreateDefault(new BotOptions());
        foreach (var platform in MeetingAdapterRegistry.Platforms)
        {
            var adapter = registry.Create(Context(platform));
            if (platform == "parley")
            {
                Assert.IsType<Parley.Bots.Adapters.Native.NativeMeetingAdapter>(adapter);
            }
            else
            {
                Assert.IsType<UnsupportedPlatformAdapter>(adapter);
            }
        }

        var mine = new UnsupportedPlatformAdapter("custom");
        registry.Register("parley", _ => mine);
        Assert.Same(mine, registry.Create(Context("parley")));
    }

    private static MeetingAdapterContext Context(string platform) =>
        new(new BotConfig("b", "n", "u", platform, null, "queued", TimeoutConfig.Default, default), new BotOptions(),
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, TimeProvider.System);

    private static IReadOnlyList<ConfigProblem> Validate(BotOptions options)
    {
        var context = new SettingsValidationContext(_ => null);
        options.Validate(context);
        return context.Problems;
    }
}
