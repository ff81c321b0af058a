using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Flannel.Core.Net;

/// <summary>IPv6 addresses as host-order <see cref="UInt128"/>s.</summary>
public static class Ip6
{
    public static UInt128 FromIPAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily != AddressFamily.InterNetworkV6 || address.IsIPv4MappedToIPv6)
        {
            throw new ArgumentException($"'{address}' is not an IPv6 address.", nameof(address));
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        return BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }

    public static IPAddress ToIPAddress(UInt128 address)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, address);
        return new IPAddress(bytes);
    }

    /// <summary>RFC 5952 text (lower case, longest zero run compressed), the form Go prints.</summary>
    public static string Format(UInt128 address) => ToIPAddress(address).ToString();

    public static bool TryParse(ReadOnlySpan<char> text, out UInt128 address)
    {
        address = default;
        // Zone ids and IPv4 notation have no place in a subnet key or a config.
        if (text.IndexOfAny('%', '/') >= 0 || text.IndexOf(':') < 0
            || !IPAddress.TryParse(text, out IPAddress? ip) || ip.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return false;
        }

        address = FromIPAddress(ip);
        return true;
    }

    public static UInt128 Parse(string text) =>
        TryParse(text, out UInt128 address) ? address : throw new FormatException($"'{text}' is not an IPv6 address.");

    public static UInt128 MaskOf(int prefixLength) => prefixLength == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - prefixLength);
}
