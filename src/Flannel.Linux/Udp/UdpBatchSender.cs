using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Flannel.Linux.Tun;

namespace Flannel.Linux.Udp;

/// <summary>
/// Sends runs of equally sized datagrams to one next hop: with UDP_SEGMENT as one sendmsg per 64 datagrams,
/// otherwise one sendmsg per datagram. The datagrams are either contiguous (<see cref="Send"/>) or gathered from
/// separate headers and payload slices (<see cref="SendGathered"/>), which saves copying the payload in userspace.
/// One per sending thread; its message structures are pinned once.
/// </summary>
public sealed class UdpBatchSender
{
    // UDP_MAX_SEGMENTS in older kernels; and a GSO send must fit one 64 KiB IP packet.
    private const int MaxSegmentsPerSend = 64;
    private const int MaxBytesPerSend = 65000;

    private readonly FileDescriptorHandle _socket;
    private readonly byte[] _address = GC.AllocateArray<byte>(SocketInterop.SockAddrInSize, pinned: true);
    private readonly byte[] _control = GC.AllocateArray<byte>(24, pinned: true);
    private readonly SocketInterop.IoVec[] _iov = GC.AllocateArray<SocketInterop.IoVec>(2 * MaxSegmentsPerSend, pinned: true);
    private readonly SocketInterop.MsgHdr[] _message = GC.AllocateArray<SocketInterop.MsgHdr>(1, pinned: true);

    public UdpBatchSender(FileDescriptorHandle socket, bool gso)
    {
        _socket = socket;
        GsoEnabled = gso;
        _message[0].Name = Marshal.UnsafeAddrOfPinnedArrayElement(_address, 0);
        _message[0].NameLength = SocketInterop.SockAddrInSize;
        _message[0].Iov = Marshal.UnsafeAddrOfPinnedArrayElement(_iov, 0);
        _message[0].IovLength = 1;

        // cmsghdr{len = CMSG_LEN(2), SOL_UDP, UDP_SEGMENT} + u16 segment size, padded to CMSG_SPACE(2).
        BinaryPrimitives.WriteUInt64LittleEndian(_control, SocketInterop.CmsgHeaderSize + 2);
        BinaryPrimitives.WriteInt32LittleEndian(_control.AsSpan(8), SocketInterop.SolUdp);
        BinaryPrimitives.WriteInt32LittleEndian(_control.AsSpan(12), SocketInterop.UdpSegment);
    }

    /// <summary>False after the kernel refused a GSO send (e.g. an egress device without checksum offload).</summary>
    public bool GsoEnabled { get; private set; }

    public long SendCalls { get; private set; }

    /// <summary>
    /// Sends <paramref name="data"/> (pinned memory) as datagrams of <paramref name="segmentLength"/> bytes (the last
    /// may be shorter). Returns the number of datagrams the kernel accepted; <paramref name="errno"/> is the last error.
    /// </summary>
    public int Send(byte[] data, int offset, int length, int segmentLength, uint address, ushort port, out int errno)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(segmentLength, 1);
        errno = 0;
        UdpTunnelSocket.WriteSockAddr(_address, address, port);
        int sent = 0;
        int end = offset + length;
        while (offset < end)
        {
            int chunk = Math.Min(SegmentsPerSend(segmentLength) * segmentLength, end - offset);
            int chunkSegments = (chunk + segmentLength - 1) / segmentLength;
            _iov[0].Base = Marshal.UnsafeAddrOfPinnedArrayElement(data, offset);
            _iov[0].Length = (nuint)chunk;
            if (!Sent(SendOne(1, chunkSegments > 1 ? segmentLength : 0), chunkSegments, ref sent, ref errno))
            {
                continue;
            }

            offset += chunk;
        }

        return sent;
    }

    /// <summary>
    /// Sends <paramref name="count"/> datagrams, datagram i being header i (<paramref name="headerLength"/> bytes at
    /// <c>headers[i * headerLength]</c>) followed by payload slice i (<paramref name="mss"/> bytes at
    /// <c>payload[payloadOffset + i * mss]</c>, the last one <paramref name="lastPayloadLength"/>). Both arrays pinned.
    /// Returns the number of datagrams the kernel accepted; <paramref name="errno"/> is the last error.
    /// </summary>
    public int SendGathered(
        byte[] headers, int headerLength, byte[] payload, int payloadOffset, int mss, int lastPayloadLength, int count, uint address, ushort port, out int errno)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(mss, 1);
        errno = 0;
        UdpTunnelSocket.WriteSockAddr(_address, address, port);
        int sent = 0;
        int segmentLength = headerLength + mss;
        for (int first = 0; first < count;)
        {
            int chunkSegments = Math.Min(SegmentsPerSend(segmentLength), count - first);
            for (int k = 0; k < chunkSegments; k++)
            {
                int i = first + k;
                _iov[2 * k].Base = Marshal.UnsafeAddrOfPinnedArrayElement(headers, i * headerLength);
                _iov[2 * k].Length = (nuint)headerLength;
                _iov[(2 * k) + 1].Base = Marshal.UnsafeAddrOfPinnedArrayElement(payload, payloadOffset + (i * mss));
                _iov[(2 * k) + 1].Length = (nuint)(i == count - 1 ? lastPayloadLength : mss);
            }

            if (!Sent(SendOne(2 * chunkSegments, chunkSegments > 1 ? segmentLength : 0), chunkSegments, ref sent, ref errno))
            {
                continue;
            }

            first += chunkSegments;
        }

        return sent;
    }

    private int SegmentsPerSend(int segmentLength) =>
        GsoEnabled ? Math.Clamp(MaxBytesPerSend / segmentLength, 1, MaxSegmentsPerSend) : 1;

    /// <summary>Accounts one sendmsg; false when it must be retried because GSO has just been switched off.</summary>
    private bool Sent(int result, int segments, ref int sent, ref int errno)
    {
        if (result == 0)
        {
            sent += segments;
            return true;
        }

        if (segments > 1 && (result == Errno.EIo || result == Errno.EInvalid))
        {
            // The kernel cannot segment for this route after all: send one by one from now on.
            GsoEnabled = false;
            return false;
        }

        errno = result;
        return true;
    }

    private int SendOne(int iovCount, int gsoSize)
    {
        _message[0].IovLength = (nuint)iovCount;
        if (gsoSize > 0)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(_control.AsSpan(SocketInterop.CmsgHeaderSize), (ushort)gsoSize);
            _message[0].Control = Marshal.UnsafeAddrOfPinnedArrayElement(_control, 0);
            _message[0].ControlLength = (nuint)_control.Length;
        }
        else
        {
            _message[0].Control = 0;
            _message[0].ControlLength = 0;
        }

        SendCalls++;
        while (true)
        {
            nint n = SocketInterop.SendMsg(_socket, Marshal.UnsafeAddrOfPinnedArrayElement(_message, 0), 0);
            if (n >= 0)
            {
                return 0;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EIntr)
            {
                return errno;
            }
        }
    }
}
