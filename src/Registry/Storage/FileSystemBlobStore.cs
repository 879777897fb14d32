using System.Buffers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Berth.Oci;

namespace Berth.Registry.Storage;

/// <summary>
/// Blobs as files: <c>blobs/sha256/ab/abcdef…</c> for committed content and
/// <c>uploads/&lt;id&gt;</c> for staged uploads on the same filesystem, so a
/// commit is an fsync and an atomic rename. A crash leaves either the staged
/// file or the complete blob, never a partial blob at its address.
/// </summary>
public sealed class FileSystemBlobStore : IBlobStore
{
    private const int CopyBufferSize = 1 << 20;
    private readonly string _blobRoot;
    private readonly string _uploadRoot;
    private readonly string _trashRoot;

    public FileSystemBlobStore(string rootDirectory)
    {
        _blobRoot = Path.Combine(rootDirectory, "blobs");
        _uploadRoot = Path.Combine(rootDirectory, "uploads");
        _trashRoot = Path.Combine(rootDirectory, "trash");
        Directory.CreateDirectory(_blobRoot);
        Directory.CreateDirectory(_uploadRoot);
        Directory.CreateDirectory(_trashRoot);
    }

    /// <summary>The file a committed blob lives in. Safe: a parsed digest is only [a-z0-9:].</summary>
    public string BlobPath(Digest digest) => Path.Combine(_blobRoot, digest.Algorithm, digest.Hex[..2], digest.Hex);

    private string UploadPath(Guid uploadId) => Path.Combine(_uploadRoot, uploadId.ToString("N"));

    private string TrashPath(Digest digest) => Path.Combine(_trashRoot, $"{digest.Algorithm}-{digest.Hex}");

    public ValueTask<long?> StatAsync(Digest digest, CancellationToken cancellationToken)
    {
        var info = new FileInfo(BlobPath(digest));
        return ValueTask.FromResult(info.Exists ? info.Length : (long?)null);
    }

    public ValueTask<DateTime?> GetUploadModifiedAtAsync(Guid uploadId, CancellationToken cancellationToken)
    {
        var info = new FileInfo(UploadPath(uploadId));
        return ValueTask.FromResult(info.Exists ? info.LastWriteTimeUtc : (DateTime?)null);
    }

    public ValueTask<BlobReader?> OpenReadAsync(Digest digest, CancellationToken cancellationToken)
    {
        var path = BlobPath(digest);
        var info = new FileInfo(path);
        return ValueTask.FromResult(info.Exists ? new BlobReader(null, path, info.Length) : null);
    }

    public ValueTask DeleteAsync(Digest digest, CancellationToken cancellationToken)
    {
        try
        {
            File.Delete(BlobPath(digest));
        }
        catch (DirectoryNotFoundException)
        {
            // No fan-out directory means no blob: already gone, which the contract says is not an error.
        }
        return ValueTask.CompletedTask;
    }

