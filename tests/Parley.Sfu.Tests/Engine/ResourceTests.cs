using Parley.Sfu.Rooms;

namespace Parley.Sfu.Tests.Engine;

/// <summary>Joining and leaving many times must not leak sockets, routes, rooms or memory.</summary>
public sealed class ResourceTests : IDisposable
{
    private readonly EngineFixture _fixture = new();

    [Fact]
    public async Task A_thousand_join_and_leave_cycles_leave_no_growth()
    {
        var worker = _fixture.Engine.Workers[0];
        // A resident participant keeps the room alive and receives (and loses) a consumer every cycle.
        var (resident, residentSink) = await _fixture.JoinAsync("churn", "resident");

        await CyclesAsync(20, withMedia: true); // warm-up: JIT, pools, first-use allocations
        var handlesBefore = OpenHandles();
        var memoryBefore = ManagedMemory();

        await CyclesAsync(950, withMedia: false);
        await CyclesAsync(50, withMedia: true);

        // Routes of closed transports are removed (the resident has no transport of its own).
        Assert.Equal(0, worker.Socket.Router.UfragCount);
        Assert.Equal(0, worker.Socket.Router.AddressCount);
        EngineFixture.Under(resident, () =>
        {
            Assert.Equal(1, resident.Room.ParticipantCount);
            Assert.Empty(resident.ConsumersBySsrc);
            Assert.True(resident.Slots.Count <= 2, $"subscribe sections are reused, not grown ({resident.Slots.Count})");
        });
        Assert.Equal(1, worker.ParticipantCount);
        Assert.Equal(0, worker.HandlerErrors);
        Assert.Equal(0, worker.TickErrors);

        var handleGrowth = OpenHandles() - handlesBefore;
        Assert.True(handleGrowth <= 10, $"file descriptors grew by {handleGrowth} over 1,000 cycles");
        var memoryGrowth = ManagedMemory() - memoryBefore;
        Assert.True(memoryGrowth < 16 * 1024 * 1024, $"managed memory grew by {memoryGrowth / 1024} KiB over 1,000 cycles");
        Assert.True(residentSink.Count<ParticipantLeftMessage>() >= 1000);

        async Task CyclesAsync(int count, bool withMedia)
        {
            for (var i = 0; i < count; i++)
            {
                var (guest, guestSink) = await _fixture.JoinAsync("churn", "guest");
                using var publisher = new NativePublisher();
                var offer = publisher.Offer(audio: false, video: true);
                EngineFixture.Under(guest, () => guest.Room.Publish(guest, 1, offer, NativePublisher.Tracks(audio: false)));
                if (withMedia)
                {
                    var answer = await guestSink.WaitAsync<PublishAnswerMessage>();
                    await publisher.AcceptAsync(answer.Sdp);
                    publisher.SendVideo(0, keyframe: true);
                }

                EngineFixture.Under(guest, () => guest.Room.Leave(guest, "left"));
            }
        }
    }

    private static int OpenHandles() => Directory.GetFiles("/proc/self/fd").Length;

    private static long ManagedMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    public void Dispose() => _fixture.Dispose();
}
