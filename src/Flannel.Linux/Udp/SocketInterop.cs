using System.Runtime.InteropServices;
using Flannel.Linux.Tun;

namespace Flannel.Linux.Udp;

/// <summary>libc socket, poll and eventfd calls the forwarder needs, with the x86-64/arm64 struct layouts.</summary>
internal static partial class SocketInterop
{
    public const int AfInet = 2;
    public const int SockDgram = 2;
    public const int SockNonblock = 0x800;
    public const int SockCloexec = 0x80000;

    public const int SolSocket = 1;
    public const int SoReuseAddr = 2;
    public const int SoSndBuf = 7;
    public const int SoRcvBuf = 8;
    public const int SoReusePort = 15;
    public const int SoSndBufForce = 32;
    public const int SoRcvBufForce = 33;

    public const int SolUdp = 17;
    public const int UdpSegment = 103;
    public const int UdpGro = 104;

    public const int MsgDontWait = 0x40;
    public const int MsgTrunc = 0x20;

    public const short PollIn = 0x1;


    public const int SockAddrInSize = 16;
    public const int CmsgHeaderSize = 16;

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public nint Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public nint Name;
        public uint NameLength;
        public nint Iov;
        public nuint IovLength;
        public nint Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MMsgHdr
    {
        public MsgHdr Header;
        public uint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short ReturnedEvents;
    }

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    public static partial int Bind(FileDescriptorHandle fd, ref byte address, uint length);

    [LibraryImport("libc", EntryPoint = "getsockname", SetLastError = true)]
    public static partial int GetSockName(FileDescriptorHandle fd, ref byte address, ref uint length);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    public static partial int SetSockOpt(FileDescriptorHandle fd, int level, int name, ref int value, uint length);

    [LibraryImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    public static partial int GetSockOpt(FileDescriptorHandle fd, int level, int name, ref int value, ref uint length);

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    public static partial nint SendMsg(FileDescriptorHandle fd, nint message, int flags);

    [LibraryImport("libc", EntryPoint = "recvmmsg", SetLastError = true)]
    public static partial int RecvMMsg(FileDescriptorHandle fd, nint messages, uint count, int flags, nint timeout);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(Span<PollFd> fds, nuint count, int timeout);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initial, int flags);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(FileDescriptorHandle fd, ref ulong value, nuint count);
}
