using System.Collections.Concurrent;
using System.Security.Cryptography;
using Berth.Registry.Oci;

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

    public Entry Get(Guid uploadId) => _entries.GetOrAdd(uploadId, _ => new Entry());

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

        public void Reset()
        {
            Hasher.Dispose();
            Hasher = Digest.CreateHasher(Digest.Sha256);
            HashedBytes = 0;
        }
    }
}
