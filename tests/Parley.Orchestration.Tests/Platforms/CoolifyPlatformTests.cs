using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.Core.Configuration;
using Parley.Hosting;
using Parley.Infrastructure.Locks;
using Parley.Orchestration.Platforms;
using Parley.Orchestration.Platforms.Coolify;

namespace Parley.Orchestration.Tests.Platforms;

/// <summary>The Coolify pool against an in-test fake of the Coolify API that checks what it receives.</summary>
public sealed class CoolifyPlatformTests : IAsyncLifetime
{
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly InMemoryDistributedLock _locks = new();
    private FakeCoolify _coolify = null!;

    public async Task InitializeAsync() => _coolify = await FakeCoolify.StartAsync();

    public async Task DisposeAsync() => await _coolify.DisposeAsync();

    private CoolifyPlatform Pool(int limit, int recoveryMs = 300000)
    {
        var options = _coolify.Options(recoveryMs);
        return new CoolifyPlatform(new CoolifyApiClient(options), options, limit, TimeSpan.FromMinutes(5), _locks, _clock, NullLogger<CoolifyPlatform>.Instance);
    }

    private static BotDeploymentRequest Request(string botId) => new(botId, "zoom", new Dictionary<string, string>
    {
        ["BOT_ID"] = botId,
        ["BOT_TOKEN"] = "token-" + botId,
        ["PARLEY_API_URL"] = "http://127.0.0.1:3001",
    });

    private SlotRecord Idle(TimeSpan lastUsedAgo) => new(SlotState.Idle, null, _clock.GetUtcNow() - lastUsedAgo, _clock.GetUtcNow() - lastUsedAgo);

    [Fact]
    public async Task Deploy_takes_the_least_recently_used_idle_slot_and_gives_it_the_bot_environment()
    {
        var recent = _coolify.Seed(Idle(TimeSpan.FromHours(1)));
        var oldest = _coolify.Seed(Idle(TimeSpan.FromHours(3)));
        var middle = _coolify.Seed(Idle(TimeSpan.FromHours(2)));
        using var pool = Pool(limit: 5);

        Assert.Equal(oldest.Uuid, await pool.DeployAsync(Request("bot-1"), CancellationToken.None));
        Assert.Equal(middle.Uuid, await pool.DeployAsync(Request("bot-2"), CancellationToken.None));

        Assert.Equal("bot-1", oldest.Environment["BOT_ID"]);
        Assert.Equal(oldest.Uuid, oldest.Environment["POOL_SLOT_UUID"]);
        Assert.Equal("token-bot-1", oldest.Environment["BOT_TOKEN"]);
        Assert.Equal("http://127.0.0.1:3001", oldest.Environment["PARLEY_API_URL"]);
        Assert.Equal(1, oldest.Starts);
        Assert.Equal(new SlotRecord(SlotState.Busy, "bot-1", _clock.GetUtcNow(), _clock.GetUtcNow()), _coolify.RecordOf(oldest.Uuid));
        Assert.Equal(SlotState.Idle, _coolify.RecordOf(recent.Uuid).State);
        Assert.Equal(0, recent.Starts);
        Assert.Equal(
            [new PlatformResource("bot-1", oldest.Uuid), new PlatformResource("bot-2", middle.Uuid)],
            (await pool.ListAsync(CancellationToken.None)).OrderBy(r => r.BotId));
        Assert.Empty(_coolify.Problems);
    }

