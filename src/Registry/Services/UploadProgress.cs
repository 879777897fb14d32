using System.Collections.Concurrent;
using System.Security.Cryptography;
using Berth.Oci;

namespace Berth.Registry.Services;

/// <summary>
/// The running sha256 of each upload in progress, so a chunked upload is hashed
/// once, as it arrives, and not read back at the end. After a restart (or when a
/// chunk landed on another instance) the offset no longer matches the staged
/// size and the hash is rebuilt from the staged bytes.
/// </summary>
public sealed class UploadProgress
{
    private readonly ConcurrentDictionary<Guid, Entry> _entries = new();

    public Entry Get(Guid uploadId)
    {
        var entry = _entries.GetOrAdd(uploadId, _ => new Entry());
        entry.LastUsed = Environment.TickCount64;
        return entry;
    }

    /// <summary>
    /// Forgets uploads nobody touched for <paramref name="idle"/>, so abandoned uploads
    /// do not hold memory. Safe at any time: a request still holding a forgotten entry
    /// finishes with it, and the next one finds no entry and re-hashes what is staged.
    /// Hashers are left to the finalizer rather than disposed under such a request.
    /// </summary>
    public int ForgetIdle(TimeSpan idle)
    {
        var cutoff = Environment.TickCount64 - (long)idle.TotalMilliseconds;
        var forgotten = 0;
        foreach (var (id, entry) in _entries)
        {
            if (entry.LastUsed < cutoff && _entries.TryRemove(new KeyValuePair<Guid, Entry>(id, entry))) forgotten++;
        }
        return forgotten;
    }

    public int Count => _entries.Count;

    public void Remove(Guid uploadId)
    {
        if (_entries.TryRemove(uploadId, out var entry)) entry.Hasher.Dispose();
    }

    public sealed class Entry
    {
        /// <summary>One request at a time per upload: chunks must be appended in order.</summary>
        public SemaphoreSlim Lock { get; } = new(1, 1);
        public IncrementalHash Hasher { get; private set; } = Digest.CreateHasher(Digest.Sha256);
        public long HashedBytes { get; set; }
        public long LastUsed { get; set; } = Environment.TickCount64;

        public void Reset()
        {
            Hasher.Dispose();
            Hasher = Digest.CreateHasher(Digest.Sha256);
            HashedBytes = 0;
        }
    }
}
