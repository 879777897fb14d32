using Berth.Registry.Services;
using Microsoft.Extensions.Caching.Memory;

namespace Berth.Registry.Tests.Unit;

/// <summary>Which hints a registry cache passes on to its warmer: blob links it lacks, while it can cache at all.</summary>
public sealed class BlobLinkHintTests
{
    private static readonly string Digest = "sha256:" + new string('a', 64);

    [Fact]
    public void Only_a_well_formed_link_key_the_cache_lacks_is_passed_on_and_only_while_the_tier_is_trusted()
    {
        var tier = new HandRaisedTier();
        var cache = new RegistryCache(new MemoryCache(new MemoryCacheOptions { SizeLimit = 1 << 20 }), tier);
        var heard = new List<(long, string)>();
        cache.BlobLinkHinted += (repositoryId, digest) => heard.Add((repositoryId, digest));

        foreach (var malformed in new[] { "", "b", $"b\n5", $"b\nfive\n{Digest}", $"b\n5\nnot-a-digest", $"m\n5\n{Digest}", $"b\n5\n{Digest}\nmore" })
            tier.Raise(malformed);
        Assert.Empty(heard);

        tier.Raise($"b\n5\n{Digest}");
        Assert.Equal([(5L, Digest)], heard);

        cache.SetBlobSize(6, Digest, 10, cache.BlobStamp(6, Digest), TimeSpan.FromMinutes(1));
        tier.Raise($"b\n6\n{Digest}");
        tier.Trusted = false;
        tier.Raise($"b\n7\n{Digest}");
        Assert.Equal([(5L, Digest)], heard);
    }

    /// <summary>A tier whose hints the test raises by hand.</summary>
    private sealed class HandRaisedTier : ISharedCacheTier
    {
        public bool Trusted { get; set; } = true;

        public void Raise(string key) => Hinted?.Invoke(key);

        public event Action<string>? Hinted;

        public void Hint(string key) { }

        public void Announce(string key) { }

        public event Action<string>? Invalidated { add { } remove { } }

        public event Action? Reset { add { } remove { } }

        public ValueTask<SharedRead> ReadAsync(string key) => ValueTask.FromResult(SharedRead.Unavailable);

        public void Store(string key, byte[] value, SharedRead read) { }

        public TimeSpan? EntryLifetime => null;
    }
}
