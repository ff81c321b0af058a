using System.Buffers.Binary;

namespace Flannel.Linux.Packets;

/// <summary>
/// Software GRO for the TUN write side: collects IPv4 packets received in one batch and merges consecutive
/// in-order TCP segments of a flow into one super-segment, described by a virtio_net_hdr (GSO_TCPV4, partial
/// checksum) so the kernel takes many segments in one TUN write. Everything else is kept as it came, in order.
/// Merge rules follow the kernel's tcp_gro_receive: same addresses, ports, TOS, TTL, IP flags, ACK, window and
/// TCP options; contiguous sequence numbers; only ACK (PSH on the last) set; a shorter or PSH segment ends the run.
/// Buffers are allocated once; <see cref="Add"/> never allocates.
/// </summary>
public sealed class TcpCoalescer
{
    public const int MaxPacket = 65535;

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
    /// Takes a copy of <paramref name="packet"/> (a validated IPv4 packet). Returns false when the batch is full:
    /// drain it with <see cref="Get"/>/<see cref="Clear"/> and add again.
    /// </summary>
    public bool Add(ReadOnlySpan<byte> packet)
    {
        FlowKey key = FlowKey.Of(packet, out bool mergeable);
        if (_merge && mergeable && key.IsTcp)
        {
            // Only the flow's most recent item may grow: appending to an older one would reorder the flow.
            for (int i = Count - 1; i >= 0 && i >= Count - 16; i--)
            {
                Item item = _items[i];
                if (item.Key == key)
                {
                    if (item.TryAppend(packet))
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

        ArgumentOutOfRangeException.ThrowIfGreaterThan(packet.Length, MaxPacket);

        _items[Count++].Start(packet, key, _merge && mergeable);
        return true;
    }

    /// <summary>Item <paramref name="index"/> as virtio_net_hdr + packet, ready for a TUN opened with IFF_VNET_HDR.</summary>
    public ReadOnlySpan<byte> Get(int index)
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
        private readonly byte[] _buffer = new byte[VirtioNetHeader.Size + MaxPacket];
        private int _length;
        private int _headers;
        private int _gsoSize;
        private uint _nextSeq;
        private bool _open;

        public FlowKey Key { get; private set; }

        public int Segments { get; private set; }

        private Span<byte> Packet => _buffer.AsSpan(VirtioNetHeader.Size, _length);

        public void Start(ReadOnlySpan<byte> packet, FlowKey key, bool mergeable)
        {
            packet.CopyTo(_buffer.AsSpan(VirtioNetHeader.Size));
            _length = packet.Length;
            Key = key;
            Segments = 1;
            _open = mergeable;
            if (mergeable)
            {
                ReadOnlySpan<byte> tcp = packet[Ipv4.MinHeaderLength..];
                _headers = Ipv4.MinHeaderLength + Tcp.HeaderLength(tcp);
                _gsoSize = packet.Length - _headers;
                _nextSeq = Tcp.Sequence(tcp) + (uint)_gsoSize;
                _open = (Tcp.Flags(tcp) & Tcp.Psh) == 0;
            }
        }

        public bool TryAppend(ReadOnlySpan<byte> p)
        {
            if (!_open)
            {
                return false;
            }

            Span<byte> head = Packet;
            ReadOnlySpan<byte> tcp = p[Ipv4.MinHeaderLength..];
            int payload = p.Length - _headers;
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
            ReadOnlySpan<byte> headTcp = head[Ipv4.MinHeaderLength.._headers];
            if (!tcp[8..13].SequenceEqual(headTcp[8..13])
                || !tcp[14..16].SequenceEqual(headTcp[14..16])
                || !tcp[Tcp.MinHeaderLength..(_headers - Ipv4.MinHeaderLength)].SequenceEqual(headTcp[Tcp.MinHeaderLength..]))
            {
                return false;
            }

            p[_headers..].CopyTo(_buffer.AsSpan(VirtioNetHeader.Size + _length));
            _length += payload;
            _nextSeq += (uint)payload;
            Segments++;
            if ((Tcp.Flags(tcp) & Tcp.Psh) != 0)
            {
                _buffer[VirtioNetHeader.Size + Ipv4.MinHeaderLength + Tcp.FlagsOffset] |= Tcp.Psh;
                _open = false;
            }
            else if (payload < _gsoSize)
            {
                _open = false;
            }

            return true;
        }

        public ReadOnlySpan<byte> Finish()
        {
            Span<byte> packet = Packet;
            if (Segments == 1)
            {
                default(VirtioNetHeader).Write(_buffer);
            }
            else
            {
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
                    Tcp.ChecksumOffset).Write(_buffer);
                _open = false;
            }

            return _buffer.AsSpan(0, VirtioNetHeader.Size + _length);
        }
    }
}
