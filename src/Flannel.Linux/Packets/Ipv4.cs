using System.Buffers.Binary;

namespace Flannel.Linux.Packets;

/// <summary>Field accessors for an IPv4 header at the start of a span (RFC 791). No validation: see <see cref="Ipv4Validator"/>.</summary>
public static class Ipv4
{
    public const int MinHeaderLength = 20;
    public const byte ProtocolIcmp = 1;
    public const byte ProtocolTcp = 6;
    public const byte ProtocolUdp = 17;
    public const int TtlOffset = 8;
    public const int ChecksumOffset = 10;

    public static int Version(ReadOnlySpan<byte> p) => p[0] >> 4;

    public static int HeaderLength(ReadOnlySpan<byte> p) => (p[0] & 0x0f) * 4;

    public static byte Tos(ReadOnlySpan<byte> p) => p[1];

    public static int TotalLength(ReadOnlySpan<byte> p) => BinaryPrimitives.ReadUInt16BigEndian(p[2..]);

    public static void SetTotalLength(Span<byte> p, int length) => BinaryPrimitives.WriteUInt16BigEndian(p[2..], (ushort)length);

    public static ushort Id(ReadOnlySpan<byte> p) => BinaryPrimitives.ReadUInt16BigEndian(p[4..]);

    public static void SetId(Span<byte> p, ushort id) => BinaryPrimitives.WriteUInt16BigEndian(p[4..], id);

    /// <summary>Flags and fragment offset as on the wire (DF = 0x4000, MF = 0x2000, offset = low 13 bits).</summary>
    public static ushort FlagsAndOffset(ReadOnlySpan<byte> p) => BinaryPrimitives.ReadUInt16BigEndian(p[6..]);

    public static bool IsFragment(ReadOnlySpan<byte> p) => (FlagsAndOffset(p) & 0x3fff) != 0;

    public static bool IsLaterFragment(ReadOnlySpan<byte> p) => (FlagsAndOffset(p) & 0x1fff) != 0;

    public static byte Ttl(ReadOnlySpan<byte> p) => p[TtlOffset];

    public static byte Protocol(ReadOnlySpan<byte> p) => p[9];

    public static ushort Checksum(ReadOnlySpan<byte> p) => BinaryPrimitives.ReadUInt16BigEndian(p[ChecksumOffset..]);

    public static uint Source(ReadOnlySpan<byte> p) => BinaryPrimitives.ReadUInt32BigEndian(p[12..]);

    public static uint Destination(ReadOnlySpan<byte> p) => BinaryPrimitives.ReadUInt32BigEndian(p[16..]);

    /// <summary>Recomputes the header checksum from scratch.</summary>
    public static void UpdateChecksum(Span<byte> p)
    {
        int ihl = HeaderLength(p);
        p[ChecksumOffset] = 0;
        p[ChecksumOffset + 1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(p[ChecksumOffset..], InternetChecksum.Compute(p[..ihl]));
    }

    // All ones is the same in either byte order, so the native sum needs no swap (this runs for every datagram received).
    public static bool HasValidChecksum(ReadOnlySpan<byte> p) => InternetChecksum.Fold(InternetChecksum.Accumulate(p[..HeaderLength(p)])) == 0xffff;

    /// <summary>
    /// Decrements the TTL and patches the checksum incrementally (RFC 1624), as a router does.
    /// Returns false, leaving the packet untouched, when the TTL would reach zero.
    /// </summary>
    public static bool DecrementTtl(Span<byte> p)
    {
        if (p[TtlOffset] <= 1)
        {
            return false;
        }

        p[TtlOffset]--;

        // HC' = ~(~HC + ~m + m'): the TTL is the high byte of its 16-bit word, so m - m' = 0x0100.
        uint sum = (uint)(ushort)~Checksum(p) + 0xfeff;
        BinaryPrimitives.WriteUInt16BigEndian(p[ChecksumOffset..], (ushort)~InternetChecksum.Fold(sum));
        return true;
    }
}
