using Flannel.Core.Config;

namespace Flannel.Core.Leases;

/// <summary>
/// Where leases live (upstream's subnet.Manager): etcd v3, or the Kubernetes Node objects.
/// The reconcile loop talks to this seam, never to the store's client directly.
/// </summary>
public interface ILeaseStore
{
    /// <summary>The cluster's net-conf, validated.</summary>
    Task<NetConfig> GetNetworkConfigAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The attributes this node (known by its public IP: its IPv4 PublicIP, or its PublicIPv6 on an IPv6-only node)
    /// advertised last, if the store still holds them: the vxlan backend takes its VTEP MACs from there, so that peers'
    /// neighbour and FDB entries stay valid across restarts.
    /// </summary>
    Task<LeaseAttrs?> GetStoredAttrsAsync(System.Net.IPAddress publicIP, CancellationToken cancellationToken);

    /// <summary>Acquires (or takes back) this node's lease; two nodes never hold one subnet.</summary>
    Task<Lease> AcquireLeaseAsync(LeaseRequest request, CancellationToken cancellationToken);

    /// <summary>Extends this node's lease; returns it with its new expiry.</summary>
    Task<Lease> RenewLeaseAsync(Lease lease, CancellationToken cancellationToken);

    /// <summary>
    /// Every lease, this node's own included: a snapshot first, then events, and a new snapshot whenever
    /// the store could not resume where it left off. Runs until cancelled, reconnecting by itself.
    /// </summary>
    IAsyncEnumerable<LeaseWatchBatch> WatchLeasesAsync(CancellationToken cancellationToken);
}