    public async IAsyncEnumerable<StoredItem<Digest>> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var algorithmDirectory in Directory.EnumerateDirectories(_blobRoot))
        {
            var algorithm = Path.GetFileName(algorithmDirectory);
            foreach (var file in new DirectoryInfo(algorithmDirectory).EnumerateFiles("*", SearchOption.AllDirectories))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (Digest.TryParse($"{algorithm}:{file.Name}", out var digest) && Describe(file) is var (length, modified))
                    yield return new(digest.Value, length, modified);
            }
        }
        await Task.CompletedTask;
    }

    public ValueTask<bool> TrashAsync(Digest digest, CancellationToken cancellationToken)
    {
        try
        {
            File.Move(BlobPath(digest), TrashPath(digest), overwrite: true);
            return ValueTask.FromResult(true);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return ValueTask.FromResult(false);
        }
    }

    public ValueTask RestoreAsync(Digest digest, CancellationToken cancellationToken)
    {
        var trashed = TrashPath(digest);
        if (!File.Exists(trashed)) return ValueTask.CompletedTask;
        // If the address holds the content again (an upload committed it), the trashed copy is surplus.
        MoveToAddress(trashed, digest);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Renames a complete file to the blob's address; when the address already holds
    /// the blob (same digest, same bytes) the file is surplus and is deleted instead.
    /// </summary>
    private void MoveToAddress(string source, Digest digest)
    {
        var target = BlobPath(digest);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        try
        {
            File.Move(source, target, overwrite: false);
        }
        catch (IOException) when (File.Exists(target))
        {
            File.Delete(source);
        }
    }

    public ValueTask PurgeAsync(Digest digest, CancellationToken cancellationToken)
    {
        File.Delete(TrashPath(digest));
        return ValueTask.CompletedTask;
    }

    public async IAsyncEnumerable<Digest> ListTrashAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var file in Directory.EnumerateFiles(_trashRoot))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var name = Path.GetFileName(file);
            var dash = name.IndexOf('-');
            if (dash > 0 && Digest.TryParse($"{name[..dash]}:{name[(dash + 1)..]}", out var digest)) yield return digest.Value;
        }
        await Task.CompletedTask;
    }

    /// <summary>Size and write time, or null when the file went away since it was listed (committed, trashed, cancelled).</summary>
    private static (long Length, DateTime Modified)? Describe(FileInfo file)
    {
        try
        {
            return (file.Length, file.LastWriteTimeUtc);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    public async IAsyncEnumerable<StoredItem<Guid>> ListUploadsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var file in new DirectoryInfo(_uploadRoot).EnumerateFiles())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Guid.TryParseExact(file.Name, "N", out var id) && Describe(file) is var (length, modified))
                yield return new(id, length, modified);
        }
        await Task.CompletedTask;
    }

    public ValueTask CreateUploadAsync(Guid uploadId, CancellationToken cancellationToken)
    {
        using (new FileStream(UploadPath(uploadId), FileMode.CreateNew, FileAccess.Write)) { }
        return ValueTask.CompletedTask;
    }

    public ValueTask<long?> GetUploadSizeAsync(Guid uploadId, CancellationToken cancellationToken)
    {
        var info = new FileInfo(UploadPath(uploadId));
        return ValueTask.FromResult(info.Exists ? info.Length : (long?)null);
    }

    public async ValueTask<long> AppendUploadAsync(Guid uploadId, Stream source, IncrementalHash? hasher, long? maxBytes, CancellationToken cancellationToken, long? expectedStart = null)
    {
        await using var file = OpenStagedExclusively(uploadId, FileAccess.Write);
        var start = file.Seek(0, SeekOrigin.End);
        if (expectedStart is { } expected && start != expected)
            throw UploadChanged($"the upload holds {start} bytes, not the {expected} this request was prepared for");
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            long received = 0;
            while (true)
            {
            var read = await ReadFullChunkAsync(source, buffer, cancellationToken);
                if (read == 0) break;
                received += read;
                if (maxBytes is { } max && received > max)
                    throw ErrorCode.SizeInvalid.With($"body is longer than the declared {max} bytes");
                hasher?.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
            // What this call wrote, not the file's length now: if anything else had
            // appended, the caller's running hash must not be taken to cover it.
            return start + received;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Fills the buffer as far as the body allows, so disk writes are large even when the network delivers small pieces.</summary>
    private static async ValueTask<int> ReadFullChunkAsync(Stream source, byte[] buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var read = await source.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            if (read == 0) break;
            filled += read;
        }
        return filled;
    }

    public ValueTask<Stream> OpenUploadAsync(Guid uploadId, CancellationToken cancellationToken)
    {
        try
        {
            return ValueTask.FromResult<Stream>(new FileStream(UploadPath(uploadId), FileMode.Open, FileAccess.Read, FileShare.ReadWrite, CopyBufferSize, FileOptions.SequentialScan));
        }
        catch (IOException e) when (IsLocked(e))
        {
            throw UploadBusy();
        }
    }

    public ValueTask SealUploadAsync(Guid uploadId, CancellationToken cancellationToken)
    {
        using var file = OpenStagedExclusively(uploadId, FileAccess.ReadWrite);
        RandomAccess.FlushToDisk(file.SafeFileHandle);
        return ValueTask.CompletedTask;
    }

    public ValueTask CommitUploadAsync(Guid uploadId, Digest digest, long size, CancellationToken cancellationToken)
    {
        var staged = UploadPath(uploadId);
        // Held until the staged name is gone: no append can start meanwhile, and one that opened
        // the file before finds, once it has the lock, that its path names something else.
        using var file = OpenStagedExclusively(uploadId, FileAccess.ReadWrite);
        if (file.Length != size)
            throw UploadChanged($"the upload holds {file.Length} bytes, not the {size} whose digest was verified");
        var target = BlobPath(digest);
        if (File.Exists(target))
        {
            // Same digest, same bytes: the existing copy stays, the staged one goes.
            File.Delete(staged);
            return ValueTask.CompletedTask;
        }
        // Bytes must be on disk before the name points at them (cheap after SealUploadAsync).
        RandomAccess.FlushToDisk(file.SafeFileHandle);
        // A concurrent push of the same content may win the rename.
        MoveToAddress(staged, digest);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// The staged upload, open with an exclusive lock (an advisory lock that every writer of
    /// staged uploads takes, in every process sharing this storage) and checked to be still
    /// the file its path names. FileNotFoundException when the upload is gone, even if it
    /// went while this waited; BLOB_UPLOAD_INVALID (409) while another request holds it.
    /// </summary>
    private FileStream OpenStagedExclusively(Guid uploadId, FileAccess access)
    {
        var path = UploadPath(uploadId);
        FileStream file;
        try
        {
            // Open, not Append: an upload that ended (committed, cancelled or collected, perhaps by
            // another instance) must fail here rather than start over as a file of one chunk.
            file = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = access,
                Share = FileShare.None,
                BufferSize = 0,
                Options = FileOptions.Asynchronous,
            });
        }
        catch (IOException e) when (IsLocked(e))
        {
            throw UploadBusy();
        }
        if (StagedFileIdentity.StillNamedBy(file.SafeFileHandle, path)) return file;
        file.Dispose();
        throw new FileNotFoundException("upload not found", path);
    }

    /// <summary>A lock another open of the file holds: .NET reports flock's EWOULDBLOCK as an IOException carrying that errno.</summary>
    private static bool IsLocked(IOException e) => e is not (FileNotFoundException or DirectoryNotFoundException) && e.HResult is EWouldBlock;

    private const int EWouldBlock = 11;

    private static RegistryException UploadBusy() =>
        ErrorCode.BlobUploadInvalid.With("another request is writing this upload; retry once it has finished", null, Microsoft.AspNetCore.Http.StatusCodes.Status409Conflict);

    private static RegistryException UploadChanged(string what) =>
        ErrorCode.BlobUploadInvalid.With($"{what}: another request changed it; retry", null, Microsoft.AspNetCore.Http.StatusCodes.Status409Conflict);

    public ValueTask DeleteUploadAsync(Guid uploadId, CancellationToken cancellationToken)
    {
        File.Delete(UploadPath(uploadId));
        return ValueTask.CompletedTask;
    }
}
