using System.Buffers.Binary;

namespace Flannel.Linux.Packets;

/// <summary>Builds ICMP error messages (RFC 792) about a packet we cannot forward, as upstream's proxy does.</summary>
public static class IcmpError
{
    public const byte TypeDestinationUnreachable = 3;
    public const byte CodeNetUnreachable = 0;
    public const byte TypeTimeExceeded = 11;
    public const byte CodeTtlExceeded = 0;

    /// <summary>Largest message: IP header + ICMP header + offender's maximal header (60) + 8 bytes.</summary>
    public const int MaxLength = 20 + 8 + 60 + 8;

    /// <summary>
    /// Writes an ICMP error from <paramref name="source"/> back to the offender's source into <paramref name="output"/>.
    /// Returns its length, or 0 when no error may be sent: the offender is malformed, a non-first fragment, or itself
    /// an ICMP error (RFC 1122 3.2.2: never an error about an error).
    /// </summary>
    public static int Build(byte type, byte code, uint source, ReadOnlySpan<byte> offender, Span<byte> output)
    {
        if (offender.Length < Ipv4.MinHeaderLength || Ipv4.Version(offender) != 4)
        {
            return 0;
        }

        int ihl = Ipv4.HeaderLength(offender);
        if (ihl < Ipv4.MinHeaderLength || ihl > offender.Length || Ipv4.IsLaterFragment(offender))
        {
            return 0;
        }

        if (Ipv4.Protocol(offender) == Ipv4.ProtocolIcmp && (offender.Length <= ihl || IsErrorType(offender[ihl])))
        {
            return 0;
        }

        int quoted = Math.Min(ihl + 8, offender.Length);
        int length = 20 + 8 + quoted;
        Span<byte> p = output[..length];
        p.Clear();
        p[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(p[2..], (ushort)length);
        p[Ipv4.TtlOffset] = 64;
        p[9] = Ipv4.ProtocolIcmp;
        BinaryPrimitives.WriteUInt32BigEndian(p[12..], source);
        BinaryPrimitives.WriteUInt32BigEndian(p[16..], Ipv4.Source(offender));
        Ipv4.UpdateChecksum(p);

        Span<byte> icmp = p[20..];
        icmp[0] = type;
        icmp[1] = code;
        offender[..quoted].CopyTo(icmp[8..]);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], InternetChecksum.Compute(icmp));
        return length;
    }

    private static bool IsErrorType(byte type) => type is 3 or 4 or 5 or 11 or 12;
}
