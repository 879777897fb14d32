using System.Runtime.InteropServices;

namespace Berth.Data.Background;

/// <summary>
/// Lowers the calling thread's scheduling priority. .NET's <see cref="Thread.Priority"/>
/// has no effect on Linux, where each thread is scheduled on its own. There the thread
/// joins SCHED_IDLE: it runs only on a core no other thread wants, and a thread that
/// wakes takes the core back at once (a nice value alone only shrinks its share, and a
/// waking request then waits out the wake-up granularity behind it). Should the
/// policy be refused, the thread gets the largest nice value instead. Lowering needs
/// no privilege.
/// </summary>
internal static class ThreadPriorities
{
    private const int SchedIdle = 5;              // SCHED_IDLE
    private const int PriorityOfProcess = 0;      // PRIO_PROCESS: given a thread id, that one thread
    private const int LargestNiceness = 19;

    public static bool LowerCurrentThread()
    {
        if (OperatingSystem.IsLinux())
        {
            var noStaticPriority = 0;
            // Thread id 0 is the calling thread for both calls.
            return sched_setscheduler(0, SchedIdle, ref noStaticPriority) == 0
                || setpriority(PriorityOfProcess, 0, LargestNiceness) == 0;
        }
        if (!OperatingSystem.IsWindows()) return false;
        Thread.CurrentThread.Priority = ThreadPriority.Lowest;
        return true;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int sched_setscheduler(int pid, int policy, ref int param);

    [DllImport("libc", SetLastError = true)]
    private static extern int setpriority(int which, int who, int prio);
}
