using Parley.Sfu.Routing;

namespace Parley.Sfu.Tests.Routing;

public class BitrateMeterTests
{
    [Fact]
    public void A_steady_stream_reads_its_bitrate()
    {
        var meter = new BitrateMeter();
        for (var t = 0; t < 2000; t++)
        {
            meter.Add(125, t);                                // 125 bytes per ms = 1 Mbit/s
        }

        Assert.Equal(1_000_000, meter.BitsPerSecond(1999));
    }

    [Fact]
    public void The_window_slides_bucket_by_bucket_and_empties_after_the_stream_stops()
    {
        var meter = new BitrateMeter();
        for (var t = 0; t < 1000; t++)
        {
            meter.Add(125, t);
        }

        Assert.Equal(1_000_000, meter.BitsPerSecond(999));
        Assert.Equal(900_000, meter.BitsPerSecond(1000));     // the first 100 ms bucket left the window
        Assert.Equal(500_000, meter.BitsPerSecond(1450));
        Assert.Equal(100_000, meter.BitsPerSecond(1899));     // only 900..999 left
        Assert.Equal(0, meter.BitsPerSecond(1900));
        Assert.Equal(0, meter.BitsPerSecond(60_000));
    }

    [Fact]
    public void The_first_window_reads_low_until_it_is_full()
    {
        var meter = new BitrateMeter();
        for (var t = 0; t < 250; t++)
        {
            meter.Add(125, t);
        }

        Assert.Equal(250_000, meter.BitsPerSecond(249));
    }

    [Fact]
    public void Late_samples_for_a_reused_bucket_and_non_positive_counts_are_ignored()
    {
        var meter = new BitrateMeter();
        meter.Add(1000, 1500);
        meter.Add(1000, 500);                                 // same bucket slot, one window earlier
        meter.Add(-5, 1500);
        meter.Add(0, 1500);
        Assert.Equal(8000, meter.BitsPerSecond(1500));

        meter.Add(1000, 1450);                                // late but still inside the window: counted
        Assert.Equal(16_000, meter.BitsPerSecond(1500));
    }

    [Fact]
    public void A_custom_window_uses_ten_buckets_of_its_tenth()
    {
        var meter = new BitrateMeter(TimeSpan.FromMilliseconds(200));
        Assert.Equal(TimeSpan.FromMilliseconds(200), meter.Window);
        meter.Add(2500, 0);
        Assert.Equal(100_000, meter.BitsPerSecond(199));
        Assert.Equal(0, meter.BitsPerSecond(200));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BitrateMeter(TimeSpan.FromMilliseconds(5)));
    }

    [Fact]
    public void Reset_empties_the_meter()
    {
        var meter = new BitrateMeter();
        meter.Add(1000, 10);
        meter.Reset();
        Assert.Equal(0, meter.BitsPerSecond(10));
    }

    [Fact]
    public void Counting_does_not_allocate()
    {
        var meter = new BitrateMeter();
        meter.Add(1, 0);
        meter.BitsPerSecond(0);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var t = 0; t < 10_000; t++)
        {
            meter.Add(1200, t);
            meter.BitsPerSecond(t);
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }
}
