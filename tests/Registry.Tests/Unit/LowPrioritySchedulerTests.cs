using Berth.Data.Background;

namespace Berth.Registry.Tests.Unit;

public sealed class LowPrioritySchedulerTests : IDisposable
{
    private readonly LowPriorityScheduler _scheduler = new("scheduler test");

    [Fact]
    public async Task Work_runs_on_its_threads_at_idle_priority_and_returns_there_after_each_await()
    {
        var seen = new List<(bool OnScheduler, int? Policy)>();
        await _scheduler.RunAsync(async () =>
        {
            seen.Add(Here());
            await Task.Delay(10);
            seen.Add(Here());
            await Task.Yield();
            seen.Add(Here());
        });

        Assert.Equal(3, seen.Count);
        Assert.All(seen, s => Assert.True(s.OnScheduler));
        Assert.False(LowPriorityScheduler.OnLowPriorityThread);
        if (!OperatingSystem.IsLinux()) return;
        Assert.True(_scheduler.Lowered);
        Assert.All(seen, s => Assert.Equal(SchedIdle, s.Policy));
    }

    [Fact]
    public async Task Task_Run_inside_hands_the_work_to_a_thread_at_normal_priority()
    {
        var outside = Here();

        var inside = await _scheduler.RunAsync(() => Task.Run(Here));

        Assert.False(inside.OnScheduler);
        Assert.Equal(outside.Policy, inside.Policy);
        if (OperatingSystem.IsLinux()) Assert.NotEqual(SchedIdle, inside.Policy);
    }

    [Fact]
    public void Work_waited_on_from_another_thread_still_runs_on_the_schedulers_threads()
    {
        // Waiting tries to run a queued task inline on the waiting thread: not at its priority.
        var task = Task.Factory.StartNew(() => LowPriorityScheduler.OnLowPriorityThread, CancellationToken.None, TaskCreationOptions.None, _scheduler);
#pragma warning disable xUnit1031 // a blocking wait is what this test is about
        task.Wait();

        Assert.True(task.Result);
#pragma warning restore xUnit1031
    }

    [Fact]
    public async Task A_failure_reaches_the_caller()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => _scheduler.RunAsync(async () =>
        {
            await Task.Yield();
            throw new InvalidOperationException("the write failed");
        }));

        Assert.Equal("the write failed", error.Message);
    }

    [Fact]
    public void A_thread_count_below_one_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new LowPriorityScheduler("none", threadCount: 0));

    public void Dispose() => _scheduler.Dispose();

    private const int SchedIdle = 5;

    private static (bool OnScheduler, int? Policy) Here() => (LowPriorityScheduler.OnLowPriorityThread, PolicyOfThisThread());

    /// <summary>The calling thread's scheduling policy, from /proc (field 41 of its stat line); null off Linux.</summary>
    private static int? PolicyOfThisThread()
    {
        if (!OperatingSystem.IsLinux()) return null;
        var stat = File.ReadAllText("/proc/thread-self/stat");
        // The command name may hold spaces and parentheses: fields are counted from the third, after its closing one.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[41 - 3], System.Globalization.CultureInfo.InvariantCulture);
    }
}
