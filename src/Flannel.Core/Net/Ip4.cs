using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Flannel.Core.Net;

/// <summary>IPv4 addresses as host-order <see cref="uint"/>s: the arithmetic subnets need, without allocation.</summary>
public static class Ip4
{
    public static uint FromIPAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException($"'{address}' is not an IPv4 address.", nameof(address));
        }

        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        return BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }

    public static IPAddress ToIPAddress(uint address)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, address);
        return new IPAddress(bytes);
    }

    // Formatted in a stack buffer: an interpolated string without one rents from the shared array pool (see Ip4Net).
    public static string Format(uint address) =>
        string.Create(CultureInfo.InvariantCulture, stackalloc char[15], $"{address >> 24}.{(address >> 16) & 0xff}.{(address >> 8) & 0xff}.{address & 0xff}");

    /// <summary>Parses strict dotted-quad notation (four decimal octets), as Go's net.ParseIP does for IPv4.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out uint address)
    {
        address = 0;
        int octets = 0;
        while (true)
        {
            int digits = 0;
            uint value = 0;
            while (digits < text.Length && char.IsAsciiDigit(text[digits]))
            {
                value = (value * 10) + (uint)(text[digits] - '0');
                digits++;
                if (digits > 3)
                {
                    return false;
                }
            }

            // Go rejects leading zeros ("010") as ambiguous octal.
            if (digits == 0 || value > 255 || (digits > 1 && text[0] == '0'))
            {
                return false;
            }

            address = (address << 8) | value;
            octets++;
            text = text[digits..];
            if (octets == 4)
            {
                return text.IsEmpty;
            }

            if (text.IsEmpty || text[0] != '.')
            {
                return false;
            }

            text = text[1..];
        }
    }

    public static uint Parse(string text) =>
        TryParse(text, out uint address) ? address : throw new FormatException($"'{text}' is not an IPv4 address.");

    public static uint MaskOf(int prefixLength) => prefixLength == 0 ? 0u : uint.MaxValue << (32 - prefixLength);
}
