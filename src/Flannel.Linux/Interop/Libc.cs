using System.Runtime.InteropServices;

namespace Flannel.Linux.Interop;

/// <summary>The few libc calls .NET has no managed equivalent for. Callers go through the small helpers, which turn errno into exceptions.</summary>
internal static partial class Libc
{
    public const int AF_NETLINK = 16;
    public const int SOCK_RAW = 3;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int NETLINK_ROUTE = 0;
    public const int CLONE_NEWNET = 0x40000000;
    public const ulong MS_BIND = 0x1000;
    public const int MNT_DETACH = 2;

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    public static unsafe partial int Bind(int fd, void* address, int length);

    [LibraryImport("libc", EntryPoint = "getsockname", SetLastError = true)]
    public static unsafe partial int GetSockName(int fd, void* address, int* length);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    public static partial int SetNs(SafeHandle fd, int nsType);

    [LibraryImport("libc", EntryPoint = "unshare", SetLastError = true)]
    public static partial int Unshare(int flags);

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mount(string source, string target, string? fileSystemType, ulong flags, nint data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Umount2(string target, int flags);

    public const int O_RDONLY = 0;
    public const int O_CREAT = 0x40;
    public const int O_EXCL = 0x80;
    public const int O_CLOEXEC = 0x80000;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, int mode);

    /// <summary>Opens a file read-only as a handle (namespace files among them; FileStream would try to lock them).</summary>
    public static Microsoft.Win32.SafeHandles.SafeFileHandle OpenReadOnly(string path)
    {
        int fd = Open(path, O_RDONLY | O_CLOEXEC, 0);
        return fd < 0 ? throw LastError($"open({path})") : new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true);
    }

    public static InvalidOperationException LastError(string what)
    {
        int errno = Marshal.GetLastPInvokeError();
        return new InvalidOperationException($"{what} failed: {Errno.Name(errno)} ({Marshal.GetPInvokeErrorMessage(errno)})");
    }
}
