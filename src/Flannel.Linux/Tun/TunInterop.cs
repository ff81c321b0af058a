using System.Runtime.InteropServices;

namespace Flannel.Linux.Tun;

/// <summary>libc calls and constants for /dev/net/tun (linux/if_tun.h).</summary>
internal static partial class TunInterop
{
    public const int ORdwr = 0x2;
    public const int ONonblock = 0x800;
    public const int OCloexec = 0x80000;

    public const short IffTun = 0x0001;
    public const short IffNoPi = 0x1000;
    public const short IffVnetHdr = 0x4000;
    public const short IffMultiQueue = 0x0100;

    public const nuint TunSetIff = 0x400454ca;
    public const nuint TunGetFeatures = 0x800454cf;
    public const nuint TunSetOffload = 0x400454d0;
    public const nuint TunSetVnetHdrSz = 0x400454d8;

    public const int IfReqSize = 40;
    public const int IfNameSize = 16;

    public const int EAgain = 11;
    public const int EInvalid = 22;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(FileDescriptorHandle fd, nuint request, ref byte argument);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(FileDescriptorHandle fd, nuint request, ref int argument);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(FileDescriptorHandle fd, nuint request, nuint argument);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(FileDescriptorHandle fd, ref byte buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(FileDescriptorHandle fd, ref byte buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "writev", SetLastError = true)]
    public static partial nint WriteV(FileDescriptorHandle fd, ref Udp.SocketInterop.IoVec iov, int count);
}
