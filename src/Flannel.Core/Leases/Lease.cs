using Flannel.Core.Net;

namespace Flannel.Core.Leases;

/// <summary>
/// A node's claim on a subnet (and, dual stack, an IPv6 subnet). <see cref="Expiration"/> is null for a
/// reservation: a key stored without a TTL, which belongs to its PublicIP for good.
/// </summary>
public sealed record Lease(Ip4Net? Subnet, Ip6Net? IPv6Subnet, LeaseAttrs Attrs, DateTimeOffset? Expiration = null)
{
    /// <summary>The store revision at which this lease was read (etcd mod revision); 0 when unknown.</summary>
    public long Revision { get; init; }

    public bool EnableIPv4 => Subnet is not null;

    public bool EnableIPv6 => IPv6Subnet is not null;

    public bool IsReservation => Expiration is null;

    /// <summary>The key under <c>&lt;prefix&gt;/subnets/</c>, which also names the lease in logs.</summary>
    public string Key => SubnetKey.Format(Subnet, IPv6Subnet);

    /// <summary>True when the two leases describe the same data path (what a backend programs); expiry and revision aside.</summary>
    public bool SameDataPath(Lease other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Subnet == other.Subnet && IPv6Subnet == other.IPv6Subnet && Attrs == other.Attrs;
    }
}
