using Berth.Registry.Services;

namespace Berth.Registry.Tests.Unit;

/// <summary>Running hashes of abandoned uploads are forgotten; live ones are kept.</summary>
public sealed class UploadProgressTests
{
    [Fact]
    public void Idle_entries_are_forgotten_and_recent_ones_kept()
    {
        var progress = new UploadProgress();
        var idle = Guid.NewGuid();
        var busy = Guid.NewGuid();
        progress.Get(idle).LastUsed = Environment.TickCount64 - (long)TimeSpan.FromHours(1).TotalMilliseconds;
        progress.Get(busy);

        Assert.Equal(1, progress.ForgetIdle(TimeSpan.FromMinutes(15)));
        Assert.Equal(1, progress.Count);

        // A forgotten upload starts over with an empty hash: the next chunk re-hashes what is staged.
        Assert.Equal(0, progress.Get(idle).HashedBytes);
        Assert.Equal(2, progress.Count);
    }

    [Fact]
    public void Getting_an_entry_marks_it_used()
    {
        var progress = new UploadProgress();
        var id = Guid.NewGuid();
        progress.Get(id).LastUsed = 0;
        progress.Get(id);
        Assert.Equal(0, progress.ForgetIdle(TimeSpan.FromMinutes(15)));
    }

    [Fact]
    public async Task A_waiter_for_a_finished_upload_gets_a_fresh_entry_not_the_spent_one()
    {
        var progress = new UploadProgress();
        var id = Guid.NewGuid();
        var first = await progress.AcquireAsync(id, CancellationToken.None);
        first.Entry.HashedBytes = 42;
        var waiter = progress.AcquireAsync(id, CancellationToken.None);
        Assert.False(waiter.IsCompleted);

        first.Finish();
        first.Dispose();
        using var second = await waiter;
        Assert.NotSame(first.Entry, second.Entry);
        Assert.Equal(0, second.Entry.HashedBytes);
    }

    [Fact]
    public async Task An_entry_whose_lock_is_held_is_never_forgotten_as_idle()
    {
        var progress = new UploadProgress();
        var id = Guid.NewGuid();
        using var lease = await progress.AcquireAsync(id, CancellationToken.None);
        lease.Entry.LastUsed = 0;
        Assert.Equal(0, progress.ForgetIdle(TimeSpan.FromMinutes(15)));
    }
}
