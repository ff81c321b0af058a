using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Flannel.Linux.Tun;

namespace Flannel.Linux.Udp;

/// <summary>
/// Receives up to N messages per recvmmsg call into pinned buffers. With UDP_GRO a message may hold several
/// datagrams of the same size (the cmsg says which), which <see cref="SegmentSize"/> reports.
/// </summary>
public sealed class UdpBatchReceiver
{
    public const int BufferSize = 65536;
    private const int ControlSize = 64;

    private readonly FileDescriptorHandle _socket;
    private readonly byte[][] _buffers;
    private readonly byte[] _control;
    private readonly SocketInterop.IoVec[] _iov;
    private readonly SocketInterop.MMsgHdr[] _messages;

    public UdpBatchReceiver(FileDescriptorHandle socket, int batch, int bufferSize)
    {
        _socket = socket;
        _buffers = new byte[batch][];
        _control = GC.AllocateArray<byte>(batch * ControlSize, pinned: true);
        _iov = GC.AllocateArray<SocketInterop.IoVec>(batch, pinned: true);
        _messages = GC.AllocateArray<SocketInterop.MMsgHdr>(batch, pinned: true);
        for (int i = 0; i < batch; i++)
        {
            _buffers[i] = GC.AllocateArray<byte>(bufferSize, pinned: true);
            _iov[i].Base = Marshal.UnsafeAddrOfPinnedArrayElement(_buffers[i], 0);
            _iov[i].Length = (nuint)bufferSize;
            _messages[i].Header.Iov = Marshal.UnsafeAddrOfPinnedArrayElement(_iov, i);
            _messages[i].Header.IovLength = 1;
        }
    }

    public long ReceiveCalls { get; private set; }

    /// <summary>Receives what is queued without blocking. Returns the message count, or -errno (EAGAIN when empty).</summary>
    public int Receive()
    {
        for (int i = 0; i < _messages.Length; i++)
        {
            _messages[i].Header.Control = Marshal.UnsafeAddrOfPinnedArrayElement(_control, i * ControlSize);
            _messages[i].Header.ControlLength = ControlSize;
            _messages[i].Header.Flags = 0;
            _messages[i].Length = 0;
        }

        ReceiveCalls++;
        int n = SocketInterop.RecvMMsg(
            _socket, Marshal.UnsafeAddrOfPinnedArrayElement(_messages, 0), (uint)_messages.Length, SocketInterop.MsgDontWait, 0);
        return n >= 0 ? n : -Marshal.GetLastPInvokeError();
    }

    /// <summary>The pinned buffer message <paramref name="index"/> was received into (it starts at offset 0).</summary>
    public byte[] Buffer(int index) => _buffers[index];

    public Span<byte> Message(int index) => _buffers[index].AsSpan(0, (int)_messages[index].Length);

    public bool Truncated(int index) => (_messages[index].Header.Flags & SocketInterop.MsgTrunc) != 0;

    /// <summary>The size of each datagram in message <paramref name="index"/> (all but the last; the last may be shorter).</summary>
    public int SegmentSize(int index)
    {
        ReadOnlySpan<byte> control = _control.AsSpan(index * ControlSize, (int)_messages[index].Header.ControlLength);
        while (control.Length >= SocketInterop.CmsgHeaderSize)
        {
            int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(control);
            int level = BinaryPrimitives.ReadInt32LittleEndian(control[8..]);
            int type = BinaryPrimitives.ReadInt32LittleEndian(control[12..]);
            if (length < SocketInterop.CmsgHeaderSize || length > control.Length)
            {
                break;
            }

            if (level == SocketInterop.SolUdp && type == SocketInterop.UdpGro && length >= SocketInterop.CmsgHeaderSize + 2)
            {
                int size = BinaryPrimitives.ReadUInt16LittleEndian(control[SocketInterop.CmsgHeaderSize..]);
                return size > 0 ? size : (int)_messages[index].Length;
            }

            control = control[Math.Min(control.Length, (length + 7) & ~7)..];
        }

        return (int)_messages[index].Length;
    }
}
