using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Text;
using Flannel.Linux.Packets;

namespace Flannel.Linux.Tun;

/// <summary>
/// A layer-3 TUN device (IFF_TUN | IFF_NO_PI), optionally with virtio_net_hdr offloads and several queues.
/// The device lives in the network namespace of the thread that opens it and disappears when disposed
/// (it is not persistent). Descriptors are non-blocking; wait for readiness with poll.
/// </summary>
public sealed class TunDevice : IDisposable
{
    private const string ClonePath = "/dev/net/tun";
    private const TunOffloads WantedOffloads = TunOffloads.Checksum | TunOffloads.Tso4 | TunOffloads.Tso6;

    // Well below UIO_MAXIOV (1024), and enough for a 64-segment super-segment plus its header.
    private const int MaxGatherPieces = 128;

    private readonly FileDescriptorHandle[] _queues;

    private TunDevice(string name, FileDescriptorHandle[] queues, TunOffloads offloads)
    {
        Name = name;
        _queues = queues;
        Offloads = offloads;
    }

    public string Name { get; }

    /// <summary>Offloads in effect; when not <see cref="TunOffloads.None"/> every read and write carries a virtio_net_hdr.</summary>
    public TunOffloads Offloads { get; }

    public bool HasVnetHeader => Offloads != TunOffloads.None;

    public int QueueCount => _queues.Length;

    public FileDescriptorHandle Queue(int index) => _queues[index];

    /// <summary>Creates the device in the calling thread's network namespace.</summary>
    public static TunDevice Open(TunOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Name.Length == 0 || Encoding.UTF8.GetByteCount(options.Name) >= TunInterop.IfNameSize)
        {
            throw new ArgumentException($"TUN name '{options.Name}' must be 1 to 15 bytes.", nameof(options));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(options.Queues, 1);
        if (options.Offload && TryOpen(options, offload: true) is { } offloaded)
        {
            return offloaded;
        }

        return TryOpen(options, offload: false)
            ?? throw new InvalidOperationException($"Cannot open TUN device '{options.Name}'.");
    }

    /// <summary>Reads one packet (with its virtio_net_hdr when <see cref="HasVnetHeader"/>). Returns its length or -errno.</summary>
    public int Read(int queue, Span<byte> buffer)
    {
        nint n = TunInterop.Read(_queues[queue], ref MemoryMarshal.GetReference(buffer), (nuint)buffer.Length);
        return n >= 0 ? (int)n : -Marshal.GetLastPInvokeError();
    }

    /// <summary>Writes one packet (with its virtio_net_hdr when <see cref="HasVnetHeader"/>). Returns bytes written or -errno.</summary>
    public int Write(int queue, ReadOnlySpan<byte> packet)
    {
        nint n = TunInterop.Write(_queues[queue], ref MemoryMarshal.GetReference(packet), (nuint)packet.Length);
        return n >= 0 ? (int)n : -Marshal.GetLastPInvokeError();
    }

    /// <summary>
    /// Writes one packet given as pieces in pinned arrays (see <see cref="PacketSlice"/>), with one writev: the
    /// kernel copies each piece straight into the packet it builds. Returns bytes written or -errno.
    /// </summary>
    public int WriteGathered(int queue, ReadOnlySpan<PacketSlice> pieces)
    {
        if (pieces.Length > MaxGatherPieces)
        {
            throw new ArgumentOutOfRangeException(nameof(pieces), pieces.Length, $"at most {MaxGatherPieces} pieces per write");
        }

        Span<Udp.SocketInterop.IoVec> iov = stackalloc Udp.SocketInterop.IoVec[pieces.Length];
        for (int i = 0; i < pieces.Length; i++)
        {
            iov[i].Base = Marshal.UnsafeAddrOfPinnedArrayElement(pieces[i].Array, pieces[i].Offset);
            iov[i].Length = (nuint)pieces[i].Length;
        }

        nint n = TunInterop.WriteV(_queues[queue], ref MemoryMarshal.GetReference(iov), iov.Length);
        return n >= 0 ? (int)n : -Marshal.GetLastPInvokeError();
    }

