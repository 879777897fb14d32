using System.Security.Cryptography;
using Berth.Oci;
using Berth.Registry.Storage;
using Berth.TestSupport;

namespace Berth.Registry.Tests.Unit;

/// <summary>The filesystem blob store on real files: staging, committing, reading back, listing and deleting.</summary>
public sealed class FileSystemBlobStoreTests : IDisposable
{
    private readonly TempDirectory _root = new("berth-blobstore");
    private readonly FileSystemBlobStore _store;
    private readonly CancellationToken _ct = CancellationToken.None;

    public FileSystemBlobStoreTests()
    {
        _store = new FileSystemBlobStore(_root.Path);
    }

    public void Dispose() => _root.Dispose();

    private static byte[] Bytes(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private async Task<Guid> StageAsync(byte[] content)
    {
        var id = Guid.NewGuid();
        await _store.CreateUploadAsync(id, _ct);
        await _store.AppendUploadAsync(id, new MemoryStream(content), null, null, _ct);
        return id;
    }

    private async Task<Digest> PutAsync(byte[] content, string algorithm = Digest.Sha256)
    {
        var digest = Digest.Compute(content, algorithm);
        await _store.CommitUploadAsync(await StageAsync(content), digest, content.Length, _ct);
        return digest;
    }

    private async Task<List<Digest>> ListAsync()
    {
        var result = new List<Digest>();
        await foreach (var digest in _store.ListAsync(_ct)) result.Add(digest.Key);
        return result;
    }

    private string[] StagedFiles() => Directory.GetFiles(_root.Combine("uploads"));

    private string[] BlobFiles() => Directory.GetFiles(_root.Combine("blobs"), "*", SearchOption.AllDirectories);

    [Fact]
    public async Task Create_append_size_commit_makes_the_blob_readable_at_its_address()
    {
        var content = Bytes(3000);
        var digest = Digest.Compute(content);
        var id = Guid.NewGuid();

        await _store.CreateUploadAsync(id, _ct);
        Assert.Equal(0, await _store.GetUploadSizeAsync(id, _ct));

        Assert.Equal(1000, await _store.AppendUploadAsync(id, new MemoryStream(content[..1000]), null, null, _ct));
        Assert.Equal(1000, await _store.GetUploadSizeAsync(id, _ct));
        Assert.Equal(3000, await _store.AppendUploadAsync(id, new MemoryStream(content[1000..]), null, null, _ct));
        Assert.Equal(3000, await _store.GetUploadSizeAsync(id, _ct));

        // Staged is not committed: nothing at the address yet.
        Assert.Null(await _store.StatAsync(digest, _ct));
        Assert.Null(await _store.OpenReadAsync(digest, _ct));

        await _store.CommitUploadAsync(id, digest, content.Length, _ct);

        Assert.Equal(3000, await _store.StatAsync(digest, _ct));
        Assert.Null(await _store.GetUploadSizeAsync(id, _ct));
        Assert.Empty(StagedFiles());

        var expectedPath = _root.Combine("blobs", "sha256", digest.Hex[..2], digest.Hex);
        Assert.Equal(expectedPath, _store.BlobPath(digest));
        Assert.Equal(content, await File.ReadAllBytesAsync(expectedPath));

        await using var reader = await _store.OpenReadAsync(digest, _ct);
        Assert.NotNull(reader);
        Assert.Equal(3000, reader.Length);
        Assert.Equal(expectedPath, reader.LocalPath);
        Assert.Equal(content, await File.ReadAllBytesAsync(reader.LocalPath!));
    }

    [Fact]
    public async Task Sha512_blob_lives_under_its_algorithm()
    {
        var content = Bytes(100);
        var digest = await PutAsync(content, Digest.Sha512);
        Assert.Equal(_root.Combine("blobs", "sha512", digest.Hex[..2], digest.Hex), _store.BlobPath(digest));
        Assert.Equal(content, await File.ReadAllBytesAsync(_store.BlobPath(digest)));
        Assert.Equal(100, await _store.StatAsync(digest, _ct));
    }

    [Fact]
    public async Task Empty_blob_can_be_committed()
    {
        var digest = await PutAsync([]);
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", digest.Hex);
        Assert.Equal(0, await _store.StatAsync(digest, _ct));
        Assert.Equal([digest], await ListAsync());
    }

    [Fact]
    public async Task Commit_of_a_present_digest_keeps_one_copy_and_removes_the_staged_file()
    {
        var content = Bytes(5000);
        var digest = await PutAsync(content);
        var firstWrite = File.GetLastWriteTimeUtc(_store.BlobPath(digest));

        var second = await StageAsync(content);
        Assert.Single(StagedFiles());
        await _store.CommitUploadAsync(second, digest, content.Length, _ct);

        Assert.Empty(StagedFiles());
        Assert.Null(await _store.GetUploadSizeAsync(second, _ct));
        Assert.Equal([_store.BlobPath(digest)], BlobFiles());
        Assert.Equal([digest], await ListAsync());
        Assert.Equal(content, await File.ReadAllBytesAsync(_store.BlobPath(digest)));
        Assert.Equal(firstWrite, File.GetLastWriteTimeUtc(_store.BlobPath(digest)));
    }

    [Fact]
    public async Task Append_with_max_bytes_refuses_a_longer_body()
    {
        var id = Guid.NewGuid();
        await _store.CreateUploadAsync(id, _ct);
        var error = await Assert.ThrowsAsync<RegistryException>(async () =>
            await _store.AppendUploadAsync(id, new MemoryStream(Bytes(10)), null, 9, _ct));
        Assert.Equal(ErrorCode.SizeInvalid, error.Code);
        Assert.Equal(400, error.Status);
        // A body that fits in one read is refused before any of it is written.
        Assert.Equal(0, await _store.GetUploadSizeAsync(id, _ct));
    }

    [Fact]
    public async Task Append_with_max_bytes_refuses_a_longer_body_that_arrives_in_pieces()
    {
        var id = Guid.NewGuid();
        await _store.CreateUploadAsync(id, _ct);
        var error = await Assert.ThrowsAsync<RegistryException>(async () =>
            await _store.AppendUploadAsync(id, new TrickleStream(Bytes(3 << 20), 4096), null, (2 << 20) + 1, _ct));
        Assert.Equal(ErrorCode.SizeInvalid, error.Code);
    }

    [Fact]
    public async Task Append_with_max_bytes_accepts_a_body_of_exactly_that_length()
    {
        var id = Guid.NewGuid();
        await _store.CreateUploadAsync(id, _ct);
        Assert.Equal(10, await _store.AppendUploadAsync(id, new MemoryStream(Bytes(10)), null, 10, _ct));
        Assert.Equal(15, await _store.AppendUploadAsync(id, new MemoryStream(Bytes(5)), null, 100, _ct));
        Assert.Equal(15, await _store.AppendUploadAsync(id, new MemoryStream([]), null, 0, _ct));
    }

    [Fact]
    public async Task While_a_request_appends_to_an_upload_another_append_and_a_commit_are_refused_and_change_nothing()
    {
        var first = Bytes(1000);
        var id = await StageAsync(first);
        var more = Bytes(500, seed: 2);
        var body = new HeldStream(more);
        var appending = _store.AppendUploadAsync(id, body, null, null, _ct).AsTask();
        await body.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var append = await Assert.ThrowsAsync<RegistryException>(async () => await _store.AppendUploadAsync(id, new MemoryStream([9]), null, null, _ct));
        Assert.Equal(409, append.Status);
        var commit = await Assert.ThrowsAsync<RegistryException>(async () => await _store.CommitUploadAsync(id, Digest.Compute(first), first.Length, _ct));
        Assert.Equal(409, commit.Status);
        Assert.Null(await _store.StatAsync(Digest.Compute(first), _ct));

        body.Release.SetResult();
        Assert.Equal(1500, await appending);
        byte[] whole = [.. first, .. more];
        await _store.CommitUploadAsync(id, Digest.Compute(whole), whole.Length, _ct);
        Assert.Equal(whole.Length, await _store.StatAsync(Digest.Compute(whole), _ct));
    }

    [Fact]
    public async Task A_commit_of_other_than_the_verified_size_is_refused_and_nothing_reaches_the_address()
    {
        var content = Bytes(2000);
        var id = await StageAsync(content);
        var error = await Assert.ThrowsAsync<RegistryException>(async () => await _store.CommitUploadAsync(id, Digest.Compute(content[..1500]), 1500, _ct));
        Assert.Equal(409, error.Status);
        Assert.Null(await _store.StatAsync(Digest.Compute(content[..1500]), _ct));
        Assert.Equal(2000, await _store.GetUploadSizeAsync(id, _ct));
    }

    [Fact]
    public async Task An_append_prepared_for_another_size_is_refused_and_writes_nothing()
    {
        var id = await StageAsync(Bytes(700));
        var error = await Assert.ThrowsAsync<RegistryException>(async () =>
            await _store.AppendUploadAsync(id, new MemoryStream(Bytes(10)), null, null, _ct, expectedStart: 600));
        Assert.Equal(409, error.Status);
        Assert.Equal(700, await _store.GetUploadSizeAsync(id, _ct));
        Assert.Equal(710, await _store.AppendUploadAsync(id, new MemoryStream(Bytes(10)), null, null, _ct, expectedStart: 700));
    }

    [Fact]
    public async Task A_staged_file_is_no_longer_named_by_its_path_once_committed_or_deleted()
    {
        var path = _root.Combine("probe");
        await File.WriteAllBytesAsync(path, [1, 2, 3]);
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            Assert.True(StagedFileIdentity.StillNamedBy(file.SafeFileHandle, path));
            File.Move(path, path + ".moved");
            Assert.False(StagedFileIdentity.StillNamedBy(file.SafeFileHandle, path));
            await File.WriteAllBytesAsync(path, [1, 2, 3]);
            Assert.False(StagedFileIdentity.StillNamedBy(file.SafeFileHandle, path));
        }
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            File.Delete(path);
            Assert.False(StagedFileIdentity.StillNamedBy(file.SafeFileHandle, path));
        }
    }

    [Fact]
    public async Task Append_to_an_unknown_upload_throws()
    {
        await Assert.ThrowsAsync<FileNotFoundException>(async () =>
            await _store.AppendUploadAsync(Guid.NewGuid(), new MemoryStream([1, 2, 3]), null, null, _ct));
        Assert.Empty(StagedFiles());
    }

    [Fact]
    public async Task Staged_upload_never_appears_in_the_listing()
    {
        var content = Bytes(2048);
        var id = await StageAsync(content);
        var empty = Guid.NewGuid();
        await _store.CreateUploadAsync(empty, _ct);

        Assert.Empty(await ListAsync());

        var other = await PutAsync(Bytes(10, seed: 2));
        Assert.Equal([other], await ListAsync());
        Assert.Equal(2, StagedFiles().Length);

        await _store.CommitUploadAsync(id, Digest.Compute(content), content.Length, _ct);
        Assert.Equal(
            new[] { other, Digest.Compute(content) }.Select(d => d.ToString()).Order(),
            (await ListAsync()).Select(d => d.ToString()).Order());
    }

    [Fact]
    public async Task Listing_finds_every_committed_blob_of_both_algorithms()
    {
        var expected = new List<Digest>();
        for (var i = 0; i < 20; i++) expected.Add(await PutAsync(Bytes(100 + i, seed: i)));
        expected.Add(await PutAsync(Bytes(50, seed: 99), Digest.Sha512));

        var listed = await ListAsync();
        Assert.Equal(expected.Count, listed.Count);
        Assert.Equal(expected.Select(d => d.ToString()).Order(), listed.Select(d => d.ToString()).Order());
    }

    [Fact]
    public async Task Listing_skips_files_that_are_not_digests()
    {
        var digest = await PutAsync(Bytes(10));
        var directory = Path.GetDirectoryName(_store.BlobPath(digest))!;
        await File.WriteAllTextAsync(Path.Combine(directory, "stray.tmp"), "x");
        await File.WriteAllTextAsync(Path.Combine(directory, digest.Hex.ToUpperInvariant() + "X"), "x");
        Directory.CreateDirectory(_root.Combine("blobs", "md5"));
        await File.WriteAllTextAsync(_root.Combine("blobs", "md5", "d41d8cd98f00b204e9800998ecf8427e"), "x");

        Assert.Equal([digest], await ListAsync());
    }

    [Fact]
    public async Task Listing_an_empty_store_is_empty()
    {
        Assert.Empty(await ListAsync());
    }

    [Fact]
    public async Task Delete_upload_removes_the_staged_file()
    {
        var id = await StageAsync(Bytes(100));
        Assert.Equal(100, await _store.GetUploadSizeAsync(id, _ct));

        await _store.DeleteUploadAsync(id, _ct);

        Assert.Null(await _store.GetUploadSizeAsync(id, _ct));
        Assert.Empty(StagedFiles());
        await Assert.ThrowsAsync<FileNotFoundException>(async () =>
            await _store.AppendUploadAsync(id, new MemoryStream([1]), null, null, _ct));
    }

    [Fact]
    public async Task Delete_upload_of_an_unknown_id_is_harmless()
    {
        var kept = await StageAsync(Bytes(10));
        await _store.DeleteUploadAsync(Guid.NewGuid(), _ct);
        Assert.Equal(10, await _store.GetUploadSizeAsync(kept, _ct));
    }

    [Fact]
    public async Task Delete_upload_leaves_committed_blobs_alone()
    {
        var content = Bytes(100);
        var digest = await PutAsync(content);
        var id = await StageAsync(content);
        await _store.DeleteUploadAsync(id, _ct);
        Assert.Equal(100, await _store.StatAsync(digest, _ct));
    }

    [Fact]
    public async Task Open_read_of_a_missing_digest_is_null()
    {
        await PutAsync(Bytes(10));
        var missing = Digest.Compute("never stored"u8);
        Assert.Null(await _store.OpenReadAsync(missing, _ct));
        Assert.Null(await _store.StatAsync(missing, _ct));
    }

    [Fact]
    public async Task Delete_removes_a_committed_blob()
    {
        var digest = await PutAsync(Bytes(10));
        await _store.DeleteAsync(digest, _ct);
        Assert.Null(await _store.StatAsync(digest, _ct));
        Assert.Null(await _store.OpenReadAsync(digest, _ct));
        Assert.Empty(await ListAsync());
    }

    [Fact]
    public async Task Delete_of_an_absent_blob_is_not_an_error()
    {
        var digest = await PutAsync(Bytes(10));
        await _store.DeleteAsync(digest, _ct);
        await _store.DeleteAsync(digest, _ct);
        // Never stored, so not even its fan-out directory exists.
        await _store.DeleteAsync(Digest.Compute("never stored"u8), _ct);
        await _store.DeleteAsync(Digest.Compute("never stored"u8, Digest.Sha512), _ct);
        Assert.Null(await _store.StatAsync(digest, _ct));
    }

    [Fact]
    public async Task Open_upload_reads_the_staged_bytes()
    {
        var content = Bytes(4096);
        var id = await StageAsync(content);
        await using var staged = await _store.OpenUploadAsync(id, _ct);
        using var copy = new MemoryStream();
        await staged.CopyToAsync(copy);
        Assert.Equal(content, copy.ToArray());
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(1000, 7)]
    [InlineData((1 << 20) - 1, 65536)]
    [InlineData(1 << 20, 65536)]
    [InlineData((1 << 20) + 1, 65536)]
    [InlineData((3 << 20) + 17, 12345)]
    public async Task Hasher_sees_exactly_the_bytes_written(int length, int maxRead)
    {
        var content = Bytes(length, seed: length);
        var id = Guid.NewGuid();
        await _store.CreateUploadAsync(id, _ct);
        using var hasher = Digest.CreateHasher(Digest.Sha256);

        var size = await _store.AppendUploadAsync(id, new TrickleStream(content, maxRead), hasher, null, _ct);

        Assert.Equal(length, size);
        var hashed = Digest.FromHash(Digest.Sha256, hasher.GetHashAndReset());
        Assert.Equal(Digest.Compute(content), hashed);
        await using var staged = await _store.OpenUploadAsync(id, _ct);
        using var copy = new MemoryStream();
        await staged.CopyToAsync(copy);
        Assert.Equal(content, copy.ToArray());
    }

    [Fact]
    public async Task Hasher_continues_across_appends()
    {
        var content = Bytes(5000);
        var id = Guid.NewGuid();
        await _store.CreateUploadAsync(id, _ct);
        using var hasher = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);

        await _store.AppendUploadAsync(id, new TrickleStream(content[..1234], 100), hasher, 1234, _ct);
        await _store.AppendUploadAsync(id, new TrickleStream(content[1234..], 333), hasher, null, _ct);

        var digest = Digest.FromHash(Digest.Sha512, hasher.GetHashAndReset());
        Assert.Equal(Digest.Compute(content, Digest.Sha512), digest);
        await _store.CommitUploadAsync(id, digest, content.Length, _ct);
        Assert.Equal(content, await File.ReadAllBytesAsync(_store.BlobPath(digest)));
    }

    /// <summary>A body that arrives in small, uneven pieces, as a network stream does.</summary>
    private sealed class TrickleStream(byte[] content, int maxRead) : Stream
    {
        private int _position;
        private int _reads;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            // Vary the piece size so reads never line up with the store's buffer.
            var piece = Math.Max(1, maxRead - (_reads++ % 3) * (maxRead / 3));
            var n = Math.Min(Math.Min(piece, buffer.Length), content.Length - _position);
            content.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A body that hands out its bytes only once released, so a request stays in the middle of its append.</summary>
    private sealed class HeldStream(byte[] content) : Stream
    {
        private int _position;

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Started.TrySetResult();
            await Release.Task.WaitAsync(cancellationToken);
            var count = Math.Min(buffer.Length, content.Length - _position);
            content.AsMemory(_position, count).CopyTo(buffer);
            _position += count;
            return count;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => content.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
