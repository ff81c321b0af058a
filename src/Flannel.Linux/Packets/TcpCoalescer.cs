using System.Buffers.Binary;

namespace Flannel.Linux.Packets;

/// <summary>
/// Software GRO for the TUN write side: collects IPv4 packets received in one batch and merges consecutive
/// in-order TCP segments of a flow into one super-segment, described by a virtio_net_hdr (GSO_TCPV4, partial
/// checksum) so the kernel takes many segments in one TUN write. Everything else is kept as it came, in order.
/// Merge rules follow the kernel's tcp_gro_receive: same addresses, ports, TOS, TTL, IP flags, ACK, window and
/// TCP options; contiguous sequence numbers; only ACK (PSH on the last) set; a shorter or PSH segment ends the run.
/// Payloads are not copied: an item is its own header (virtio_net_hdr + the first packet's IP and TCP headers)
/// followed by slices of the packets added, for one gather write. Buffers are allocated once; <see cref="Add"/>
/// never allocates.
/// </summary>
public sealed class TcpCoalescer
{
    public const int MaxPacket = 65535;

    /// <summary>Segments per item: the kernel's own GRO stops at 64 too.</summary>
    public const int MaxSegments = 64;

    private readonly Item[] _items;
    private readonly bool _merge;

    public TcpCoalescer(int capacity, bool merge = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _items = new Item[capacity];
        for (int i = 0; i < capacity; i++)
        {
            _items[i] = new Item();
        }

        _merge = merge;
    }

    /// <summary>Number of packets (merged or not) waiting to be written.</summary>
    public int Count { get; private set; }

    /// <summary>How many input packets were merged into an earlier one since the last <see cref="Clear"/>.</summary>
    public int Merged { get; private set; }

    /// <summary>
    /// Takes the validated IPv4 packet at <paramref name="buffer"/>[<paramref name="offset"/>..] by reference: its
    /// bytes must stay as they are until <see cref="Clear"/>. Returns false when the batch is full: drain it with
    /// <see cref="Get"/>/<see cref="Clear"/> and add again.
    /// </summary>
    public bool Add(byte[] buffer, int offset, int length)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        ReadOnlySpan<byte> packet = buffer.AsSpan(offset, length);
        FlowKey key = FlowKey.Of(packet, out bool mergeable);
        if (_merge && mergeable && key.IsTcp)
        {
            // Only the flow's most recent item may grow: appending to an older one would reorder the flow.
            for (int i = Count - 1; i >= 0 && i >= Count - 16; i--)
            {
                Item item = _items[i];
                if (item.Key == key)
                {
                    if (item.TryAppend(buffer, offset, length))
                    {
                        Merged++;
                        return true;
                    }

                    break;
                }
            }
        }

        if (Count == _items.Length)
        {
            return false;
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, MaxPacket);

