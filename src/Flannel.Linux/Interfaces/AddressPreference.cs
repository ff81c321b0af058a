using System.Net;
using System.Net.Sockets;
using Flannel.Linux.Netlink;

namespace Flannel.Linux.Interfaces;

/// <summary>
/// Which of an interface's addresses flannel uses: global unicast or link-local unicast, not deprecated; global before
/// link-local, permanent before dynamic, non-temporary before temporary; otherwise kernel order.
/// </summary>
public static class AddressPreference
{
    public static IReadOnlyList<IPAddress> Order(IEnumerable<InterfaceAddress> addresses, AddressFamily family)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        return addresses
            .Where(a => a.Prefix.Address.AddressFamily == family && !a.IsDeprecated)
            .Where(a => IsGlobalUnicast(a.Prefix.Address) || IsLinkLocalUnicast(a.Prefix.Address))
            .Select((a, position) => (Address: a, Position: position))
            .OrderBy(x => IsGlobalUnicast(x.Address.Prefix.Address) ? 0 : 1)
            .ThenBy(x => x.Address.IsPermanent ? 0 : 1)
            .ThenBy(x => x.Address.IsTemporary ? 1 : 0)
            .ThenBy(x => x.Position)
            .Select(x => x.Address.Prefix.Address)
            .ToList();
    }

    /// <summary>As Go's net.IP.IsGlobalUnicast: not unspecified, loopback, multicast, link-local or the v4 broadcast.</summary>
    public static bool IsGlobalUnicast(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> b = stackalloc byte[4];
            address.TryWriteBytes(b, out _);
            return !(b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0)
                && b[0] != 127
                && b[0] < 224
                && !(b[0] == 169 && b[1] == 254)
                && !(b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255);
        }

        return !address.Equals(IPAddress.IPv6Any)
            && !address.Equals(IPAddress.IPv6Loopback)
            && !address.IsIPv6Multicast
            && !address.IsIPv6LinkLocal;
    }

    public static bool IsLinkLocalUnicast(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> b = stackalloc byte[4];
            address.TryWriteBytes(b, out _);
            return b[0] == 169 && b[1] == 254;
        }

        return address.IsIPv6LinkLocal;
    }
}
