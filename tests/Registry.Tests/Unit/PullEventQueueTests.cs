using System.Diagnostics.Metrics;
using Berth.Contracts;
using Berth.Contracts.Registry;
using Berth.Registry.Services;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Registry.Tests.Unit;

/// <summary>
/// The in-memory queue between manifest GETs and the pull event writer: bounded (a pull
/// that does not fit is dropped and counted, never blocks), first in first out, nothing
/// lost or doubled when many threads record while the reader takes, and a waiting reader
/// wakes for the first pull and for its own cancellation.
/// </summary>
public sealed class PullEventQueueTests : IDisposable
{
    private const string DroppedCounter = "berth.registry.pull_events.dropped";
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly CounterTotal _dropped;
    private readonly PullEventQueue _queue;

    public PullEventQueueTests()
    {
        var meters = _services.GetRequiredService<IMeterFactory>();
        _dropped = new CounterTotal(meters, DroppedCounter);
        _queue = new PullEventQueue(new RegistryMetrics(meters));
    }

    [Fact]
    public void A_full_queue_drops_and_counts_the_pulls_that_do_not_fit_and_keeps_the_rest_in_order()
    {
        for (var i = 0; i < PullEventQueue.Capacity + 10; i++) _queue.Record(NewPull(i));

        Assert.Equal(PullEventQueue.Capacity, _queue.Count);
        Assert.Equal(10, _dropped.Total);
        for (var i = 0; i < PullEventQueue.Capacity; i++)
        {
            Assert.True(_queue.TryTake(out var pulled));
            Assert.Equal($"t{i}", pulled.Tag);
        }
        Assert.False(_queue.TryTake(out _));
        Assert.Equal(0, _queue.Count);

        // Taking made room again.
        _queue.Record(NewPull(-1));
        Assert.Equal(1, _queue.Count);
        Assert.Equal(10, _dropped.Total);
    }

    [Fact]
    public async Task Pulls_recorded_by_many_threads_while_the_reader_takes_arrive_once_each()
    {
        const int threads = 4, each = 50_000;
        var taken = new List<ManifestPulled>();
        // Bounds the test should the reader stop waking: it then fails rather than hangs.
        using var done = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var reader = Task.Run(async () =>
        {
            while (taken.Count < threads * each)
            {
                await _queue.WaitForPullsAsync(done.Token);
                while (_queue.TryTake(out var pulled)) taken.Add(pulled);
            }
        });

        await Task.WhenAll(Enumerable.Range(0, threads).Select(thread => Task.Run(() =>
        {
            for (var i = 0; i < each; i++)
            {
                // Paced below the capacity: this is about losing nothing, not about dropping.
                while (_queue.Count > PullEventQueue.Capacity / 2 && !done.IsCancellationRequested) Thread.Yield();
                _queue.Record(NewPull(thread * each + i));
            }
        })));
        await reader;

        Assert.Equal(0, _dropped.Total);
        Assert.Equal(0, _queue.Count);
        var tags = taken.Select(p => p.Tag).ToList();
        Assert.Equal(threads * each, tags.Distinct().Count());
        // Each thread's pulls come out in the order that thread recorded them.
        foreach (var thread in Enumerable.Range(0, threads))
        {
            var own = taken.Select(p => int.Parse(p.Tag![1..])).Where(n => n / each == thread).ToList();
            Assert.Equal(own.Order(), own);
        }
    }

    [Fact]
    public async Task A_waiting_reader_wakes_for_the_first_pull()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var waiting = _queue.WaitForPullsAsync(timeout.Token);
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted, "the reader stopped waiting with nothing queued");

        _queue.Record(NewPull(0));

        await waiting;
        Assert.True(_queue.TryTake(out var pulled));
        Assert.Equal("t0", pulled.Tag);

        // Emptied again, it waits again: the first wake-up does not leave it awake.
        var again = _queue.WaitForPullsAsync(timeout.Token);
        await Task.Delay(100);
        Assert.False(again.IsCompleted, "the reader stopped waiting for a pull it had already taken");
        _queue.Record(NewPull(1));
        await again;
    }

    [Fact]
    public async Task A_reader_does_not_wait_while_pulls_are_queued_and_stops_waiting_when_cancelled()
    {
        _queue.Record(NewPull(0));
        await _queue.WaitForPullsAsync(new CancellationToken(canceled: true)).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(_queue.TryTake(out _));
        using var cancel = new CancellationTokenSource();
        var waiting = _queue.WaitForPullsAsync(cancel.Token);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    public void Dispose()
    {
        _dropped.Dispose();
        _services.Dispose();
    }

    private static ManifestPulled NewPull(int i) =>
        new("pulls/app", "sha256:" + new string('a', 64), "application/vnd.oci.image.manifest.v1+json", $"t{i}") { Actor = EventActor.System };
}
