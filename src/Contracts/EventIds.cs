using System.Buffers.Binary;

namespace Berth.Contracts;

/// <summary>
/// New event ids: RFC 9562 version 7 UUIDs, time-ordered so that every index keyed
/// on event ids (inboxes, the audit log's entry ids) grows at its end instead of
/// touching a random page for each insert. The 74 bits after the millisecond
/// timestamp come from <see cref="Random.Shared"/> (seeded from the operating
/// system once per process) rather than from the system for each id, as
/// <see cref="Guid.CreateVersion7()"/> does: on Linux that is a system call an id,
/// and a busy registry makes an id for every pull. Ids need to be unique, not
/// unguessable; 74 random bits a millisecond keep them so across processes.
/// </summary>
public static class EventIds
{
    public static Guid New() => New(DateTimeOffset.UtcNow);

    public static Guid New(DateTimeOffset at)
    {
        Span<byte> bytes = stackalloc byte[16];
        Random.Shared.NextBytes(bytes[6..]);
        // 48 bits of Unix milliseconds, big-endian, in bytes 0-5.
        Span<byte> milliseconds = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(milliseconds, at.ToUnixTimeMilliseconds());
        milliseconds[2..].CopyTo(bytes);
        bytes[6] = (byte)(0x70 | (bytes[6] & 0x0F)); // version 7
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F)); // RFC 9562 variant
        return new Guid(bytes, bigEndian: true);
    }
}
