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
}
