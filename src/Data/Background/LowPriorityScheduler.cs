using System.Collections.Concurrent;

namespace Berth.Data.Background;

/// <summary>
/// Runs work that may wait on dedicated threads the operating system runs only when
/// a core has nothing better to do (see <see cref="ThreadPriorities"/>): recording
/// pulls and shipping the audit log take the CPU time serving leaves, so pulls are
/// served first. The work costs as much CPU as ever; it just yields to serving.
/// An awaiting method started here resumes here (its continuations are queued to
/// this scheduler), except after awaits that leave it with ConfigureAwait(false).
/// Work that must not fall behind (a backlog near its bound) hops to the thread pool
/// (<see cref="AtNormalPriorityIf(bool, Func{Task})"/>): raising a lowered priority
/// back needs a privilege a service rarely has.
/// </summary>
public sealed class LowPriorityScheduler : TaskScheduler, IDisposable
{
    [ThreadStatic] private static LowPriorityScheduler? _runningOn;

    private readonly BlockingCollection<Task> _queue = [];
    private readonly Thread[] _threads;

    public LowPriorityScheduler(string name, int threadCount = 2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threadCount, 1);
        _threads = [.. Enumerable.Range(0, threadCount).Select(i => new Thread(Run) { Name = $"{name} {i + 1}", IsBackground = true })];
        foreach (var thread in _threads) thread.Start();
    }

    /// <summary>Whether the threads run at a lowered priority (false where the platform offers no way to lower one).</summary>
    public bool Lowered { get; private set; }

    public override int MaximumConcurrencyLevel => _threads.Length;

    /// <summary>Whether the calling thread is one of a <see cref="LowPriorityScheduler"/>'s.</summary>
    public static bool OnLowPriorityThread => _runningOn is not null;

    /// <summary>Starts <paramref name="work"/> on this scheduler's threads; its continuations stay on them.</summary>
    public Task RunAsync(Func<Task> work, CancellationToken cancellationToken = default) =>
        Task.Factory.StartNew(work, cancellationToken, TaskCreationOptions.DenyChildAttach, this).Unwrap();

    /// <inheritdoc cref="RunAsync(Func{Task}, CancellationToken)"/>
    public Task<T> RunAsync<T>(Func<Task<T>> work, CancellationToken cancellationToken = default) =>
        Task.Factory.StartNew(work, cancellationToken, TaskCreationOptions.DenyChildAttach, this).Unwrap();

    /// <summary>
    /// Runs <paramref name="work"/> on the thread pool, at normal priority, when <paramref name="normalPriority"/>;
    /// otherwise starts it on the calling thread (on a scheduler's thread, it stays at that thread's priority).
    /// </summary>
    public static Task<T> AtNormalPriorityIf<T>(bool normalPriority, Func<Task<T>> work) =>
        normalPriority ? Task.Run(work, CancellationToken.None) : work();

    /// <inheritdoc cref="AtNormalPriorityIf{T}(bool, Func{Task{T}})"/>
    public static Task AtNormalPriorityIf(bool normalPriority, Func<Task> work) =>
        normalPriority ? Task.Run(work, CancellationToken.None) : work();

    protected override void QueueTask(Task task) => _queue.Add(task);

    /// <summary>Only on its own threads: work waited on from elsewhere must not run at that thread's priority.</summary>
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
        _runningOn == this && TryExecuteTask(task);

    protected override IEnumerable<Task> GetScheduledTasks() => _queue.ToArray();

    public void Dispose() => _queue.CompleteAdding();

    private void Run()
    {
        _runningOn = this;
        Lowered = ThreadPriorities.LowerCurrentThread();
        foreach (var task in _queue.GetConsumingEnumerable()) TryExecuteTask(task);
    }
}
