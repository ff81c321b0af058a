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
        var parts = new List<PeerEntries>(2);
        var reasons = new List<string>(2);
        bool applicable = false;
        if (ipv4 is not null && lease.Subnet is not null)
        {
            applicable = true;
            Add(ipv4(lease, out string? why), why, "", parts, reasons);
        }

        if (ipv6 is not null && lease.IPv6Subnet is not null)
        {
            applicable = true;
            Add(ipv6(lease, out string? why), why, "IPv6: ", parts, reasons);
        }

        if (!applicable)
        {
            reason = ipv6 is null ? "no IPv4 subnet" : ipv4 is null ? "no IPv6 subnet" : "neither an IPv4 nor an IPv6 subnet";
            return null;
        }

        reason = reasons.Count == 0 ? null : string.Join("; ", reasons);
        return parts.Count switch
        {
            0 => null,
            1 => parts[0],
            _ => new PeerEntries(
                [.. parts.SelectMany(p => p.Neighbours)],
                [.. parts.SelectMany(p => p.Fdb)],
                [.. parts.SelectMany(p => p.Routes)]),
        };
    }

    private static void Add(PeerEntries? entries, string? why, string prefix, List<PeerEntries> parts, List<string> reasons)
    {
        if (entries is not null)
        {
            parts.Add(entries);
        }
        else if (why is not null)
        {
            reasons.Add(prefix + why);
        }
    }
}
