using Berth.Contracts.Registry;
using Berth.Data.Outbox;
using Berth.Registry.Data;
using Berth.Oci;
using Berth.Registry.Storage;
using Microsoft.EntityFrameworkCore;

namespace Berth.Registry.Services;

/// <summary>
/// Blob uploads: sessions, chunks, and the final verified commit. Bytes are
/// hashed while they stream to a staged file; only a blob whose digest matches
/// what the client claimed is moved to its content address and recorded.
/// </summary>
public sealed class UploadService(RegistryDb registryDb, IBlobStore store, BlobService blobs, UploadProgress progress, RegistryMetrics metrics, EventActors actors,
    RepositoryDirectory repositories, QuotaCheck quota, UploadSessionRecorder sessions)
{
    /// <summary>Starts a session: its staged file now, its row a moment later unless it ends first (<see cref="UploadSessionRecorder"/>).</summary>
    public async Task<Guid> StartAsync(long repositoryId, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid();
        await store.CreateUploadAsync(id, cancellationToken);
        progress.Get(id).RepositoryId = repositoryId;
        sessions.Started(new UploadSessionRow { Id = id, RepositoryId = repositoryId, StartedAt = registryDb.Now() });
        return id;
    }

    /// <summary>Bytes received so far; BLOB_UPLOAD_UNKNOWN when the session is not this repository's.</summary>
    public async Task<long> GetSizeAsync(long repositoryId, Guid uploadId, CancellationToken cancellationToken)
    {
        await EnsureSessionAsync(repositoryId, uploadId, cancellationToken);
        return await store.GetUploadSizeAsync(uploadId, cancellationToken) ?? throw UnknownUpload(uploadId);
    }

    /// <summary>Appends one chunk. A chunk that does not start where the upload ends is refused with 416.</summary>
    public async Task<long> AppendAsync(long repositoryId, Guid uploadId, Stream body, ContentRange? range, long? contentLength, CancellationToken cancellationToken)
    {
        await EnsureSessionAsync(repositoryId, uploadId, cancellationToken);
        using var lease = await progress.AcquireAsync(uploadId, cancellationToken);
        return await AppendLockedAsync(uploadId, lease.Entry, body, range, contentLength, cancellationToken);
    }

    private async Task<long> AppendLockedAsync(Guid uploadId, UploadProgress.Entry entry, Stream body, ContentRange? range, long? contentLength, CancellationToken cancellationToken)
    {
        var size = await store.GetUploadSizeAsync(uploadId, cancellationToken) ?? throw UnknownUpload(uploadId);
        long? limit = contentLength;
        if (range is { } r)
        {
            if (r.Start != size)
            {
                var error = ErrorCode.BlobUploadInvalid.With(
                    $"chunk starts at {r.Start} but the upload has {size} bytes; send the chunk that starts at {size}",
                    new { received = size }, Microsoft.AspNetCore.Http.StatusCodes.Status416RangeNotSatisfiable);
                error.Headers["Range"] = RangeHeader(size);
                throw error;
            }
            if (contentLength is { } declared && declared != r.Length)
                throw ErrorCode.SizeInvalid.With($"Content-Range covers {r.Length} bytes but Content-Length is {declared}", null, Microsoft.AspNetCore.Http.StatusCodes.Status416RangeNotSatisfiable);
            limit = r.Length;
        }
        if (entry.HashedBytes != size) await RehashAsync(uploadId, entry, cancellationToken);
        try
        {
            var newSize = await store.AppendUploadAsync(uploadId, body, entry.Hasher, limit, cancellationToken, expectedStart: entry.HashedBytes);
            entry.HashedBytes = newSize;
            return newSize;
        }
        catch
        {
            // Part of the chunk may be on disk; the next request re-hashes from what is staged.
            entry.HashedBytes = -1;
            throw;
        }
    }

    private async Task RehashAsync(Guid uploadId, UploadProgress.Entry entry, CancellationToken cancellationToken)
    {
        entry.Reset();
        entry.HashedBytes = await HashStagedAsync(uploadId, entry.Hasher, cancellationToken);
    }

    private async Task<long> HashStagedAsync(Guid uploadId, System.Security.Cryptography.IncrementalHash hasher, CancellationToken cancellationToken)
    {
        await using var staged = await store.OpenUploadAsync(uploadId, cancellationToken);
        var buffer = new byte[1 << 20];
        long total = 0;
        int read;
        while ((read = await staged.ReadAsync(buffer, cancellationToken)) > 0)
        {
            hasher.AppendData(buffer, 0, read);
            total += read;
        }
        return total;
    }

    /// <summary>Appends the last chunk (if any), verifies the digest and commits the blob.</summary>
    public async Task<long> FinishAsync(long repositoryId, Guid uploadId, Digest digest, Stream body, long? contentLength, CancellationToken cancellationToken)
    {
        await EnsureSessionAsync(repositoryId, uploadId, cancellationToken);
        using var lease = await progress.AcquireAsync(uploadId, cancellationToken);
        // Whatever happens now, the running hash is spent: a retry re-reads what is staged.
        lease.Finish();
        var size = await AppendLockedAsync(uploadId, lease.Entry, body, null, contentLength, cancellationToken);
        var actual = await ComputeDigestAsync(uploadId, lease.Entry, digest.Algorithm, size, cancellationToken);
        await CompleteAsync(repositoryId, uploadId, hasSession: true, digest, actual, size, cancellationToken);
        return size;
    }

    /// <summary>The digest of the staged bytes: from the running hash when it covers them all, else by reading them back.</summary>
    private async Task<Digest> ComputeDigestAsync(Guid uploadId, UploadProgress.Entry entry, string algorithm, long size, CancellationToken cancellationToken)
    {
        if (algorithm == Digest.Sha256 && entry.HashedBytes == size)
            return Digest.FromHash(algorithm, entry.Hasher.GetHashAndReset());
        using var hasher = Digest.CreateHasher(algorithm);
        await HashStagedAsync(uploadId, hasher, cancellationToken);
        return Digest.FromHash(algorithm, hasher.GetHashAndReset());
    }

    /// <summary>A whole blob in one request (POST ?digest=): no session row, one pass over the bytes.</summary>
    public async Task<long> UploadWholeAsync(long repositoryId, Digest digest, Stream body, long? contentLength, CancellationToken cancellationToken)
    {
        var uploadId = Guid.NewGuid();
        await store.CreateUploadAsync(uploadId, cancellationToken);
        try
        {
            using var hasher = digest.CreateHasher();
            var size = await store.AppendUploadAsync(uploadId, body, hasher, contentLength, cancellationToken);
            if (contentLength is { } declared && declared != size)
                throw ErrorCode.SizeInvalid.With($"received {size} bytes but Content-Length was {declared}");
            var actual = Digest.FromHash(digest.Algorithm, hasher.GetHashAndReset());
            await CompleteAsync(repositoryId, uploadId, hasSession: false, digest, actual, size, cancellationToken);
            return size;
        }
        catch
        {
            await store.DeleteUploadAsync(uploadId, CancellationToken.None);
            throw;
        }
    }

    /// <summary>
    /// Keeps the staged upload as the blob if its digest is the one claimed, else discards it.
    /// <paramref name="hasSession"/>: a chunked upload's session row ends with it (a whole-blob POST has none).
    /// </summary>
    private async Task CompleteAsync(long repositoryId, Guid uploadId, bool hasSession, Digest expected, Digest actual, long size, CancellationToken cancellationToken)
    {
        if (expected != actual)
        {
            await DiscardAsync(uploadId, hasSession);
            metrics.DigestMismatch();
            await PublishFailureAsync(repositoryId, expected, actual, size);
            throw ErrorCode.DigestInvalid.With($"uploaded content has digest {actual}, not {expected}; nothing was stored",
                new { expected = expected.ToString(), actual = actual.ToString() });
        }
        QuotaCharge? charged;
        try
        {
            charged = await quota.RequireRoomAsync(await repositories.NameOfAsync(repositoryId, cancellationToken), expected.ToString(), size, cancellationToken);
        }
        catch (RegistryException)
        {
            // Refused: the bytes go, and the client learns why from the error.
            await DiscardAsync(uploadId, hasSession);
            throw;
        }
        await store.SealUploadAsync(uploadId, cancellationToken);
        // Once the digest is verified the blob is kept, even if the client hangs up now.
        // The session ends in the same transaction as the blob is recorded (if it has a row yet).
        var rowless = hasSession ? await sessions.EndingAsync(uploadId) : null;
        try
        {
            await blobs.CommitUploadAsync(repositoryId, uploadId, expected, size, endsSession: hasSession, CancellationToken.None);
        }
        catch
        {
            sessions.Restore(rowless);
            throw;
        }
        await quota.StoredAsync(charged, size);
        metrics.BlobUploaded(size);
    }

    /// <summary>The failure is worth an event (a client or proxy corrupting data shows up in the audit log); it changes nothing else.</summary>
    private async Task PublishFailureAsync(long repositoryId, Digest expected, Digest actual, long size)
    {
        var actor = actors.Current();
        var repository = await repositories.NameOfAsync(repositoryId, CancellationToken.None);
        await registryDb.SaveAsync(db => db.Publish(new UploadFailed(repository, expected.ToString(), actual.ToString(), size) { Actor = actor }), CancellationToken.None);
    }

    private async Task DiscardAsync(Guid uploadId, bool hasSession)
    {
        if (hasSession) await sessions.EndingAsync(uploadId);
        await store.DeleteUploadAsync(uploadId, CancellationToken.None);
        if (hasSession)
            await registryDb.WriteAsync(db => db.UploadSessions.Where(u => u.Id == uploadId).ExecuteDeleteAsync(CancellationToken.None), CancellationToken.None);
    }

    public async Task CancelAsync(long repositoryId, Guid uploadId, CancellationToken cancellationToken)
    {
        await EnsureSessionAsync(repositoryId, uploadId, cancellationToken);
        using var lease = await progress.AcquireAsync(uploadId, cancellationToken);
        lease.Finish();
        // Staged bytes that are gone mean the upload ended already (perhaps through another instance).
        var staged = await store.GetUploadSizeAsync(uploadId, cancellationToken) is not null;
        await DiscardAsync(uploadId, hasSession: true);
        if (!staged) throw UnknownUpload(uploadId);
    }

    /// <summary>
    /// BLOB_UPLOAD_UNKNOWN unless the upload is a session of this repository. A session
    /// this instance started or already found needs no database look-up (the Gateway
    /// keeps an upload's requests on the instance that started it); whether it is still
    /// in progress is then the store's to say, since a session ends with its staged bytes.
    /// A session another instance started in the last moment may not have its row yet
    /// (<see cref="UploadSessionRecorder"/>): while its staged file was written to less than
    /// <see cref="UploadSessionRecorder.LongestWait"/> ago, the row is waited for, at most that long.
    /// </summary>
    private async Task EnsureSessionAsync(long repositoryId, Guid uploadId, CancellationToken cancellationToken)
    {
        if (progress.Find(uploadId)?.RepositoryId is { } known)
        {
            if (known == repositoryId) return;
            throw UnknownUpload(uploadId); // this instance knows the session: another repository's
        }
        var giveUpAt = Environment.TickCount64 + (long)UploadSessionRecorder.LongestWait.TotalMilliseconds;
        long? owner;
        while ((owner = await SessionRepositoryAsync(uploadId, cancellationToken)) is null)
        {
            var stagedAt = await store.GetUploadModifiedAtAsync(uploadId, cancellationToken);
            var rowMayStillCome = stagedAt is { } written && DateTime.UtcNow - written < UploadSessionRecorder.LongestWait;
            if (!rowMayStillCome || Environment.TickCount64 >= giveUpAt) throw UnknownUpload(uploadId);
            await Task.Delay(RowPollInterval, cancellationToken);
        }
        if (owner != repositoryId) throw UnknownUpload(uploadId);
        progress.Get(uploadId).RepositoryId = repositoryId;
    }

    private static readonly TimeSpan RowPollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>The repository of the upload's session row, or null when it has none.</summary>
    private async Task<long?> SessionRepositoryAsync(Guid uploadId, CancellationToken cancellationToken)
    {
        await using var db = registryDb.Open();
        return await db.UploadSessions.AsNoTracking().Where(u => u.Id == uploadId).Select(u => (long?)u.RepositoryId).FirstOrDefaultAsync(cancellationToken);
    }

    private static RegistryException UnknownUpload(Guid uploadId) =>
        ErrorCode.BlobUploadUnknown.With($"upload {uploadId:N} is not in progress", new { uuid = uploadId.ToString("N") });

    /// <summary>The Range header of an upload: the inclusive range received so far ("0-0" when empty, as distribution sends).</summary>
    public static string RangeHeader(long size) => $"0-{Math.Max(0, size - 1)}";
}
