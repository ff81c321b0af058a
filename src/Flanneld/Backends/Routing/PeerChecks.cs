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

        return IsUsablePeerAddress(lease.Attrs.PublicIP) ? null : $"PublicIP {lease.Attrs.PublicIP} is not a unicast address";
    }

    public static bool IsUsablePeerAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
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

    public static bool OnSameLink(IPAddress peer, IReadOnlyList<Ip4Net> underlaySubnets)
    {
        uint ip = Ip4.FromIPAddress(peer);
        return underlaySubnets.Any(s => s.Contains(ip));
    }

    /// <summary>The IPv4 subnets directly connected on the underlay interface: a peer inside one is on the same L2.</summary>
    public static async Task<IReadOnlyList<Ip4Net>> UnderlaySubnetsAsync(Rtnetlink netlink, int index, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(netlink);
        IReadOnlyList<InterfaceAddress> addresses = await netlink.ListAddressesAsync(AddressFamily.InterNetwork, index, cancellationToken);
        return addresses.Select(a => new Ip4Net(Ip4.FromIPAddress(a.Prefix.Address), a.Prefix.PrefixLength).Canonical).ToList();
    }
}
