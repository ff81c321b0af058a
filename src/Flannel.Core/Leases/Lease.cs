using Flannel.Core.Net;

namespace Flannel.Core.Leases;

/// <summary>
/// A node's claim on a subnet (and, dual stack, an IPv6 subnet). <see cref="Expiration"/> is null for a
/// reservation: a key stored without a TTL, which belongs to its PublicIP for good.
/// </summary>
public sealed record Lease(Ip4Net? Subnet, Ip6Net? IPv6Subnet, LeaseAttrs Attrs, DateTimeOffset? Expiration = null)
{
    // The key is formatted once per lease and shared by everything that indexes leases by it (the watcher, the
    // backend), instead of a new string per use: with 10,000 peers that was two strings each, kept for good. It always
    // follows the subnets (a `with` that changes one formats it again), so it never makes equal leases unequal.
    private string _key = SubnetKey.Format(Subnet, IPv6Subnet);

    public Ip4Net? Subnet
    {
        get;
        init
        {
            field = value;
            _key = SubnetKey.Format(value, IPv6Subnet);
        }
    } = Subnet;

    public Ip6Net? IPv6Subnet
    {
        get;
        init
        {
            field = value;
            _key = SubnetKey.Format(Subnet, value);
        }
    } = IPv6Subnet;

    /// <summary>The store revision at which this lease was read (etcd mod revision); 0 when unknown.</summary>
    public long Revision { get; init; }

    public bool EnableIPv4 => Subnet is not null;

    public bool EnableIPv6 => IPv6Subnet is not null;

    public bool IsReservation => Expiration is null;

    /// <summary>The key under <c>&lt;prefix&gt;/subnets/</c>, which also names the lease in logs.</summary>
    public string Key => _key;

    /// <summary>True when the two leases describe the same data path (what a backend programs); expiry and revision aside.</summary>
    public bool SameDataPath(Lease other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Subnet == other.Subnet && IPv6Subnet == other.IPv6Subnet && Attrs == other.Attrs;
    }
}
