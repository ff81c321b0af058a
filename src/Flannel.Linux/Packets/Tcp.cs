using System.Buffers.Binary;

namespace Flannel.Linux.Packets;

/// <summary>Field accessors for a TCP header at the start of a span (RFC 9293).</summary>
public static class Tcp
{
    public const int MinHeaderLength = 20;
    public const int ChecksumOffset = 16;
    public const int FlagsOffset = 13;

    public const byte Fin = 0x01;
    public const byte Syn = 0x02;
    public const byte Rst = 0x04;
    public const byte Psh = 0x08;
    public const byte Ack = 0x10;
    public const byte Urg = 0x20;
    public const byte Ece = 0x40;
    public const byte Cwr = 0x80;

    public static ushort SourcePort(ReadOnlySpan<byte> t) => BinaryPrimitives.ReadUInt16BigEndian(t);

    public static ushort DestinationPort(ReadOnlySpan<byte> t) => BinaryPrimitives.ReadUInt16BigEndian(t[2..]);

    public static uint Sequence(ReadOnlySpan<byte> t) => BinaryPrimitives.ReadUInt32BigEndian(t[4..]);

    public static void SetSequence(Span<byte> t, uint seq) => BinaryPrimitives.WriteUInt32BigEndian(t[4..], seq);

    public static uint Acknowledgment(ReadOnlySpan<byte> t) => BinaryPrimitives.ReadUInt32BigEndian(t[8..]);

    public static int HeaderLength(ReadOnlySpan<byte> t) => (t[12] >> 4) * 4;

    public static byte Flags(ReadOnlySpan<byte> t) => t[FlagsOffset];

    public static ushort Window(ReadOnlySpan<byte> t) => BinaryPrimitives.ReadUInt16BigEndian(t[14..]);

    public static ushort Checksum(ReadOnlySpan<byte> t) => BinaryPrimitives.ReadUInt16BigEndian(t[ChecksumOffset..]);

    public static bool HasValidChecksum(ReadOnlySpan<byte> segment, uint source, uint destination) =>
        InternetChecksum.Sum(segment, InternetChecksum.PseudoHeaderSum(source, destination, Ipv4.ProtocolTcp, segment.Length)) == 0xffff;
}
