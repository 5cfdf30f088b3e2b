using Parley.Sfu.Routing;

namespace Parley.Sfu.Tests.Routing;

public class KeyframeRequestLimiterTests
{
    [Fact]
    public void The_default_interval_is_500_ms()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(500), new KeyframeRequestLimiter().MinInterval);
    }

    [Fact]
    public void Requests_are_let_through_at_most_once_per_interval()
    {
        var limiter = new KeyframeRequestLimiter();
        Assert.True(limiter.ShouldRequest(1000));
        Assert.True(limiter.Pending);
        Assert.False(limiter.ShouldRequest(1000));
        Assert.False(limiter.ShouldRequest(1499));
        Assert.True(limiter.ShouldRequest(1500));             // the keyframe (or the request) was lost: repeat
        Assert.False(limiter.ShouldRequest(1999));
        Assert.True(limiter.ShouldRequest(2000));
    }

    [Fact]
    public void A_keyframe_lets_the_next_request_through_at_once()
    {
        var limiter = new KeyframeRequestLimiter(TimeSpan.FromSeconds(1));
        Assert.True(limiter.ShouldRequest(0));
        limiter.OnKeyframe(120);
        Assert.False(limiter.Pending);
        Assert.Equal(120, limiter.LastKeyframeMilliseconds);
        Assert.True(limiter.ShouldRequest(130));              // a new subscriber needs one now
        Assert.False(limiter.ShouldRequest(140));
    }

    [Fact]
    public void A_keyframe_before_any_request_changes_nothing()
    {
        var limiter = new KeyframeRequestLimiter();
        Assert.Null(limiter.LastKeyframeMilliseconds);
        limiter.OnKeyframe(5);
        Assert.True(limiter.ShouldRequest(6));
        Assert.False(limiter.ShouldRequest(7));
    }

    [Fact]
    public void A_zero_interval_never_throttles()
    {
        var limiter = new KeyframeRequestLimiter(TimeSpan.Zero);
        Assert.True(limiter.ShouldRequest(0));
        Assert.True(limiter.ShouldRequest(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KeyframeRequestLimiter(TimeSpan.FromMilliseconds(-1)));
    }

    [Fact]
    public void Fir_sequence_numbers_increase_by_one_modulo_256()
    {
        var limiter = new KeyframeRequestLimiter();
        for (var i = 0; i < 256; i++)
        {
            Assert.Equal((byte)i, limiter.NextFirSequence());
        }

        Assert.Equal(0, limiter.NextFirSequence());
        Assert.Equal(1, limiter.NextFirSequence());
    }
}
