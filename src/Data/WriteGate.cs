namespace Berth.Data;

/// <summary>
/// Serializes write transactions where the database allows only one writer.
/// SQLite would otherwise answer a second writer with "database is locked"
/// when a read transaction upgrades; waiting here is cheaper than retrying.
/// PostgreSQL takes row locks and unique constraints instead, so it passes through.
/// </summary>
public sealed class WriteGate(bool serialize)
{
    private readonly SemaphoreSlim? _semaphore = serialize ? new SemaphoreSlim(1, 1) : null;

    public async ValueTask<Releaser> EnterAsync(CancellationToken cancellationToken)
    {
        if (_semaphore is null) return default;
        await _semaphore.WaitAsync(cancellationToken);
        return new Releaser(_semaphore);
    }

    public readonly struct Releaser(SemaphoreSlim? semaphore) : IDisposable
    {
        public void Dispose() => semaphore?.Release();
    }
}
