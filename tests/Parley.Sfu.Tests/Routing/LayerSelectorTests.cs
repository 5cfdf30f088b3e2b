using Parley.Sfu.Routing;

namespace Parley.Sfu.Tests.Routing;

public class LayerSelectorTests
{
    // Typical Chrome simulcast for 720p: 150 kbit/s, 500 kbit/s, 1.5 Mbit/s.
    private static readonly long[] ThreeLayers = [150_000, 500_000, 1_500_000];

    [Fact]
    public void An_unknown_estimate_gets_the_preferred_layer()
    {
        Assert.Equal(2, LayerSelector.Choose(ThreeLayers, 2, null, -1));
        Assert.Equal(1, LayerSelector.Choose(ThreeLayers, 1, null, 2));
        Assert.Equal(2, LayerSelector.Choose(ThreeLayers, 9, null, 0));   // preference above the top layer
    }

    [Fact]
    public void No_active_layer_gives_minus_one()
    {
        Assert.Equal(-1, LayerSelector.Choose([0, 0, 0], 2, 10_000_000, 1));
        Assert.Equal(-1, LayerSelector.Choose([], 2, null, -1));
    }

    [Fact]
    public void Inactive_layers_are_skipped()
    {
        Assert.Equal(1, LayerSelector.Choose([150_000, 500_000, 0], 2, null, 2));          // top layer paused by the sender
        Assert.Equal(0, LayerSelector.Choose([150_000, 0, 1_500_000], 1, 10_000_000, -1));
    }

    [Fact]
    public void An_upgrade_needs_15_percent_headroom()
    {
        Assert.Equal(1, LayerSelector.Choose(ThreeLayers, 2, 1_500_000, 1));               // fits exactly: not enough to move up
        Assert.Equal(1, LayerSelector.Choose(ThreeLayers, 2, 1_724_999, 1));
        Assert.Equal(2, LayerSelector.Choose(ThreeLayers, 2, 1_725_000, 1));
        Assert.Equal(2, LayerSelector.Choose(ThreeLayers, 2, 1_725_000, -1));              // first choice is an upgrade too
        Assert.Equal(1, LayerSelector.Choose(ThreeLayers, 2, 600_000, -1));
    }

    [Fact]
    public void The_current_layer_is_kept_while_it_still_fits()
    {
        Assert.Equal(2, LayerSelector.Choose(ThreeLayers, 2, 1_500_000, 2));
        Assert.Equal(1, LayerSelector.Choose(ThreeLayers, 2, 1_499_999, 2));               // no longer fits: down one
        Assert.Equal(0, LayerSelector.Choose(ThreeLayers, 2, 499_999, 2));                 // down two
    }

    [Fact]
    public void When_nothing_fits_the_lowest_active_layer_is_kept()
    {
        Assert.Equal(0, LayerSelector.Choose(ThreeLayers, 2, 50_000, 2));
        Assert.Equal(1, LayerSelector.Choose([0, 500_000, 1_500_000], 2, 50_000, 2));
        Assert.Equal(0, LayerSelector.Choose(ThreeLayers, 2, -1, 0));
    }

    [Fact]
    public void The_preference_caps_the_layer_even_with_plenty_of_bandwidth()
    {
        Assert.Equal(0, LayerSelector.Choose(ThreeLayers, 0, 100_000_000, 2));
        Assert.Equal(1, LayerSelector.Choose(ThreeLayers, 1, 100_000_000, 2));
        // A preference below every active layer still gets a picture: the lowest active one.
        Assert.Equal(1, LayerSelector.Choose([0, 500_000, 1_500_000], 0, 100_000_000, -1));
        Assert.Equal(0, LayerSelector.Choose(ThreeLayers, -1, null, -1));
    }
}
