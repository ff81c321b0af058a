using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;
using Flannel.Linux.Interop;

namespace Flannel.Linux.Netlink;

/// <summary>Turns one received message into a value, or says it is not one of ours.</summary>
internal delegate bool MessageParser<T>(in NetlinkMessage message, [MaybeNullWhen(false)] out T value);

/// <summary>The kernel's answer to one acknowledged request: errno 0 is success.</summary>
internal readonly record struct NetlinkAck(int Errno, string? Message);

/// <summary>
/// An AF_NETLINK/NETLINK_ROUTE socket owned by .NET's socket engine (async, cancellable), with the
/// request/acknowledge and dump protocols on top. Not thread-safe: <see cref="Rtnetlink"/> serialises use.
/// </summary>
internal sealed class NetlinkSocket : IDisposable
{
    // Dump datagrams are at most 32 KiB; acks are tiny. A generous buffer means we never see MSG_TRUNC.
    private const int ReceiveBufferLength = 256 * 1024;
    private const int SocketBufferBytes = 8 * 1024 * 1024;
    private const int MaxDumpAttempts = 10;

    private readonly Socket _socket;
    private readonly byte[] _receive = ArrayPool<byte>.Shared.Rent(ReceiveBufferLength);
    private uint _sequence;

    private NetlinkSocket(Socket socket, uint portId)
    {
        _socket = socket;
        PortId = portId;
        _sequence = (uint)Environment.TickCount;

        // Acks of one datagram's requests queue up in the receive buffer before we read any; each costs about
        // 1 KiB of buffer accounting (skb truesize). Stay well inside the buffer we actually got.
        _requestsPerDatagram = Math.Clamp(socket.ReceiveBufferSize / 2048, 16, 1024);
    }

    private readonly int _requestsPerDatagram;

    /// <summary>The port id the kernel assigned at bind; replies addressed elsewhere are rejected.</summary>
    public uint PortId { get; }

