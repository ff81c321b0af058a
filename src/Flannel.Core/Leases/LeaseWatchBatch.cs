namespace Flannel.Core.Leases;

/// <summary>
/// One delivery from a lease watch: either a full <see cref="Snapshot"/> of every lease (at start, and after the store
/// lost history), or incremental <see cref="Events"/> in store order.
/// </summary>
public sealed record LeaseWatchBatch(IReadOnlyList<Lease>? Snapshot, IReadOnlyList<LeaseEvent> Events)
{
    public bool IsSnapshot => Snapshot is not null;

    public static LeaseWatchBatch FromSnapshot(IReadOnlyList<Lease> leases) => new(leases, []);

    public static LeaseWatchBatch FromEvents(IReadOnlyList<LeaseEvent> events) => new(null, events);
}
