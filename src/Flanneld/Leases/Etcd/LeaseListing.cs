namespace Flanneld.Leases.Etcd;

/// <summary>Every readable lease of the lease directory, as of one etcd revision.</summary>
internal sealed record LeaseListing(List<StoredLease> Leases, long Revision);
