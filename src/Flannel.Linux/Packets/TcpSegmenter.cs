using System.Buffers.Binary;

namespace Flannel.Linux.Packets;

/// <summary>
/// Splits an IPv4 TCP super-segment (as a TUN with TSO hands it over) into MSS-sized IPv4 packets, the way the
/// kernel's software GSO does: each segment gets its own IP ID (incrementing), total length, header checksum,
/// sequence number and full TCP checksum; FIN and PSH stay only on the last segment, CWR only on the first.
/// Only the headers are written; each payload stays where it is, for a gather send that interleaves header i with
/// payload slice i: all datagrams the same size except possibly the last, as a UDP_SEGMENT send expects, and no
/// userspace copy of the payload.
/// </summary>
public static class TcpSegmenter
{
    /// <summary>
    /// Segments <paramref name="packet"/> (one IPv4/TCP packet, header checksums not yet valid is fine) into at most
    /// <paramref name="mss"/> payload bytes each, writing only each segment's headers (<paramref name="headerLength"/>
    /// bytes each, back to back) into <paramref name="headers"/>. Segment i's payload is
    /// <c>packet[headerLength + i * mss ..]</c>, at most <paramref name="mss"/> bytes, the last one
    /// <paramref name="lastPayloadLength"/> bytes. Returns the number of segments, or -1 when the packet is not a
    /// segmentable IPv4 TCP packet or <paramref name="headers"/> is too small.
    /// </summary>
    public static int SegmentHeaders(ReadOnlySpan<byte> packet, int mss, Span<byte> headers, out int headerLength, out int lastPayloadLength)
    {
        headerLength = 0;
        lastPayloadLength = 0;
        if (!TryParse(packet, mss, out int ihl, out int length, out int ipLength))
        {
            return -1;
        }

        ReadOnlySpan<byte> payload = packet[length..ipLength];
        int count = Count(payload.Length, mss);
        if (count * length > headers.Length)
        {
            return -1;
        }

        var template = new HeaderTemplate(packet, ihl, length);
        for (int i = 0; i < count; i++)
        {
            template.Write(i, count, mss, PayloadOf(payload, mss, i), headers.Slice(i * length, length));
        }

        headerLength = length;
        lastPayloadLength = payload.Length - ((count - 1) * mss);
        return count;
    }

    private static bool TryParse(ReadOnlySpan<byte> packet, int mss, out int ihl, out int headers, out int ipLength)
    {
        ihl = 0;
        headers = 0;
        ipLength = 0;
        if (mss <= 0 || packet.Length < Ipv4.MinHeaderLength || Ipv4.Version(packet) != 4 || Ipv4.Protocol(packet) != Ipv4.ProtocolTcp)
        {
            return false;
        }

        ihl = Ipv4.HeaderLength(packet);
        ipLength = Math.Min(Ipv4.TotalLength(packet), packet.Length);
        if (ihl < Ipv4.MinHeaderLength || ihl + Tcp.MinHeaderLength > ipLength)
        {
            return false;
        }

        int thl = Tcp.HeaderLength(packet[ihl..]);
        headers = ihl + thl;
        return thl >= Tcp.MinHeaderLength && headers <= ipLength;
    }

    private static int Count(int payloadLength, int mss) => Math.Max(1, (payloadLength + mss - 1) / mss);

    private static ReadOnlySpan<byte> PayloadOf(ReadOnlySpan<byte> payload, int mss, int index)
    {
        int start = index * mss;
        return payload.Slice(start, Math.Min(mss, payload.Length - start));
    }

    /// <summary>
    /// The super-segment's headers and the sums of their words that every segment shares, so each segment's two
    /// checksums cost one pass over its payload plus a few additions (one fold each), not a pass over its headers.
    /// </summary>
    private readonly ref struct HeaderTemplate
    {
        private readonly ReadOnlySpan<byte> _headers;
        private readonly int _ihl;
        private readonly ushort _id;
        private readonly uint _sequence;
        private readonly byte _flags;
        private readonly ulong _ipFixed;
        private readonly ulong _tcpFixed;

        public HeaderTemplate(ReadOnlySpan<byte> packet, int ihl, int headers)
        {
            _headers = packet[..headers];
            _ihl = ihl;
            _id = Ipv4.Id(packet);
            ReadOnlySpan<byte> tcp = packet[ihl..headers];
            _sequence = Tcp.Sequence(tcp);
            _flags = Tcp.Flags(tcp);

            // IPv4: everything but total length (word 1), ID (2) and checksum (5).
            _ipFixed = SumWords(packet[..ihl]) - Word(packet, 2) - Word(packet, 4) - Word(packet, Ipv4.ChecksumOffset);

            // TCP: the pseudo-header without its length, and the header but sequence, offset+flags and checksum.
            uint source = Ipv4.Source(packet);
            uint destination = Ipv4.Destination(packet);
            _tcpFixed = (source >> 16) + (source & 0xffff) + (destination >> 16) + (destination & 0xffff) + Ipv4.ProtocolTcp
                + SumWords(tcp) - Word(tcp, 4) - Word(tcp, 6) - Word(tcp, 12) - Word(tcp, Tcp.ChecksumOffset);
        }

        /// <summary>Writes segment <paramref name="index"/>'s IPv4 + TCP headers, its checksums covering <paramref name="payload"/>.</summary>
        public void Write(int index, int count, int mss, ReadOnlySpan<byte> payload, Span<byte> header)
        {
            _headers.CopyTo(header);
            int totalLength = _headers.Length + payload.Length;
            ushort id = (ushort)(_id + index);
            Ipv4.SetTotalLength(header, totalLength);
            Ipv4.SetId(header, id);
            BinaryPrimitives.WriteUInt16BigEndian(header[Ipv4.ChecksumOffset..], (ushort)~InternetChecksum.Fold(_ipFixed + (uint)totalLength + id));

            Span<byte> tcp = header[_ihl..];
            uint sequence = _sequence + (uint)(index * mss);
            Tcp.SetSequence(tcp, sequence);
            byte flags = _flags;
            if (index != count - 1)
            {
                flags &= unchecked((byte)~(Tcp.Fin | Tcp.Psh));
            }

            if (index != 0)
            {
                flags &= unchecked((byte)~Tcp.Cwr);
            }

            tcp[Tcp.FlagsOffset] = flags;
            ulong sum = _tcpFixed + (uint)(totalLength - _ihl) + (sequence >> 16) + (sequence & 0xffff) + Word(tcp, 12)
                + InternetChecksum.FromNative(InternetChecksum.Accumulate(payload));
            BinaryPrimitives.WriteUInt16BigEndian(tcp[Tcp.ChecksumOffset..], (ushort)~InternetChecksum.Fold(sum));
        }

        private static uint Word(ReadOnlySpan<byte> b, int offset) => BinaryPrimitives.ReadUInt16BigEndian(b[offset..]);

        private static ulong SumWords(ReadOnlySpan<byte> b)
        {
            ulong sum = 0;
            for (int i = 0; i + 1 < b.Length; i += 2)
            {
                sum += Word(b, i);
            }

            return sum;
        }
    }
}
