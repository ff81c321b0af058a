using System.Buffers.Binary;
using System.ComponentModel;
using System.Runtime.InteropServices;
using Flannel.Core.Net;
using Flannel.Linux.Tun;

namespace Flannel.Linux.Udp;

/// <summary>
/// The forwarder's UDP socket (non-blocking, bound to the public address and port) and what the kernel let us
/// turn on: UDP_SEGMENT (send many datagrams per call) and UDP_GRO (receive many per call).
/// Created in the calling thread's network namespace.
/// </summary>
public sealed class UdpTunnelSocket : IDisposable
{
    private UdpTunnelSocket(FileDescriptorHandle handle, bool gso, bool gro, ushort port)
    {
        Handle = handle;
        SupportsGso = gso;
        GroEnabled = gro;
        Port = port;
    }

    public FileDescriptorHandle Handle { get; }

    public bool SupportsGso { get; }

    public bool GroEnabled { get; }

    /// <summary>The bound port (useful when asked for port 0).</summary>
    public ushort Port { get; }

    public static UdpTunnelSocket Open(uint address, ushort port, bool reusePort, bool wantGso, bool wantGro, int bufferBytes)
    {
        int fd = SocketInterop.Socket(SocketInterop.AfInet, SocketInterop.SockDgram | SocketInterop.SockNonblock | SocketInterop.SockCloexec, 0);
        if (fd < 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), "Cannot create the udp backend socket");
        }

        var handle = new FileDescriptorHandle(fd);
        try
        {
            if (reusePort)
            {
                SetOption(handle, SocketInterop.SolSocket, SocketInterop.SoReusePort, 1, required: true);
            }

            if (bufferBytes > 0)
            {
                // The FORCE variants ignore rmem_max/wmem_max (we run as root); fall back to the capped ones.
                if (!SetOption(handle, SocketInterop.SolSocket, SocketInterop.SoRcvBufForce, bufferBytes, required: false))
                {
                    SetOption(handle, SocketInterop.SolSocket, SocketInterop.SoRcvBuf, bufferBytes, required: false);
                }

                if (!SetOption(handle, SocketInterop.SolSocket, SocketInterop.SoSndBufForce, bufferBytes, required: false))
                {
                    SetOption(handle, SocketInterop.SolSocket, SocketInterop.SoSndBuf, bufferBytes, required: false);
                }
            }

            Span<byte> sa = stackalloc byte[SocketInterop.SockAddrInSize];
            WriteSockAddr(sa, address, port);
            if (SocketInterop.Bind(handle, ref MemoryMarshal.GetReference(sa), SocketInterop.SockAddrInSize) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw new Win32Exception(errno, $"Cannot bind the udp backend socket to {Ip4.Format(address)}:{port}");
            }

            uint length = SocketInterop.SockAddrInSize;
            SocketInterop.GetSockName(handle, ref MemoryMarshal.GetReference(sa), ref length);
            ushort bound = BinaryPrimitives.ReadUInt16BigEndian(sa[2..]);

            bool gso = wantGso && ProbeGso(handle);
            bool gro = wantGro && SetOption(handle, SocketInterop.SolUdp, SocketInterop.UdpGro, 1, required: false);
            return new UdpTunnelSocket(handle, gso, gro, bound);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public static void WriteSockAddr(Span<byte> sa, uint address, ushort port)
    {
        sa[..SocketInterop.SockAddrInSize].Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(sa, SocketInterop.AfInet);
        BinaryPrimitives.WriteUInt16BigEndian(sa[2..], port);
        BinaryPrimitives.WriteUInt32BigEndian(sa[4..], address);
    }

    public void Dispose() => Handle.Dispose();

    private static bool ProbeGso(FileDescriptorHandle handle)
    {
        int value = 0;
        uint length = sizeof(int);
        return SocketInterop.GetSockOpt(handle, SocketInterop.SolUdp, SocketInterop.UdpSegment, ref value, ref length) == 0;
    }

    private static bool SetOption(FileDescriptorHandle handle, int level, int name, int value, bool required)
    {
        if (SocketInterop.SetSockOpt(handle, level, name, ref value, sizeof(int)) == 0)
        {
            return true;
        }

        return required
            ? throw new Win32Exception(Marshal.GetLastPInvokeError(), $"setsockopt({level}, {name}) failed")
            : false;
    }
}
