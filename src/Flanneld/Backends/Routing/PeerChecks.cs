using System.Net;
using System.Net.Sockets;
using Flannel.Core.Leases;
using Flannel.Core.Net;
using Flannel.Linux.Netlink;

namespace Flanneld.Backends.Routing;

/// <summary>Checks every backend applies to a remote lease before programming it, and underlay facts they share.</summary>
public static class PeerChecks
{
    /// <summary>
    /// Null when the lease can be programmed by a backend of <paramref name="backendType"/>; else why not. A subnet must
    /// lie inside the network, have the network's SubnetLen (when the config sets one: Kubernetes mode takes the
    /// podCIDRs as they come) and not overlap this node's own: a hostile /16 or /25 must not hijack other nodes' routes.
    /// </summary>
    public static string? Validate(Lease lease, string? backendType, Ip4Net network, int subnetLen, Ip4Net own)
    {
        ArgumentNullException.ThrowIfNull(lease);
        if (!string.Equals(lease.Attrs.BackendType ?? "", backendType ?? "", StringComparison.Ordinal))
        {
            return $"backend type {lease.Attrs.BackendType ?? "(none)"} is not {backendType ?? "(none)"}";
        }

        if (lease.Subnet is not { } subnet)
        {
            return "no IPv4 subnet";
        }

        if (!network.Contains(subnet))
        {
            return $"subnet {subnet} is outside the network {network}";
        }

        if (subnetLen > 0 && subnet.PrefixLength != subnetLen)
        {
            return $"subnet {subnet} is not a /{subnetLen} (SubnetLen)";
        }

        if (subnet.Overlaps(own))
        {
            return $"subnet {subnet} overlaps this node's {own}";
        }

        return lease.Attrs.PublicIP.AddressFamily == AddressFamily.InterNetwork && IsUsablePeerAddress(lease.Attrs.PublicIP) ? null : $"PublicIP {lease.Attrs.PublicIP} is not a unicast address";
    }

    /// <summary>
    /// The IPv6 counterpart of <see cref="Validate"/>: null when the lease's IPv6 subnet can be programmed; else why not.
    /// The subnet must lie inside IPv6Network, have IPv6SubnetLen (when set), not overlap this node's own IPv6 subnet,
    /// and the lease must carry a unicast PublicIPv6 to send to.
    /// </summary>
    public static string? ValidateIPv6(Lease lease, string? backendType, Ip6Net network, int subnetLen, Ip6Net own)
    {
        ArgumentNullException.ThrowIfNull(lease);
        if (!string.Equals(lease.Attrs.BackendType ?? "", backendType ?? "", StringComparison.Ordinal))
        {
            return $"backend type {lease.Attrs.BackendType ?? "(none)"} is not {backendType ?? "(none)"}";
        }

        if (lease.IPv6Subnet is not { } subnet)
        {
            return "no IPv6 subnet";
        }

        if (!network.Contains(subnet))
        {
            return $"IPv6 subnet {subnet} is outside the IPv6 network {network}";
        }

        if (subnetLen > 0 && subnet.PrefixLength != subnetLen)
        {
            return $"IPv6 subnet {subnet} is not a /{subnetLen} (IPv6SubnetLen)";
        }

        if (subnet.Overlaps(own))
        {
            return $"IPv6 subnet {subnet} overlaps this node's {own}";
        }

        return lease.Attrs.PublicIPv6 is { } publicIPv6 && IsUsablePeerAddress(publicIPv6)
            ? null
            : $"PublicIPv6 {lease.Attrs.PublicIPv6?.ToString() ?? "(none)"} is not a unicast address";
    }

    /// <summary>
    /// True for an address a peer can be reached at: IPv4 or IPv6 unicast, not unspecified, loopback, multicast or
    /// broadcast; not IPv6 link-local either (it would need a scope the lease cannot carry).
    /// </summary>
    public static bool IsUsablePeerAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return !address.Equals(IPAddress.IPv6Any) && !IPAddress.IsLoopback(address) && !address.IsIPv6Multicast
                && !address.IsIPv6LinkLocal && !address.IsIPv4MappedToIPv6;
        }

        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            return false;
        }

        uint ip = Ip4.FromIPAddress(address);
        return ip != 0 && ip != uint.MaxValue && (ip >> 28) != 0xE && (ip >> 24) != 127;
    }

    /// <summary>A route flanneld owns: a unicast route to a subnet of the flannel network other than this node's own.</summary>
    public static bool IsPeerRoute(Route route, Ip4Net network, Ip4Net own)
    {
        ArgumentNullException.ThrowIfNull(route);
        if (route.Destination.IsIPv6 || (route.Type != RouteType.Unicast && route.Type != RouteType.Unspecified))
        {
            return false;
        }

        var destination = new Ip4Net(Ip4.FromIPAddress(route.Destination.Address), route.Destination.PrefixLength);
        return network.Contains(destination) && destination != own && destination.PrefixLength > network.PrefixLength;
    }

    /// <summary>An IPv6 route flanneld owns: a unicast route to a subnet of the IPv6 network outside this node's own.</summary>
    public static bool IsPeerRoute(Route route, Ip6Net network, Ip6Net own)
    {
        ArgumentNullException.ThrowIfNull(route);
        if (!route.Destination.IsIPv6 || (route.Type != RouteType.Unicast && route.Type != RouteType.Unspecified))
        {
            return false;
        }

        // Not merely != own: the kernel adds a /128 prefix route for the device's own <subnet>::/128 address.
        var destination = new Ip6Net(Ip6.FromIPAddress(route.Destination.Address), route.Destination.PrefixLength);
        return network.Contains(destination) && !own.Overlaps(destination) && destination.PrefixLength > network.PrefixLength;
    }

    public static bool OnSameLink(IPAddress peer, IReadOnlyList<Ip4Net> underlaySubnets)
    {
        uint ip = Ip4.FromIPAddress(peer);
        return underlaySubnets.Any(s => s.Contains(ip));
    }

    /// <summary>True when <paramref name="peer"/> lies in one of the prefixes directly connected on the underlay (either family).</summary>
    public static bool OnSameLink(IPAddress peer, IReadOnlyList<IpPrefix> underlayPrefixes)
    {
        ArgumentNullException.ThrowIfNull(underlayPrefixes);
        return underlayPrefixes.Any(p => p.Contains(peer));
    }

    /// <summary>The global IPv6 prefixes directly connected on the underlay interface (link-local ones say nothing about L2).</summary>
    public static async Task<IReadOnlyList<IpPrefix>> UnderlayIPv6PrefixesAsync(Rtnetlink netlink, int index, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(netlink);
        IReadOnlyList<InterfaceAddress> addresses = await netlink.ListAddressesAsync(AddressFamily.InterNetworkV6, index, cancellationToken);
        return addresses.Where(a => !a.Prefix.Address.IsIPv6LinkLocal && a.Prefix.PrefixLength < 128).Select(a => a.Prefix).ToList();
    }

    /// <summary>The IPv4 subnets directly connected on the underlay interface: a peer inside one is on the same L2.</summary>
    public static async Task<IReadOnlyList<Ip4Net>> UnderlaySubnetsAsync(Rtnetlink netlink, int index, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(netlink);
        IReadOnlyList<InterfaceAddress> addresses = await netlink.ListAddressesAsync(AddressFamily.InterNetwork, index, cancellationToken);
        return addresses.Select(a => new Ip4Net(Ip4.FromIPAddress(a.Prefix.Address), a.Prefix.PrefixLength).Canonical).ToList();
    }
}
