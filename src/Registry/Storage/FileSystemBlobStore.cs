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

    public FileSystemBlobStore(string rootDirectory)
    {
        _blobRoot = Path.Combine(rootDirectory, "blobs");
        _uploadRoot = Path.Combine(rootDirectory, "uploads");
        Directory.CreateDirectory(_blobRoot);
        Directory.CreateDirectory(_uploadRoot);
    }

    /// <summary>The file a committed blob lives in. Safe: a parsed digest is only [a-z0-9:].</summary>
    public string BlobPath(Digest digest) => Path.Combine(_blobRoot, digest.Algorithm, digest.Hex[..2], digest.Hex);

    private string UploadPath(Guid uploadId) => Path.Combine(_uploadRoot, uploadId.ToString("N"));

    public ValueTask<long?> StatAsync(Digest digest, CancellationToken cancellationToken)
    {
        var info = new FileInfo(BlobPath(digest));
        return ValueTask.FromResult(info.Exists ? info.Length : (long?)null);
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

    public async IAsyncEnumerable<Digest> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var algorithmDirectory in Directory.EnumerateDirectories(_blobRoot))
        {
            var algorithm = Path.GetFileName(algorithmDirectory);
            foreach (var file in Directory.EnumerateFiles(algorithmDirectory, "*", SearchOption.AllDirectories))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (Digest.TryParse($"{algorithm}:{Path.GetFileName(file)}", out var digest)) yield return digest.Value;
            }
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

    public async ValueTask<long> AppendUploadAsync(Guid uploadId, Stream source, IncrementalHash? hasher, long? maxBytes, CancellationToken cancellationToken)
    {
        var path = UploadPath(uploadId);
        if (!File.Exists(path)) throw new FileNotFoundException("upload not found", path);
        await using var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Append,
            Access = FileAccess.Write,
            Share = FileShare.Read,
            BufferSize = 0,
            Options = FileOptions.Asynchronous,
        });
        var start = file.Length;
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

    public ValueTask<Stream> OpenUploadAsync(Guid uploadId, CancellationToken cancellationToken) =>
        ValueTask.FromResult<Stream>(new FileStream(UploadPath(uploadId), FileMode.Open, FileAccess.Read, FileShare.ReadWrite, CopyBufferSize, FileOptions.SequentialScan));

    public ValueTask CommitUploadAsync(Guid uploadId, Digest digest, CancellationToken cancellationToken)
    {
        var staged = UploadPath(uploadId);
        var target = BlobPath(digest);
        if (File.Exists(target))
        {
            // Same digest, same bytes: the existing copy stays, the staged one goes.
            File.Delete(staged);
            return ValueTask.CompletedTask;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        using (var handle = File.OpenHandle(staged, FileMode.Open, FileAccess.ReadWrite))
        {
            // Bytes must be on disk before the name points at them.
            RandomAccess.FlushToDisk(handle);
        }
        try
        {
            File.Move(staged, target, overwrite: false);
        }
        catch (IOException) when (File.Exists(target))
        {
            // A concurrent push of the same content won the rename.
            File.Delete(staged);
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask DeleteUploadAsync(Guid uploadId, CancellationToken cancellationToken)
    {
        File.Delete(UploadPath(uploadId));
        return ValueTask.CompletedTask;
    }
}