    /// <summary>Writes a bare IP packet, adding an empty virtio_net_hdr when the device expects one.</summary>
    public int WritePacket(int queue, ReadOnlySpan<byte> packet)
    {
        if (!HasVnetHeader)
        {
            return Write(queue, packet);
        }

        Span<byte> framed = stackalloc byte[VirtioNetHeader.Size + IcmpError.MaxLength];
        if (packet.Length > IcmpError.MaxLength)
        {
            framed = new byte[VirtioNetHeader.Size + packet.Length];
        }

        framed[..VirtioNetHeader.Size].Clear();
        packet.CopyTo(framed[VirtioNetHeader.Size..]);
        int n = Write(queue, framed[..(VirtioNetHeader.Size + packet.Length)]);
        return n > 0 ? n - VirtioNetHeader.Size : n;
    }

    public void Dispose()
    {
        foreach (FileDescriptorHandle q in _queues)
        {
            q.Dispose();
        }
    }

    private static TunDevice? TryOpen(TunOptions options, bool offload)
    {
        short flags = TunInterop.IffTun | TunInterop.IffNoPi;
        if (offload)
        {
            flags |= TunInterop.IffVnetHdr;
        }

        if (options.Queues > 1)
        {
            flags |= TunInterop.IffMultiQueue;
        }

        var queues = new List<FileDescriptorHandle>();
        string name = options.Name;
        try
        {
            for (int i = 0; i < options.Queues; i++)
            {
                FileDescriptorHandle fd = OpenClone();
                queues.Add(fd);
                if (offload && i == 0 && (Features(fd) & TunInterop.IffVnetHdr) == 0)
                {
                    return null;
                }

                name = SetInterface(fd, name, flags);
                if (offload)
                {
                    int size = VirtioNetHeader.Size;
                    Check(TunInterop.Ioctl(fd, TunInterop.TunSetVnetHdrSz, ref size), "TUNSETVNETHDRSZ");
                    if (TunInterop.Ioctl(fd, TunInterop.TunSetOffload, (nuint)WantedOffloads) != 0)
                    {
                        int errno = Marshal.GetLastPInvokeError();
                        if (errno == TunInterop.EInvalid)
                        {
                            return null;
                        }

                        throw new Win32Exception(errno, $"TUNSETOFFLOAD on '{name}' failed");
                    }
                }
            }

            var device = new TunDevice(name, [.. queues], offload ? WantedOffloads : TunOffloads.None);
            queues.Clear();
            return device;
        }
        finally
        {
            foreach (FileDescriptorHandle q in queues)
            {
                q.Dispose();
            }
        }
    }

    private static FileDescriptorHandle OpenClone()
    {
        int fd = TunInterop.Open(ClonePath, TunInterop.ORdwr | TunInterop.ONonblock | TunInterop.OCloexec);
        if (fd < 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), $"Cannot open {ClonePath}");
        }

        return new FileDescriptorHandle(fd);
    }

    private static int Features(FileDescriptorHandle fd)
    {
        int features = 0;
        Check(TunInterop.Ioctl(fd, TunInterop.TunGetFeatures, ref features), "TUNGETFEATURES");
        return features;
    }

    private static string SetInterface(FileDescriptorHandle fd, string name, short flags)
    {
        Span<byte> ifr = stackalloc byte[TunInterop.IfReqSize];
        ifr.Clear();
        Encoding.UTF8.GetBytes(name, ifr);
        MemoryMarshal.Write(ifr[TunInterop.IfNameSize..], in flags);
        if (TunInterop.Ioctl(fd, TunInterop.TunSetIff, ref MemoryMarshal.GetReference(ifr)) != 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), $"TUNSETIFF for '{name}' failed");
        }

        int end = ifr[..TunInterop.IfNameSize].IndexOf((byte)0);
        return Encoding.UTF8.GetString(ifr[..(end < 0 ? TunInterop.IfNameSize : end)]);
    }

    private static void Check(int result, string what)
    {
        if (result != 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), $"{what} failed");
        }
    }
}
