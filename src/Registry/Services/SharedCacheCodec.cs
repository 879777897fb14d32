namespace Berth.Registry.Services;

/// <summary>
/// The bytes cached values are shared as. Each starts with a format byte, so
/// instances of a newer release that change the layout read older copies as
/// misses instead of misreading them.
/// </summary>
public static class SharedCacheCodec
{
    private const byte ManifestFormat = 1;
    private const byte TagListFormat = 1;

    public static byte[] EncodeManifest(ManifestView view)
    {
        using var buffer = new MemoryStream(view.Content.Length + 256);
        using (var writer = new BinaryWriter(buffer))
        {
            writer.Write(ManifestFormat);
            writer.Write(view.Id);
            writer.Write(view.RepositoryId);
            writer.Write(view.Digest);
            writer.Write(view.MediaType);
            writer.Write(view.SubjectDigest is not null);
            if (view.SubjectDigest is not null) writer.Write(view.SubjectDigest);
            writer.Write(view.PushedAt.Ticks);
            writer.Write(view.Content.Length);
            writer.Write(view.Content);
        }
        return buffer.ToArray();
    }

    public static ManifestView? DecodeManifest(byte[] bytes)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes, writable: false));
            if (reader.ReadByte() != ManifestFormat) return null;
            var id = reader.ReadInt64();
            var repositoryId = reader.ReadInt64();
            var digest = reader.ReadString();
            var mediaType = reader.ReadString();
            var subject = reader.ReadBoolean() ? reader.ReadString() : null;
            var pushedAt = new DateTime(reader.ReadInt64(), DateTimeKind.Utc);
            var length = reader.ReadInt32();
            var content = reader.ReadBytes(Math.Max(0, length));
            if (length < 0 || content.Length != length) return null;
            return new ManifestView(id, repositoryId, digest, mediaType, content, subject, pushedAt);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or ArgumentException)
        {
            return null;
        }
    }

    public static byte[] EncodeTagList(string[] tags)
    {
        using var buffer = new MemoryStream(16 + tags.Sum(t => t.Length + 2));
        using (var writer = new BinaryWriter(buffer))
        {
            writer.Write(TagListFormat);
            writer.Write(tags.Length);
            foreach (var tag in tags) writer.Write(tag);
        }
        return buffer.ToArray();
    }

    public static string[]? DecodeTagList(byte[] bytes)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes, writable: false));
            if (reader.ReadByte() != TagListFormat) return null;
            var count = reader.ReadInt32();
            if (count < 0 || count > bytes.Length) return null;
            var tags = new string[count];
            for (var i = 0; i < tags.Length; i++) tags[i] = reader.ReadString();
            return tags;
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or ArgumentException)
        {
            return null;
        }
    }
}
