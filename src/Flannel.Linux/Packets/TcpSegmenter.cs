namespace Flannel.Linux.Packets;

/// <summary>
/// Splits an IPv4 TCP super-segment (as a TUN with TSO hands it over) into MSS-sized IPv4 packets, the way the
/// kernel's software GSO does: each segment gets its own IP ID (incrementing), total length, header checksum,
/// sequence number and full TCP checksum; FIN and PSH stay only on the last segment, CWR only on the first.
/// The segments are written back to back, all the same size except possibly the last, which is exactly the
/// layout a UDP_SEGMENT send expects.
/// </summary>
public static class TcpSegmenter
{
    /// <summary>
    /// Segments <paramref name="packet"/> (one IPv4/TCP packet, header checksums not yet valid is fine) into
    /// <paramref name="output"/> with at most <paramref name="mss"/> payload bytes each.
    /// Returns the number of segments, or -1 when the packet is not a segmentable IPv4 TCP packet or output is too small.
    /// </summary>
    public static int Segment(ReadOnlySpan<byte> packet, int mss, Span<byte> output, out int segmentLength, out int totalLength)
    {
        segmentLength = 0;
        totalLength = 0;
        if (mss <= 0 || packet.Length < Ipv4.MinHeaderLength || Ipv4.Version(packet) != 4 || Ipv4.Protocol(packet) != Ipv4.ProtocolTcp)
        {
            return -1;
        }

        int ihl = Ipv4.HeaderLength(packet);
        int ipLength = Math.Min(Ipv4.TotalLength(packet), packet.Length);
        if (ihl < Ipv4.MinHeaderLength || ihl + Tcp.MinHeaderLength > ipLength)
        {
            return -1;
        }

        int thl = Tcp.HeaderLength(packet[ihl..]);
        int headers = ihl + thl;
        if (thl < Tcp.MinHeaderLength || headers > ipLength)
        {
            return -1;
        }

        ReadOnlySpan<byte> payload = packet[headers..ipLength];
        int count = Math.Max(1, (payload.Length + mss - 1) / mss);
        int needed = (count * headers) + payload.Length;
        if (needed > output.Length)
        {
            return -1;
        }

        uint source = Ipv4.Source(packet);
        uint destination = Ipv4.Destination(packet);
        ushort id = Ipv4.Id(packet);
        uint seq = Tcp.Sequence(packet[ihl..]);
        byte flags = Tcp.Flags(packet[ihl..]);
        int offset = 0;
        for (int i = 0; i < count; i++)
        {
            int start = i * mss;
            int length = Math.Min(mss, payload.Length - start);
            Span<byte> seg = output.Slice(offset, headers + length);
            packet[..headers].CopyTo(seg);
            payload.Slice(start, length).CopyTo(seg[headers..]);

            Ipv4.SetTotalLength(seg, seg.Length);
            Ipv4.SetId(seg, (ushort)(id + i));
            Ipv4.UpdateChecksum(seg);

            Span<byte> tcp = seg[ihl..];
            Tcp.SetSequence(tcp, seq + (uint)start);
            byte segFlags = flags;
            if (i != count - 1)
            {
                segFlags &= unchecked((byte)~(Tcp.Fin | Tcp.Psh));
            }

            if (i != 0)
            {
                segFlags &= unchecked((byte)~Tcp.Cwr);
            }

            tcp[Tcp.FlagsOffset] = segFlags;
            Tcp.UpdateChecksum(tcp, source, destination);
            offset += seg.Length;
        }

        segmentLength = headers + Math.Min(mss, payload.Length);
        totalLength = offset;
        return count;
    }
}