    [Fact]
    public async Task Concurrent_deploys_never_share_a_slot_and_one_idle_slot_is_kept_below_the_limit()
    {
        using var pool = Pool(limit: 12);
        var slots = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => Task.Run(() => pool.DeployAsync(Request("bot-" + i), CancellationToken.None))));

        Assert.Equal(10, slots.Distinct().Count());
        var records = _coolify.Applications.Values.Select(a => SlotRecord.Parse(a.Description)!).ToList();
        Assert.Equal(10, records.Count(r => r.State == SlotState.Busy));
        Assert.Equal(10, records.Where(r => r.BotId is not null).Select(r => r.BotId).Distinct().Count());
        Assert.InRange(records.Count, 11, 12);
        Assert.Contains(records, r => r.State == SlotState.Idle);
        Assert.Empty(_coolify.Problems);
    }

    [Fact]
    public async Task A_full_pool_refuses_and_the_chain_falls_through()
    {
        using var pool = Pool(limit: 1);
        var slot = await pool.DeployAsync(Request("bot-1"), CancellationToken.None);
        await Assert.ThrowsAsync<InvalidOperationException>(() => pool.DeployAsync(Request("bot-2"), CancellationToken.None));
        Assert.Single(_coolify.Applications);
        Assert.Equal("bot-1", _coolify.RecordOf(slot).BotId);
    }

    [Fact]
    public async Task A_slot_returns_to_idle_after_cancel_and_is_reused()
    {
        using var pool = Pool(limit: 2);
        var slot = await pool.DeployAsync(Request("bot-1"), CancellationToken.None);
        _clock.Advance(TimeSpan.FromMinutes(30));

        await pool.CancelAsync("bot-1", slot, CancellationToken.None);

        var app = _coolify.Applications[slot];
        Assert.Equal(1, app.Stops);
        Assert.Equal(new SlotRecord(SlotState.Idle, null, _clock.GetUtcNow(), _clock.GetUtcNow()), _coolify.RecordOf(slot));
        Assert.Empty(await pool.ListAsync(CancellationToken.None));

        // A cancel for another bot (a stale reconciliation) leaves a reused slot alone.
        var spare = _coolify.Applications.Keys.Single(k => k != slot);
        Assert.Equal(spare, await pool.DeployAsync(Request("bot-2"), CancellationToken.None));
        Assert.Equal(slot, await pool.DeployAsync(Request("bot-3"), CancellationToken.None));
        await pool.CancelAsync("bot-1", slot, CancellationToken.None);
        Assert.Equal("bot-3", _coolify.RecordOf(slot).BotId);

        // A timed-out deployment is cancelled without an identifier: found by its bot.
        await pool.CancelAsync("bot-3", "", CancellationToken.None);
        Assert.Equal(SlotState.Idle, _coolify.RecordOf(slot).State);
        Assert.Empty(_coolify.Problems);
    }

    [Fact]
    public async Task A_slot_whose_container_exited_is_reported_ended_and_freed()
    {
        using var pool = Pool(limit: 3);
        var ended = new List<PlatformResourceEnded>();
        pool.ResourceEnded += ended.Add;
        var slot = await pool.DeployAsync(Request("bot-1"), CancellationToken.None);
        _coolify.Applications[slot].Status = "exited";

        Assert.Single(await pool.ListAsync(CancellationToken.None));
        _clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Empty(await pool.ListAsync(CancellationToken.None));

        Assert.Equal([new PlatformResourceEnded("coolify", "bot-1", slot, true, "slot container exited")], ended);
        Assert.Equal(SlotState.Idle, _coolify.RecordOf(slot).State);
    }

    [Fact]
    public async Task Error_slots_are_recovered_or_replaced_by_the_recovery_pass()
    {
        var broken = _coolify.Seed(Idle(TimeSpan.FromHours(1)));
        var stuck = _coolify.Seed(new SlotRecord(SlotState.Error, null, _clock.GetUtcNow(), _clock.GetUtcNow(), 1));
        _coolify.FailNextStart[broken.Uuid] = true;
        _coolify.FailStop[stuck.Uuid] = true;
        using var pool = Pool(limit: 4, recoveryMs: 60000);

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => pool.DeployAsync(Request("bot-1"), CancellationToken.None));
        Assert.Equal(SlotState.Error, _coolify.RecordOf(broken.Uuid).State);
        Assert.Equal(2, (await pool.GetAsync(CancellationToken.None)).Error);

        // Not due yet: listing leaves them; once the interval has passed, listing runs the recovery pass.
        await pool.ListAsync(CancellationToken.None);
        Assert.Equal(SlotState.Error, _coolify.RecordOf(broken.Uuid).State);
        _clock.Advance(TimeSpan.FromMinutes(1));
        await pool.ListAsync(CancellationToken.None);

        Assert.Equal(SlotState.Idle, _coolify.RecordOf(broken.Uuid).State);
        Assert.Equal(1, broken.Stops);
        // The slot that cannot even be stopped is deleted and a fresh one takes its place.
        Assert.False(_coolify.Applications.ContainsKey(stuck.Uuid));
        var counts = await pool.GetAsync(CancellationToken.None);
        Assert.Equal(0, counts.Error);
        Assert.Equal(counts.Total, counts.Idle);
        Assert.InRange(counts.Total, 2, 4);

        // The recovered slot takes bots again.
        var used = new List<string>();
        for (var i = 0; i < counts.Total; i++)
        {
            used.Add(await pool.DeployAsync(Request("bot-" + (i + 2)), CancellationToken.None));
        }

        Assert.Contains(broken.Uuid, used);
        Assert.Empty(_coolify.Problems);
    }

    [Fact]
    public async Task Pool_stats_reflect_the_slots()
    {
        _coolify.Seed(Idle(TimeSpan.FromHours(2)));
        _coolify.Seed(Idle(TimeSpan.FromHours(1)));
        _coolify.Seed(new SlotRecord(SlotState.Error, null, _clock.GetUtcNow(), _clock.GetUtcNow()));
        // Another application of the project is not a slot.
        _coolify.Applications["other"] = new FakeApplication("other", "website") { Description = "the marketing site" };
        using var pool = Pool(limit: 10);
        Assert.Equal(new Parley.Core.Bots.PoolSlotCounts(3, 2, 0, 1), await pool.GetAsync(CancellationToken.None));

        await pool.DeployAsync(Request("bot-1"), CancellationToken.None);
        await pool.DeployAsync(Request("bot-2"), CancellationToken.None);

        // Both idle slots taken: a spare was created so one stays idle.
        Assert.Equal(new Parley.Core.Bots.PoolSlotCounts(4, 1, 2, 1), await pool.GetAsync(CancellationToken.None));
    }

    [Fact]
    public void Coolify_is_registered_only_when_listed_with_a_limit_and_then_needs_its_settings()
    {
        var missing = SettingsBinder.Bind(SettingsLoader.OptionTypes, name => name switch
        {
            "PLATFORM_PRIORITY" => "local,coolify",
            "COOLIFY_BOT_LIMIT" => "5",
            _ => null,
        });
        Assert.Contains(missing.Problems, p => p.Variable == "COOLIFY_API_URL");
        Assert.Contains(missing.Problems, p => p.Variable == "COOLIFY_API_TOKEN");

        Assert.False(Registered(new Dictionary<string, string> { ["PLATFORM_PRIORITY"] = "local,coolify" }));
        Assert.False(Registered(new Dictionary<string, string> { ["COOLIFY_BOT_LIMIT"] = "5" }));
        Assert.True(Registered(new Dictionary<string, string>
        {
            ["PLATFORM_PRIORITY"] = "local,coolify",
            ["COOLIFY_BOT_LIMIT"] = "5",
            ["COOLIFY_API_URL"] = _coolify.ApiUrl.ToString(),
            ["COOLIFY_API_TOKEN"] = FakeCoolify.Token,
            ["COOLIFY_PROJECT_UUID"] = FakeCoolify.Project,
            ["COOLIFY_SERVER_UUID"] = FakeCoolify.Server,
        }));
    }

    private static bool Registered(Dictionary<string, string> values)
    {
        var bound = SettingsBinder.Bind(SettingsLoader.OptionTypes, name => values.GetValueOrDefault(name));
        Assert.True(bound.IsValid, string.Join("; ", bound.Problems));
        var services = new ServiceCollection();
        services.AddSingleton(bound.Get<OrchestratorOptions>());
        services.AddParleyCoolifyPlatform();
        services.AddParleyCoolifyPoolStats();
        return services.Any(d => d.ServiceType == typeof(CoolifyPlatform)) && services.Any(d => d.ServiceType == typeof(Parley.Core.Bots.IPoolStatsSource));
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        private DateTimeOffset _now = now;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
