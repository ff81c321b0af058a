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

        for (int i = 0; i < count; i++)
        {
            WriteHeader(packet, ihl, length, mss, i, count, PayloadOf(payload, mss, i), headers.Slice(i * length, length));
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

    /// <summary>Writes segment <paramref name="index"/>'s IPv4 + TCP headers, its checksums covering <paramref name="payload"/>.</summary>
    private static void WriteHeader(ReadOnlySpan<byte> packet, int ihl, int headers, int mss, int index, int count, ReadOnlySpan<byte> payload, Span<byte> header)
    {
        packet[..headers].CopyTo(header);
        Ipv4.SetTotalLength(header, headers + payload.Length);
        Ipv4.SetId(header, (ushort)(Ipv4.Id(packet) + index));
        Ipv4.UpdateChecksum(header);

        Span<byte> tcp = header[ihl..];
        Tcp.SetSequence(tcp, Tcp.Sequence(packet[ihl..]) + (uint)(index * mss));
        byte flags = Tcp.Flags(tcp);
        if (index != count - 1)
        {
            flags &= unchecked((byte)~(Tcp.Fin | Tcp.Psh));
        }

        if (index != 0)
        {
            flags &= unchecked((byte)~Tcp.Cwr);
        }

        tcp[Tcp.FlagsOffset] = flags;
        Tcp.UpdateChecksum(tcp, payload, Ipv4.Source(packet), Ipv4.Destination(packet));
    }
}