        _items[Count++].Start(buffer, offset, length, key, _merge && mergeable);
        return true;
    }

    /// <summary>
    /// Item <paramref name="index"/> as the pieces of one virtio_net_hdr + packet frame, in order, ready for a gather
    /// write to a TUN opened with IFF_VNET_HDR.
    /// </summary>
    public ReadOnlySpan<PacketSlice> Get(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return _items[index].Finish();
    }

    /// <summary>How many input packets item <paramref name="index"/> holds.</summary>
    public int Segments(int index) => _items[index].Segments;

    public void Clear()
    {
        Count = 0;
        Merged = 0;
    }

    private readonly record struct FlowKey(uint Source, uint Destination, uint Ports, bool IsTcp)
    {
        public static FlowKey Of(ReadOnlySpan<byte> p, out bool mergeable)
        {
            mergeable = false;
            if (p.Length < Ipv4.MinHeaderLength || Ipv4.Protocol(p) != Ipv4.ProtocolTcp || Ipv4.IsFragment(p))
            {
                return default;
            }

            int ihl = Ipv4.HeaderLength(p);
            if (p.Length < ihl + Tcp.MinHeaderLength)
            {
                return default;
            }

            ReadOnlySpan<byte> tcp = p[ihl..];
            int thl = Tcp.HeaderLength(tcp);
            mergeable = ihl == Ipv4.MinHeaderLength
                && thl >= Tcp.MinHeaderLength
                && p.Length > ihl + thl
                && (Tcp.Flags(tcp) & ~Tcp.Psh) == Tcp.Ack;
            return new FlowKey(Ipv4.Source(p), Ipv4.Destination(p), BinaryPrimitives.ReadUInt32BigEndian(tcp), true);
        }
    }

    private sealed class Item
    {
        // virtio_net_hdr + a 20-byte IPv4 header + a TCP header with the most options (60).
        private const int HeadSize = VirtioNetHeader.Size + Ipv4.MinHeaderLength + 60;

        private readonly byte[] _head = GC.AllocateArray<byte>(HeadSize, pinned: true);
        private readonly PacketSlice[] _pieces = new PacketSlice[MaxSegments + 1];
        private int _pieceCount;
        private int _length;
        private int _headers;
        private int _gsoSize;
        private uint _nextSeq;
        private bool _open;

        public FlowKey Key { get; private set; }

        public int Segments { get; private set; }

        private Span<byte> Headers => _head.AsSpan(VirtioNetHeader.Size, _headers);

        public void Start(byte[] buffer, int offset, int length, FlowKey key, bool mergeable)
        {
            ReadOnlySpan<byte> packet = buffer.AsSpan(offset, length);
            _length = length;
            Key = key;
            Segments = 1;
            _open = false;
            _headers = 0;
            if (mergeable)
            {
                ReadOnlySpan<byte> tcp = packet[Ipv4.MinHeaderLength..];
                _headers = Ipv4.MinHeaderLength + Tcp.HeaderLength(tcp);
                _gsoSize = length - _headers;
                _nextSeq = Tcp.Sequence(tcp) + (uint)_gsoSize;
                _open = (Tcp.Flags(tcp) & Tcp.Psh) == 0;
                packet[.._headers].CopyTo(Headers);
            }

            _pieces[1] = new PacketSlice(buffer, offset + _headers, length - _headers);
            _pieceCount = 2;
        }

        public bool TryAppend(byte[] buffer, int offset, int length)
        {
            if (!_open || _pieceCount == _pieces.Length)
            {
                return false;
            }

            ReadOnlySpan<byte> p = buffer.AsSpan(offset, length);
            Span<byte> head = Headers;
            ReadOnlySpan<byte> tcp = p[Ipv4.MinHeaderLength..];
            int payload = length - _headers;
            if (Tcp.HeaderLength(tcp) + Ipv4.MinHeaderLength != _headers
                || payload > _gsoSize
                || _length + payload > MaxPacket
                || Tcp.Sequence(tcp) != _nextSeq
                || p[1] != head[1] // TOS (ECN marks)
                || p[Ipv4.TtlOffset] != head[Ipv4.TtlOffset]
                || Ipv4.FlagsAndOffset(p) != Ipv4.FlagsAndOffset(head))
            {
                return false;
            }

            // Ack, data offset, window, and all options must match; sequence, flags and checksum may differ.
            ReadOnlySpan<byte> headTcp = head[Ipv4.MinHeaderLength..];
            if (!tcp[8..13].SequenceEqual(headTcp[8..13])
                || !tcp[14..16].SequenceEqual(headTcp[14..16])
                || !tcp[Tcp.MinHeaderLength..(_headers - Ipv4.MinHeaderLength)].SequenceEqual(headTcp[Tcp.MinHeaderLength..]))
            {
                return false;
            }

            _pieces[_pieceCount++] = new PacketSlice(buffer, offset + _headers, payload);
            _length += payload;
            _nextSeq += (uint)payload;
            Segments++;
            if ((Tcp.Flags(tcp) & Tcp.Psh) != 0)
            {
                head[Ipv4.MinHeaderLength + Tcp.FlagsOffset] |= Tcp.Psh;
                _open = false;
            }
            else if (payload < _gsoSize)
            {
                _open = false;
            }

            return true;
        }

        public ReadOnlySpan<PacketSlice> Finish()
        {
            if (Segments == 1)
            {
                default(VirtioNetHeader).Write(_head);
            }
            else
            {
                Span<byte> packet = Headers;
                Ipv4.SetTotalLength(packet, _length);
                Ipv4.UpdateChecksum(packet);

                // CHECKSUM_PARTIAL: the kernel expects the uncomplemented pseudo-header sum in the checksum field.
                uint pseudo = InternetChecksum.PseudoHeaderSum(
                    Ipv4.Source(packet), Ipv4.Destination(packet), Ipv4.ProtocolTcp, _length - Ipv4.MinHeaderLength);
                BinaryPrimitives.WriteUInt16BigEndian(packet[(Ipv4.MinHeaderLength + Tcp.ChecksumOffset)..], (ushort)pseudo);
                new VirtioNetHeader(
                    VirtioNetHeader.FlagNeedsChecksum,
                    VirtioNetHeader.GsoTcpV4,
                    (ushort)_headers,
                    (ushort)_gsoSize,
                    Ipv4.MinHeaderLength,
                    Tcp.ChecksumOffset).Write(_head);
                _open = false;
            }

            _pieces[0] = new PacketSlice(_head, 0, VirtioNetHeader.Size + _headers);
            return _pieces.AsSpan(0, _pieceCount);
        }
    }
}
