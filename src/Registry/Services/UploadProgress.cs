using System.Collections.Concurrent;
using System.Security.Cryptography;
using Berth.Oci;

namespace Berth.Registry.Services;

/// <summary>
/// The running sha256 of each upload in progress, so a chunked upload is hashed
/// once, as it arrives, and not read back at the end. After a restart (or when a
/// chunk landed on another instance) the offset no longer matches the staged
/// size and the hash is rebuilt from the staged bytes. Each entry also remembers
/// which repository's session it is once this instance started or confirmed it,
/// so later requests of the upload skip the database look-up.
/// </summary>
public sealed class UploadProgress
{
    private readonly ConcurrentDictionary<Guid, Entry> _entries = new();

    /// <summary>The upload's entry if this instance has one, without making or touching it.</summary>
    public Entry? Find(Guid uploadId) => _entries.TryGetValue(uploadId, out var entry) ? entry : null;

    public Entry Get(Guid uploadId)
    {
        var entry = _entries.GetOrAdd(uploadId, _ => new Entry());
        entry.LastUsed = Environment.TickCount64;
        return entry;
    }

    /// <summary>
    /// Forgets uploads nobody touched for <paramref name="idle"/>, so abandoned uploads
    /// do not hold memory. An entry whose lock is held is never forgotten; the next
    /// request for a forgotten upload re-hashes what is staged. Hashers are left to
    /// the finalizer, since a request may still hold a reference.
    /// </summary>
    public int ForgetIdle(TimeSpan idle)
    {
        var cutoff = Environment.TickCount64 - (long)idle.TotalMilliseconds;
        var forgotten = 0;
        foreach (var (id, entry) in _entries)
        {
            // A held lock means a request is streaming into the upload right now: not idle.
            if (entry.LastUsed < cutoff && entry.Lock.CurrentCount > 0 && _entries.TryRemove(new KeyValuePair<Guid, Entry>(id, entry))) forgotten++;
        }
        return forgotten;
    }

    public int Count => _entries.Count;

    /// <summary>
    /// Takes the upload's lock. If the entry was forgotten or finished while this
    /// request waited, the lock it got guards nothing any more, so it starts over
    /// with the current entry: two requests never append to one upload at once.
    /// </summary>
    public async Task<Lease> AcquireAsync(Guid uploadId, CancellationToken cancellationToken)
    {
        while (true)
        {
            var entry = Get(uploadId);
            await entry.Lock.WaitAsync(cancellationToken);
            if (_entries.TryGetValue(uploadId, out var current) && ReferenceEquals(current, entry)) return new Lease(this, uploadId, entry);
            entry.Lock.Release();
        }
    }

    /// <summary>Holds an upload's lock; after <see cref="Finish"/> the entry is forgotten before the lock is released.</summary>
    public sealed class Lease(UploadProgress owner, Guid uploadId, Entry entry) : IDisposable
    {
        private bool _finished;

        public Entry Entry { get; } = entry;

        /// <summary>The upload is over (committed, refused or cancelled): drop its running hash.</summary>
        public void Finish() => _finished = true;

        public void Dispose()
        {
            Entry.LastUsed = Environment.TickCount64;
            // Forget first, then release: a waiter that wakes sees the entry is gone and starts over.
            if (_finished) owner._entries.TryRemove(new KeyValuePair<Guid, Entry>(uploadId, Entry));
            Entry.Lock.Release();
        }
    }

    public sealed class Entry
    {
        /// <summary>One request at a time per upload: chunks must be appended in order.</summary>
        public SemaphoreSlim Lock { get; } = new(1, 1);
        public IncrementalHash Hasher { get; private set; } = Digest.CreateHasher(Digest.Sha256);
        public long HashedBytes { get; set; }
        public long LastUsed { get; set; } = Environment.TickCount64;

        /// <summary>
        /// The repository whose session this upload is, once this instance started it or
        /// found its row; null until then. It outlives the session only until the staged
        /// bytes go, which the store reports: a session ended by another instance is
        /// unknown here from then on too.
        /// </summary>
        public long? RepositoryId { get; set; }

        public void Reset()
        {
            Hasher.Dispose();
            Hasher = Digest.CreateHasher(Digest.Sha256);
            HashedBytes = 0;
        }
    }
}
