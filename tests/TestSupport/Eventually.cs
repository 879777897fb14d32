using Xunit;

namespace Berth.TestSupport;

/// <summary>Waits, within a bound, for something a background part of Berth does on its own time.</summary>
public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> until it holds; fails with <paramref name="failure"/> once <paramref name="bound"/> has passed.</summary>
    public static async Task TrueAsync(Func<bool> condition, TimeSpan bound, string failure)
    {
        var deadline = DateTime.UtcNow + bound;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail(failure);
            await Task.Delay(20);
        }
    }
}
