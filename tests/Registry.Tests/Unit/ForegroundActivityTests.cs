using Berth.Registry.Collection;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Registry.Tests.Unit;

public sealed class ForegroundActivityTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void A_registry_nobody_has_used_is_idle()
    {
        Assert.False(new ForegroundActivity(_time).IsBusy);
    }

    [Fact]
    public void A_request_in_progress_makes_it_busy_however_long_it_takes()
    {
        var activity = new ForegroundActivity(_time);
        using (activity.Begin())
        {
            _time.Advance(TimeSpan.FromMinutes(5));
            Assert.True(activity.IsBusy);
        }
    }

    [Fact]
    public void It_stays_busy_for_a_moment_after_the_last_request_then_turns_idle()
    {
        var activity = new ForegroundActivity(_time);
        using (activity.Begin()) { }
        _time.Advance(ForegroundActivity.QuietAfter - TimeSpan.FromMilliseconds(1));
        Assert.True(activity.IsBusy);
        _time.Advance(TimeSpan.FromMilliseconds(2));
        Assert.False(activity.IsBusy);
    }

    [Fact]
    public void Overlapping_requests_keep_it_busy_until_the_last_one_ends()
    {
        var activity = new ForegroundActivity(_time);
        var first = activity.Begin();
        var second = activity.Begin();
        first.Dispose();
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(activity.IsBusy);
        second.Dispose();
        _time.Advance(ForegroundActivity.QuietAfter + TimeSpan.FromMilliseconds(1));
        Assert.False(activity.IsBusy);
    }

    [Fact]
    public void Requests_on_many_threads_balance_out()
    {
        var activity = new ForegroundActivity(_time);
        Parallel.For(0, 10_000, _ => { using var request = activity.Begin(); });
        _time.Advance(ForegroundActivity.QuietAfter + TimeSpan.FromMilliseconds(1));
        Assert.False(activity.IsBusy);
    }
}
