using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Flannel.Core.Net;

namespace Flannel.Linux.Netlink;

/// <summary>An IPv4 or IPv6 address with a prefix length, as netlink carries routes and interface addresses.</summary>
public readonly record struct IpPrefix
{
    public IpPrefix(IPAddress address, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(address);
        int max = address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;
        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException($"'{address}' is neither IPv4 nor IPv6.", nameof(address));
        }

        if (prefixLength < 0 || prefixLength > max)
        {
            throw new ArgumentOutOfRangeException(nameof(prefixLength), prefixLength, $"prefix length must be 0..{max} for {address}");
        }

        Address = address;
        PrefixLength = prefixLength;
    }

    public IPAddress Address { get; }

    public int PrefixLength { get; }

    public bool IsIPv6 => Address.AddressFamily == AddressFamily.InterNetworkV6;

    /// <summary>A single host: /32 or /128.</summary>
    public static IpPrefix Host(IPAddress address) =>
        new(address, address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32);

    public static IpPrefix Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            return IPAddress.TryParse(text, out IPAddress? single) ? Host(single)
                : throw new FormatException($"'{text}' is not an IP address or CIDR.");
        }

        if (!IPAddress.TryParse(text.AsSpan(0, slash), out IPAddress? address)
            || !int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int length)
            || length > (address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32))
        {
            throw new FormatException($"'{text}' is not an IP address or CIDR.");
        }

        return new IpPrefix(address, length);
    }

    /// <summary>True when <paramref name="address"/> is of the same family and inside this prefix.</summary>
    public bool Contains(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily != Address.AddressFamily)
        {
            return false;
        }

        Span<byte> mine = stackalloc byte[16];
        Span<byte> theirs = stackalloc byte[16];
        Address.TryWriteBytes(mine, out int length);
        address.TryWriteBytes(theirs, out _);
        int full = PrefixLength / 8;
        if (!mine[..full].SequenceEqual(theirs[..full]))
        {
            return false;
        }

        int rest = PrefixLength % 8;
        if (rest == 0 || full >= length)
        {
            return true;
        }

        int mask = 0xff << (8 - rest) & 0xff;
        return (mine[full] & mask) == (theirs[full] & mask);
    }

    public static implicit operator IpPrefix(Ip4Net net) => new(net.IPAddress, net.PrefixLength);

    public static implicit operator IpPrefix(Ip6Net net) => new(net.IPAddress, net.PrefixLength);

    public static IpPrefix FromIp4Net(Ip4Net net) => net;

    public static IpPrefix FromIp6Net(Ip6Net net) => net;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Address}/{PrefixLength}");
}
