using System.Diagnostics;

namespace Berth.Registry.Collection;

/// <summary>
/// Keeps a collection to its share of the machine: after each step it rests in
/// proportion to how long the step took, longer while clients are using the
/// registry (<see cref="ForegroundActivity"/>). Steps are small (a batch, a chunk of
/// planning), so clients never wait long behind one.
/// </summary>
public sealed class Pacer(ForegroundActivity activity, double idleDutyCycle, double busyDutyCycle)
{
    private long _stepStarted = Stopwatch.GetTimestamp();

    /// <summary>Rests for the share of time that is not the collection's, then times the next step.</summary>
    public async Task RestAsync(CancellationToken cancellationToken)
    {
        var worked = Stopwatch.GetElapsedTime(_stepStarted);
        // Asked after the step: a client that arrived while it ran is served before the next one.
        var duty = activity.IsBusy ? busyDutyCycle : idleDutyCycle;
        if (duty is > 0 and < 1) await Task.Delay(worked * ((1 - duty) / duty), cancellationToken);
        _stepStarted = Stopwatch.GetTimestamp();
    }
}
