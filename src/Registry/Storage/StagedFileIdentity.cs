using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Berth.Registry.Storage;

/// <summary>
/// Whether an open staged file is still the one its path names. A writer that opened a
/// staged upload and only then got its lock may find that meanwhile another process
/// committed the file (renamed it to its content address) or removed it; writing on
/// through the old descriptor would change a blob whose digest was already verified.
/// Compares device and inode numbers (the first two fields of struct stat on Linux, on
/// x86-64 and arm64 alike); elsewhere it cannot tell and says yes.
/// </summary>
internal static class StagedFileIdentity
{
    private const int StatBufferSize = 256;

    public static bool StillNamedBy(SafeFileHandle handle, string path)
    {
        if (!OperatingSystem.IsLinux()) return true;
        var open = new byte[StatBufferSize];
        var named = new byte[StatBufferSize];
        if (FStat((int)handle.DangerousGetHandle(), open) != 0) return false;
        if (Stat(path, named) != 0) return false;
        return BinaryPrimitives.ReadUInt64LittleEndian(open) == BinaryPrimitives.ReadUInt64LittleEndian(named)
            && BinaryPrimitives.ReadUInt64LittleEndian(open.AsSpan(8)) == BinaryPrimitives.ReadUInt64LittleEndian(named.AsSpan(8));
    }

    // DllImport rather than LibraryImport, which needs unsafe code: a byte array and a
    // UTF-8 path marshal without it (glibc exports stat and fstat since 2.33).
    [DllImport("libc", EntryPoint = "fstat", SetLastError = true)]
    private static extern int FStat(int descriptor, [Out] byte[] buffer);

    [DllImport("libc", EntryPoint = "stat", SetLastError = true)]
    private static extern int Stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, [Out] byte[] buffer);
}
