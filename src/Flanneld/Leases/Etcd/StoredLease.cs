using Lease = Flannel.Core.Leases.Lease;

namespace Flanneld.Leases.Etcd;

/// <summary>A lease as read from etcd: with the etcd lease that holds it (0 for a reservation) and the raw value.</summary>
internal sealed record StoredLease(Lease Lease, long EtcdLeaseId, ReadOnlyMemory<byte> Value);
