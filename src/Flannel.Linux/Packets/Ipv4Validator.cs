namespace Flannel.Linux.Packets;

/// <summary>Why a datagram off the wire is not a forwardable IPv4 packet.</summary>
public enum PacketVerdict
{
    Ok,
    TooShort,
    NotIpv4,
    BadHeaderLength,
    BadTotalLength,
    BadChecksum,
}

/// <summary>Checks that a buffer holds exactly one well-formed IPv4 packet, as the udp wire format requires.</summary>
public static class Ipv4Validator
{
    public static PacketVerdict Validate(ReadOnlySpan<byte> packet)
    {
        if (packet.Length < Ipv4.MinHeaderLength)
        {
            return PacketVerdict.TooShort;
        }

        if (Ipv4.Version(packet) != 4)
        {
            return PacketVerdict.NotIpv4;
        }

        int ihl = Ipv4.HeaderLength(packet);
        if (ihl < Ipv4.MinHeaderLength || ihl > packet.Length)
        {
            return PacketVerdict.BadHeaderLength;
        }

        // One datagram carries exactly one packet: trailing bytes or a truncated packet both mean a broken sender.
        if (Ipv4.TotalLength(packet) != packet.Length)
        {
            return PacketVerdict.BadTotalLength;
        }

        return Ipv4.HasValidChecksum(packet) ? PacketVerdict.Ok : PacketVerdict.BadChecksum;
    }
}
