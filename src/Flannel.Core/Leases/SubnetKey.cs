using System.Globalization;
using Flannel.Core.Net;

namespace Flannel.Core.Leases;

/// <summary>
/// Lease key names: <c>198.18.13.0-24</c>, dual stack <c>198.18.13.0-24&amp;2001:db8:1::-64</c>. An IPv6-only lease
/// carries the empty IPv4 part <c>0.0.0.0-0</c>, as upstream's MakeSubnetKey writes it.
/// </summary>
public static class SubnetKey
{
    public static string Format(Ip4Net? subnet, Ip6Net? ipv6Subnet)
    {
        Ip4Net v4 = subnet ?? default;
        string key = string.Create(CultureInfo.InvariantCulture, $"{Ip4.Format(v4.Address)}-{v4.PrefixLength}");
        return ipv6Subnet is { } v6
            ? string.Create(CultureInfo.InvariantCulture, $"{key}&{Ip6.Format(v6.Address)}-{v6.PrefixLength}")
            : key;
    }

    /// <summary>
    /// Parses a key (the last path segment, or a full key whose last segment is the subnet). Subnets must be
    /// canonical, so that one subnet has one key.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> key, out Ip4Net? subnet, out Ip6Net? ipv6Subnet)
    {
        subnet = null;
        ipv6Subnet = null;
        int slash = key.LastIndexOf('/');
        if (slash >= 0)
        {
            key = key[(slash + 1)..];
        }

        ReadOnlySpan<char> v6Part = default;
        int amp = key.IndexOf('&');
        if (amp >= 0)
        {
            v6Part = key[(amp + 1)..];
            key = key[..amp];
            if (v6Part.IsEmpty)
            {
                return false;
            }
        }

        if (!TrySplit(key, out ReadOnlySpan<char> v4Address, out ReadOnlySpan<char> v4Prefix)
            || !Ip4.TryParse(v4Address, out uint address)
            || !Ip4Net.TryParsePrefix(v4Prefix, 32, out int prefix))
        {
            return false;
        }

        var v4 = new Ip4Net(address, prefix);
        if (!v4.IsCanonical)
        {
            return false;
        }

        if (!v6Part.IsEmpty)
        {
            if (!TrySplit(v6Part, out ReadOnlySpan<char> v6Address, out ReadOnlySpan<char> v6Prefix)
                || !Ip6.TryParse(v6Address, out UInt128 address6)
                || !Ip4Net.TryParsePrefix(v6Prefix, 128, out int prefix6))
            {
                return false;
            }

            var v6 = new Ip6Net(address6, prefix6);
            if (!v6.IsCanonical)
            {
                return false;
            }

            ipv6Subnet = v6;
        }

        // "0.0.0.0-0" marks an IPv6-only lease.
        subnet = v4.PrefixLength == 0 && v4.Address == 0 && ipv6Subnet is not null ? null : v4;
        return subnet is not null || ipv6Subnet is not null;
    }

    private static bool TrySplit(ReadOnlySpan<char> part, out ReadOnlySpan<char> address, out ReadOnlySpan<char> prefix)
    {
        int dash = part.LastIndexOf('-');
        address = dash > 0 ? part[..dash] : default;
        prefix = dash > 0 ? part[(dash + 1)..] : default;
        return dash > 0;
    }
}
