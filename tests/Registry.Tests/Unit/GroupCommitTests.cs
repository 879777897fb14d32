using System.Collections.Concurrent;
using Berth.Data;

namespace Berth.Registry.Tests.Unit;

/// <summary>Group commit: callers arriving side by side share commits; each returns once its own item is in, or with its commit's failure.</summary>
public sealed class GroupCommitTests
{
    [Fact]
    public async Task Callers_arriving_during_a_commit_share_the_next_and_every_item_is_committed_once()
    {
        var group = new GroupCommit<int>(_ => 1, maxWeight: 50);
        var commits = new ConcurrentBag<IReadOnlyList<int>>();
        async Task Commit(IReadOnlyList<int> items, CancellationToken cancellationToken)
        {
            await Task.Delay(5, cancellationToken);
            commits.Add(items);
        }

        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(() => group.RunAsync(i, Commit, CancellationToken.None))));

        Assert.Equal(Enumerable.Range(0, 200), commits.SelectMany(c => c).Order());
        Assert.True(commits.Count < 200, $"{commits.Count} commits for 200 items: none was shared");
        Assert.All(commits, c => Assert.InRange(c.Count, 1, 50));
    }

    [Fact]
    public async Task A_commit_takes_items_up_to_the_weight_limit_and_a_heavier_item_goes_alone()
    {
        var group = new GroupCommit<int>(weight => weight, maxWeight: 5);
        var commits = new ConcurrentQueue<IReadOnlyList<int>>();
        var release = new TaskCompletionSource();
        async Task Commit(IReadOnlyList<int> items, CancellationToken cancellationToken)
        {
            await release.Task;
            commits.Enqueue(items);
        }

        // The first caller leads and holds its commit open until the rest are waiting behind it.
        var first = group.RunAsync(1, Commit, CancellationToken.None);
        var rest = new[] { 2, 3, 9, 1, 1 }.Select(weight => group.RunAsync(weight, Commit, CancellationToken.None)).ToList();
        release.SetResult();
        await Task.WhenAll(rest.Append(first));

        Assert.Equal([[1], [2, 3], [9], [1, 1]], commits.Select(c => c.ToArray()).ToArray());
    }

    [Fact]
    public async Task A_failed_commit_fails_each_of_its_callers_and_later_callers_still_commit()
    {
        var group = new GroupCommit<string>(_ => 1, maxWeight: 10);
        var committed = new ConcurrentBag<string>();
        var release = new TaskCompletionSource();
        async Task Commit(IReadOnlyList<string> items, CancellationToken cancellationToken)
        {
            await release.Task;
            if (items.Contains("bad")) throw new InvalidOperationException("commit failed");
            foreach (var item in items) committed.Add(item);
        }

        var leader = group.RunAsync("first", Commit, CancellationToken.None);
        var bad = group.RunAsync("bad", Commit, CancellationToken.None);
        var beside = group.RunAsync("beside", Commit, CancellationToken.None);
        release.SetResult();
        await leader;
        Assert.Equal("commit failed", (await Assert.ThrowsAsync<InvalidOperationException>(() => bad)).Message);
        await Assert.ThrowsAsync<InvalidOperationException>(() => beside);

        // The lead was passed on and given back: a caller after the failure commits.
        await group.RunAsync("after", Commit, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["after", "first"], committed.Order());
    }
}
