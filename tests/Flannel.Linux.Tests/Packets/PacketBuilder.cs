using System.Buffers.Binary;
using Flannel.Core.Net;
using Flannel.Linux.Packets;

namespace Flannel.Linux.Tests.Packets;

/// <summary>Builds IPv4 packets field by field, with checksums computed by a deliberately naive reference sum.</summary>
internal static class PacketBuilder
{
    public static readonly uint Pod1 = Ip4.Parse("198.18.1.2");
    public static readonly uint Pod2 = Ip4.Parse("198.18.2.3");

    public static byte[] Tcp(
        uint seq,
        int payloadLength,
        byte flags = Flannel.Linux.Packets.Tcp.Ack,
        ushort id = 0x1234,
        byte ttl = 64,
        int ipOptionWords = 0,
        byte[]? tcpOptions = null,
        uint src = 0,
        uint dst = 0,
        ushort srcPort = 40000,
        ushort dstPort = 5201,
        uint ack = 777,
        ushort window = 512,
        byte payloadSeed = 0)
    {
        tcpOptions ??= [];
        int ihl = 20 + (ipOptionWords * 4);
        int thl = 20 + tcpOptions.Length;
        var p = new byte[ihl + thl + payloadLength];
        WriteIpHeader(p, ihl, id, ttl, Ipv4.ProtocolTcp, src == 0 ? Pod1 : src, dst == 0 ? Pod2 : dst);
        Span<byte> t = p.AsSpan(ihl);
        BinaryPrimitives.WriteUInt16BigEndian(t, srcPort);
        BinaryPrimitives.WriteUInt16BigEndian(t[2..], dstPort);
        BinaryPrimitives.WriteUInt32BigEndian(t[4..], seq);
        BinaryPrimitives.WriteUInt32BigEndian(t[8..], ack);
        t[12] = (byte)((thl / 4) << 4);
        t[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(t[14..], window);
        tcpOptions.CopyTo(t[20..]);
        for (int i = 0; i < payloadLength; i++)
        {
            // The payload encodes its absolute stream position, so reassembly errors show up as content errors.
            t[thl + i] = (byte)(payloadSeed + seq + i);
        }

        FixTcpChecksum(p);
        return p;
    }

    public static byte[] Udp(int payloadLength, uint src = 0, uint dst = 0)
    {
        var p = new byte[28 + payloadLength];
        WriteIpHeader(p, 20, 7, 64, Ipv4.ProtocolUdp, src == 0 ? Pod1 : src, dst == 0 ? Pod2 : dst);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(20), 1111);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(22), 2222);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(24), (ushort)(8 + payloadLength));
        for (int i = 0; i < payloadLength; i++)
        {
            p[28 + i] = (byte)i;
        }

        return p;
    }

    public static byte[] Icmp(byte type, byte code, uint src = 0, uint dst = 0)
    {
        var p = new byte[28];
        WriteIpHeader(p, 20, 9, 64, Ipv4.ProtocolIcmp, src == 0 ? Pod1 : src, dst == 0 ? Pod2 : dst);
        p[20] = type;
        p[21] = code;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(22), NaiveChecksum(p.AsSpan(20)));
        return p;
    }

    public static void WriteIpHeader(Span<byte> p, int ihl, ushort id, byte ttl, byte protocol, uint src, uint dst)
    {
        p[0] = (byte)(0x40 | (ihl / 4));
        BinaryPrimitives.WriteUInt16BigEndian(p[2..], (ushort)p.Length);
        BinaryPrimitives.WriteUInt16BigEndian(p[4..], id);
        BinaryPrimitives.WriteUInt16BigEndian(p[6..], 0x4000);
        p[8] = ttl;
        p[9] = protocol;
        BinaryPrimitives.WriteUInt32BigEndian(p[12..], src);
        BinaryPrimitives.WriteUInt32BigEndian(p[16..], dst);
        for (int i = 20; i < ihl; i++)
        {
            p[i] = i == 20 ? (byte)0x94 : (i == 21 ? (byte)4 : (byte)0); // router alert option, then zero padding
        }

        FixIpChecksum(p);
    }

    public static void FixIpChecksum(Span<byte> p)
    {
        int ihl = (p[0] & 0xf) * 4;
        p[10] = 0;
        p[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(p[10..], NaiveChecksum(p[..ihl]));
    }

    public static void FixTcpChecksum(Span<byte> p)
    {
        int ihl = (p[0] & 0xf) * 4;
        Span<byte> t = p[ihl..BinaryPrimitives.ReadUInt16BigEndian(p[2..])];
        t[16] = 0;
        t[17] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(t[16..], NaiveChecksum(Pseudo(p, t.Length).Concat(t.ToArray()).ToArray()));
    }

    public static bool IpChecksumValid(ReadOnlySpan<byte> p) => NaiveSum(p[..((p[0] & 0xf) * 4)]) == 0xffff;

    public static bool TcpChecksumValid(ReadOnlySpan<byte> p)
    {
        int ihl = (p[0] & 0xf) * 4;
        ReadOnlySpan<byte> t = p[ihl..BinaryPrimitives.ReadUInt16BigEndian(p[2..])];
        return NaiveSum([.. Pseudo(p, t.Length), .. t]) == 0xffff;
    }

    public static ushort NaiveChecksum(ReadOnlySpan<byte> data) => (ushort)~NaiveSum(data);

    /// <summary>RFC 1071 straight from the definition: big-endian 16-bit words, end-around carry.</summary>
    public static ushort NaiveSum(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        for (int i = 0; i < data.Length; i += 2)
        {
            uint word = (uint)(data[i] << 8) | (i + 1 < data.Length ? data[i + 1] : 0u);
            sum += word;
            sum = (sum & 0xffff) + (sum >> 16);
        }

        return (ushort)sum;
    }

    private static byte[] Pseudo(ReadOnlySpan<byte> ip, int length)
    {
        var pseudo = new byte[12];
        ip[12..20].CopyTo(pseudo);
        pseudo[9] = ip[9];
        BinaryPrimitives.WriteUInt16BigEndian(pseudo.AsSpan(10), (ushort)length);
        return pseudo;
    }
}
