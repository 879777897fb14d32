using System.Security.Cryptography;
using Berth.Oci;

namespace Berth.Registry.Storage;

/// <summary>
/// Where blob bytes live. Content-addressed: one copy per digest, whatever
/// repositories link it. Uploads are staged under their session id and become
/// visible only when <see cref="CommitUploadAsync"/> moves them into place
/// after their digest was verified. The filesystem driver is the embedded
/// default; an S3-compatible driver implements the same contract (staging as a
/// multipart upload, commit as complete-and-copy).
/// </summary>
public interface IBlobStore
{
    /// <summary>Size of a committed blob, or null when the store does not hold it.</summary>
    ValueTask<long?> StatAsync(Digest digest, CancellationToken cancellationToken);

    /// <summary>Opens a committed blob for reading; null when absent.</summary>
    ValueTask<BlobReader?> OpenReadAsync(Digest digest, CancellationToken cancellationToken);

    /// <summary>Removes a committed blob; no error when it is already gone.</summary>
    ValueTask DeleteAsync(Digest digest, CancellationToken cancellationToken);

    /// <summary>Every committed blob, for finding files that lost their row after a crash.</summary>
    IAsyncEnumerable<StoredItem<Digest>> ListAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Moves a committed blob out of its content address into the trash, where
    /// nothing serves it; false when it was not there. Garbage collection trashes a
    /// blob inside the transaction that deletes its row, so the address is empty
    /// exactly when the row is gone, and a failed commit can put the blob back.
    /// </summary>
    ValueTask<bool> TrashAsync(Digest digest, CancellationToken cancellationToken);

    /// <summary>Puts a trashed blob back at its address (or drops it when the address holds the blob again).</summary>
    ValueTask RestoreAsync(Digest digest, CancellationToken cancellationToken);

    /// <summary>Deletes a trashed blob for good; no error when it is already gone.</summary>
    ValueTask PurgeAsync(Digest digest, CancellationToken cancellationToken);

    /// <summary>What is in the trash: blobs a collection trashed before it crashed.</summary>
    IAsyncEnumerable<Digest> ListTrashAsync(CancellationToken cancellationToken);

    /// <summary>Every staged upload, for removing those abandoned by their clients.</summary>
    IAsyncEnumerable<StoredItem<Guid>> ListUploadsAsync(CancellationToken cancellationToken);

    ValueTask CreateUploadAsync(Guid uploadId, CancellationToken cancellationToken);

    /// <summary>Bytes received so far, or null when the upload does not exist.</summary>
    ValueTask<long?> GetUploadSizeAsync(Guid uploadId, CancellationToken cancellationToken);

    /// <summary>When the staged upload was created or last written (UTC), or null when it does not exist.</summary>
    ValueTask<DateTime?> GetUploadModifiedAtAsync(Guid uploadId, CancellationToken cancellationToken);

    /// <summary>
    /// Appends <paramref name="source"/> to the staged upload, feeding every byte to
    /// <paramref name="hasher"/> as it is written. Returns the new size.
    /// <paramref name="maxBytes"/> caps what may arrive in this call (the declared length);
    /// <paramref name="expectedStart"/>, when given, is the size the caller's running hash
    /// covers, and an upload of any other size is refused untouched (BLOB_UPLOAD_INVALID, 409).
    /// One request at a time holds an upload, across processes too; another is refused the same way.
    /// </summary>
    ValueTask<long> AppendUploadAsync(Guid uploadId, Stream source, IncrementalHash? hasher, long? maxBytes, CancellationToken cancellationToken, long? expectedStart = null);

    /// <summary>Reads the staged bytes back (to re-hash after a restart or for another algorithm).</summary>
    ValueTask<Stream> OpenUploadAsync(Guid uploadId, CancellationToken cancellationToken);

    /// <summary>Makes the staged bytes durable, so that the commit that follows (under a lock) is only a rename.</summary>
    ValueTask SealUploadAsync(Guid uploadId, CancellationToken cancellationToken);

    /// <summary>
    /// Durably moves the staged upload to its content address. Idempotent when the blob
    /// already exists. Refused (BLOB_UPLOAD_INVALID, 409) unless the upload holds exactly
    /// <paramref name="size"/> bytes, the ones whose digest was verified, and while another
    /// request holds it; once it has moved, no append that began before can reach it.
    /// </summary>
    ValueTask CommitUploadAsync(Guid uploadId, Digest digest, long size, CancellationToken cancellationToken);

    ValueTask DeleteUploadAsync(Guid uploadId, CancellationToken cancellationToken);
}

/// <summary>Something the store holds, its size and when it was last written.</summary>
public readonly record struct StoredItem<TKey>(TKey Key, long Length, DateTime ModifiedAt);

/// <summary>An open blob: a stream, and the local path when there is one so the server can send the file directly.</summary>
public sealed class BlobReader(Stream? stream, string? localPath, long length) : IAsyncDisposable
{
    public Stream? Stream { get; } = stream;
    public string? LocalPath { get; } = localPath;
    public long Length { get; } = length;

    public ValueTask DisposeAsync() => Stream?.DisposeAsync() ?? ValueTask.CompletedTask;
}
