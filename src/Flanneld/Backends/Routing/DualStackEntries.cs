using Flannel.Core.Leases;

namespace Flanneld.Backends.Routing;

/// <summary>The entries one address family of a lease needs; null (with <paramref name="reason"/>) when they cannot be built.</summary>
public delegate PeerEntries? FamilyEntries(Lease lease, out string? reason);

/// <summary>
/// Dual stack as upstream handles it: each address family of a remote lease is programmed on its own, so a bad IPv6
/// part does not cost the peer its IPv4 reachability (or the reverse), and a family the peer (or this node) does not
/// use is simply left out.
/// </summary>
public static class DualStackEntries
{
    /// <param name="lease">The remote lease.</param>
    /// <param name="ipv4">Builds the IPv4 entries; null when this node does not run IPv4.</param>
    /// <param name="ipv6">Builds the IPv6 entries; null when this node does not run IPv6.</param>
    /// <param name="reason">Why a family the lease has was left out, or why nothing could be programmed.</param>
    public static PeerEntries? Combine(Lease lease, FamilyEntries? ipv4, FamilyEntries? ipv6, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(lease);
        bool hasV4 = ipv4 is not null && lease.Subnet is not null;
        bool hasV6 = ipv6 is not null && lease.IPv6Subnet is not null;
        if (!hasV4 && !hasV6)
        {
            reason = ipv6 is null ? "no IPv4 subnet" : ipv4 is null ? "no IPv6 subnet" : "neither an IPv4 nor an IPv6 subnet";
            return null;
        }

        string? why4 = null;
        string? why6 = null;
        PeerEntries? v4 = hasV4 ? ipv4!(lease, out why4) : null;
        PeerEntries? v6 = hasV6 ? ipv6!(lease, out why6) : null;
        why4 = v4 is null ? why4 : null;
        why6 = v6 is null && why6 is not null ? "IPv6: " + why6 : null;
        reason = why4 is not null && why6 is not null ? why4 + "; " + why6 : why4 ?? why6;
        if (v4 is null || v6 is null)
        {
            return v4 ?? v6;
        }

        return new PeerEntries([.. v4.Neighbours, .. v6.Neighbours], [.. v4.Fdb, .. v6.Fdb], [.. v4.Routes, .. v6.Routes]);
    }
}