    /// <summary>Creates the socket in the calling thread's network namespace.</summary>
    public static unsafe NetlinkSocket Open(uint multicastGroups = 0)
    {
        int fd = Libc.Socket(Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, Libc.NETLINK_ROUTE);
        if (fd < 0)
        {
            throw Libc.LastError("socket(AF_NETLINK)");
        }

        var handle = new SafeSocketHandle(fd, ownsHandle: true);
        try
        {
            // sockaddr_nl { u16 family; u16 pad; u32 pid; u32 groups; }: pid 0 lets the kernel pick a unique port id.
            byte* address = stackalloc byte[12];
            new Span<byte>(address, 12).Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(new Span<byte>(address, 2), Libc.AF_NETLINK);
            BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>(address + 8, 4), multicastGroups);
            if (Libc.Bind(fd, address, 12) != 0)
            {
                throw Libc.LastError("bind(AF_NETLINK)");
            }

            int length = 12;
            if (Libc.GetSockName(fd, address, &length) != 0)
            {
                throw Libc.LastError("getsockname(AF_NETLINK)");
            }

            uint portId = BinaryPrimitives.ReadUInt32LittleEndian(new Span<byte>(address + 4, 4));
            var socket = new Socket(handle);
            Configure(socket);
            return new NetlinkSocket(socket, portId);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static void Configure(Socket socket)
    {
        Span<byte> one = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(one, 1);

        // Extended acks carry the kernel's reason text; capped acks do not echo our request back (pipelining).
        socket.SetRawSocketOption(Nl.SOL_NETLINK, Nl.NETLINK_EXT_ACK, one);
        socket.SetRawSocketOption(Nl.SOL_NETLINK, Nl.NETLINK_CAP_ACK, one);

        // Strict checking makes the kernel honour the filters in dump requests (table, ifindex).
        socket.SetRawSocketOption(Nl.SOL_NETLINK, Nl.NETLINK_GET_STRICT_CHK, one);

        // Pipelined batches queue one ack per request; room for them avoids ENOBUFS. SO_RCVBUFFORCE needs
        // CAP_NET_ADMIN, which flanneld has; fall back to the capped SO_RCVBUF otherwise.
        Span<byte> size = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(size, SocketBufferBytes);
        try
        {
            socket.SetRawSocketOption(1 /* SOL_SOCKET */, 33 /* SO_RCVBUFFORCE */, size);
        }
        catch (SocketException)
        {
            socket.ReceiveBufferSize = SocketBufferBytes;
        }
    }

    /// <summary>Reserves <paramref name="count"/> consecutive sequence numbers and returns the first.</summary>
    public uint NextSequence(int count = 1)
    {
        uint first = _sequence + 1;
        _sequence += (uint)count;
        return first;
    }

    public async Task SendAsync(ReadOnlyMemory<byte> datagram, CancellationToken cancellationToken)
    {
        int sent = await _socket.SendAsync(datagram, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        if (sent != datagram.Length)
        {
            throw new NetlinkProtocolException($"netlink send wrote {sent} of {datagram.Length} bytes");
        }
    }

    /// <summary>
    /// Receives one datagram into the socket's buffer. The kernel queues each ack as a datagram of its own, so a batch
    /// of 10,000 requests takes 10,000 receives, most already queued: a ValueTask completes those without allocating.
    /// </summary>
    public ValueTask<int> ReceiveAsync(CancellationToken cancellationToken) =>
        _socket.ReceiveAsync(_receive.AsMemory(), SocketFlags.None, cancellationToken);

    public ReadOnlySpan<byte> Received(int length) => _receive.AsSpan(0, length);

    /// <summary>
    /// Sends requests that each asked for an ack (sequence numbers <paramref name="firstSequence"/> onward, in order)
    /// in as few datagrams as possible, then collects every ack. Returns one ack per request.
    /// </summary>
    public async Task<NetlinkAck[]> ExecuteAsync(
        NetlinkBuffer buffer, IReadOnlyList<int> messageOffsets, uint firstSequence, CancellationToken cancellationToken)
    {
        const int MaxDatagram = 64 * 1024;
        int maxPerDatagram = _requestsPerDatagram;
        var acks = new NetlinkAck[messageOffsets.Count];
        var received = new bool[messageOffsets.Count];
        int start = 0;
        while (start < messageOffsets.Count)
        {
            int end = start + 1;
            while (end < messageOffsets.Count && end - start < maxPerDatagram && OffsetOf(end + 1) - messageOffsets[start] <= MaxDatagram)
            {
                end++;
            }

            await SendAsync(buffer.Slice(messageOffsets[start], OffsetOf(end) - messageOffsets[start]), cancellationToken).ConfigureAwait(false);
            int outstanding = end - start;
            while (outstanding > 0)
            {
                int length = await ReceiveAsync(cancellationToken).ConfigureAwait(false);
                outstanding -= CollectAcks(Received(length), firstSequence, start, end, acks, received);
            }

            start = end;
        }

        return acks;

        int OffsetOf(int index) => index < messageOffsets.Count ? messageOffsets[index] : buffer.Length;
    }

    private int CollectAcks(ReadOnlySpan<byte> datagram, uint firstSequence, int start, int end, NetlinkAck[] acks, bool[] received)
    {
        int count = 0;
        var reader = new NetlinkMessageReader(datagram);
        while (reader.TryRead(out NetlinkMessage message))
        {
            if (message.Type != Nl.NLMSG_ERROR || message.PortId != PortId)
            {
                continue;
            }

            int index = (int)(message.Sequence - firstSequence);
            if (index < start || index >= end || received[index])
            {
                // An answer to an earlier, cancelled request: not ours to count.
                continue;
            }

            received[index] = true;
            acks[index] = ParseError(message);
            count++;
        }

        return count;
    }

    /// <summary>Sends one request without an ack flag and returns the kernel's single reply, parsed.</summary>
    public async Task<(T? Value, NetlinkAck Error)> QueryAsync<T>(
        NetlinkBuffer request, uint sequence, MessageParser<T> parse, CancellationToken cancellationToken)
    {
        await SendAsync(request.Memory, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            int length = await ReceiveAsync(cancellationToken).ConfigureAwait(false);
            if (TryTakeReply(Received(length), sequence, parse, out T? value, out NetlinkAck error))
            {
                return (value, error);
            }
        }
    }

    private bool TryTakeReply<T>(ReadOnlySpan<byte> datagram, uint sequence, MessageParser<T> parse, out T? value, out NetlinkAck error)
    {
        value = default;
        error = default;
        var reader = new NetlinkMessageReader(datagram);
        while (reader.TryRead(out NetlinkMessage message))
        {
            if (message.Sequence != sequence || message.PortId != PortId)
            {
                continue;
            }

            if (message.Type == Nl.NLMSG_ERROR)
            {
                error = ParseError(message);
                if (error.Errno == 0)
                {
                    continue;
                }

                return true;
            }

            if (!parse(message, out T? parsed))
            {
                throw new NetlinkProtocolException($"unexpected reply (type {message.Type}, {message.Payload.Length} bytes) to request {sequence}");
            }

            value = parsed;
            return true;
        }

        return false;
    }

    /// <summary>
    /// Sends a dump request and passes each item to <paramref name="each"/> as it is parsed, keeping none (a table of
    /// 10,000 routes is never held whole). A dump the kernel marks interrupted (the table changed meanwhile) is read
    /// again, <paramref name="restart"/> called first; after MaxDumpAttempts interrupted dumps the last one stands: a
    /// busy table is still better read than not.
    /// </summary>
    public async Task<NetlinkAck> DumpAsync<T>(
        NetlinkBuffer request, MessageParser<T> parse, Action<T> each, Action? restart, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            uint sequence = NextSequence();
            BinaryPrimitives.WriteUInt32LittleEndian(request.At(8, 4), sequence);
            await SendAsync(request.Memory, cancellationToken).ConfigureAwait(false);
            var state = new DumpState();
            while (!state.Done)
            {
                int length = await ReceiveAsync(cancellationToken).ConfigureAwait(false);
                CollectDump(Received(length), sequence, parse, each, ref state);
            }

            if (state.Error.Errno != 0 || !state.Interrupted || attempt == MaxDumpAttempts)
            {
                return state.Error;
            }

            restart?.Invoke();
        }
    }

    internal struct DumpState
    {
        public bool Done;
        public bool Interrupted;
        public NetlinkAck Error;
    }

    private void CollectDump<T>(ReadOnlySpan<byte> datagram, uint sequence, MessageParser<T> parse, Action<T> each, ref DumpState state) =>
        CollectDump(datagram, PortId, sequence, parse, each, ref state);

    /// <summary>Takes one datagram of a dump: our messages are parsed, others skipped; DONE or ERROR ends it.</summary>
    internal static void CollectDump<T>(ReadOnlySpan<byte> datagram, uint portId, uint sequence, MessageParser<T> parse, Action<T> each, ref DumpState state)
    {
        var reader = new NetlinkMessageReader(datagram);
        while (reader.TryRead(out NetlinkMessage message))
        {
            if (message.Sequence != sequence || message.PortId != portId)
            {
                continue;
            }

            if ((message.Flags & Nl.NLM_F_DUMP_INTR) != 0)
            {
                state.Interrupted = true;
            }

            switch (message.Type)
            {
                case Nl.NLMSG_DONE:
                    // A dump that fails part-way reports a negative errno in NLMSG_DONE's payload.
                    int status = message.Payload.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(message.Payload) : 0;
                    if (status < 0)
                    {
                        state.Error = new NetlinkAck(-status, ExtendedMessage(message.Payload[4..], message.Flags));
                    }

                    state.Done = true;
                    return;
                case Nl.NLMSG_ERROR:
                    state.Error = ParseError(message);
                    state.Done = true;
                    return;
                default:
                    if (parse(message, out T? item))
                    {
                        each(item);
                    }

                    break;
            }
        }
    }

    /// <summary>Reads struct nlmsgerr: a negative errno, the offending header (capped) or request, then ack TLVs.</summary>
    internal static NetlinkAck ParseError(in NetlinkMessage message)
    {
        ReadOnlySpan<byte> payload = message.Payload;
        if (payload.Length < 4)
        {
            throw new NetlinkProtocolException("netlink error message shorter than its errno");
        }

        int errno = -BinaryPrimitives.ReadInt32LittleEndian(payload);
        int echoed = Nl.HeaderLength;
        if ((message.Flags & Nl.NLM_F_CAPPED) == 0 && payload.Length >= 8)
        {
            echoed = (int)BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]);
        }

        int tlvStart = 4 + NetlinkWriter.Align(echoed);
        string? text = tlvStart <= payload.Length ? ExtendedMessage(payload[tlvStart..], message.Flags) : null;
        return new NetlinkAck(errno, text);
    }

    private static string? ExtendedMessage(ReadOnlySpan<byte> tlvs, ushort flags)
    {
        if ((flags & Nl.NLM_F_ACK_TLVS) == 0)
        {
            return null;
        }

        var attributes = new NetlinkAttributeReader(tlvs);
        while (attributes.MoveNext())
        {
            if (attributes.Type == Nl.NLMSGERR_ATTR_MSG)
            {
                return attributes.String();
            }
        }

        return null;
    }

    public void Dispose()
    {
        _socket.Dispose();
        ArrayPool<byte>.Shared.Return(_receive);
    }
}
