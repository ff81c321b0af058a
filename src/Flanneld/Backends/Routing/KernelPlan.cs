using Flannel.Linux.Netlink;

namespace Flanneld.Backends.Routing;

/// <summary>
/// What must change in the kernel to make the entries flanneld owns equal to the desired ones: stale entries to delete,
/// missing or wrong ones to (re)place; entries already right are left alone, so a resync never flaps a working route.
/// Built by <see cref="KernelPlanBuilder"/> from the desired entries and what the kernel reports.
/// </summary>
public sealed class KernelPlan
{
    public List<Route> DeleteRoutes { get; } = [];

    public List<FdbEntry> DeleteFdb { get; } = [];

    public List<Neighbour> DeleteNeighbours { get; } = [];

    public List<Neighbour> ReplaceNeighbours { get; } = [];

    public List<FdbEntry> ReplaceFdb { get; } = [];

    public List<Route> ReplaceRoutes { get; } = [];

    public bool IsEmpty => Changes == 0;

    public int Changes => DeleteRoutes.Count + DeleteFdb.Count + DeleteNeighbours.Count + ReplaceNeighbours.Count + ReplaceFdb.Count + ReplaceRoutes.Count;

    /// <summary>
    /// Appends changes <paramref name="skip"/> to <paramref name="skip"/> + <paramref name="take"/> of the plan:
    /// deletions (routes, FDB, neighbours), then additions in install order (neighbours, FDB, routes). A large sync goes
    /// to the kernel in bounded batches, one batch object cleared and refilled, so that the message buffer (and the
    /// heap it grows) stays small.
    /// </summary>
    public void AppendTo(NetlinkBatch batch, int skip, int take)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        ArgumentOutOfRangeException.ThrowIfNegative(take);
        long end = (long)skip + take;
        int offset = 0;
        AddRange(DeleteRoutes, r => batch.DeleteRoute(r));
        AddRange(DeleteFdb, f => batch.DeleteFdb(f));
        AddRange(DeleteNeighbours, n => batch.DeleteNeighbour(n));
        AddRange(ReplaceNeighbours, n => batch.ReplaceNeighbour(n));
        AddRange(ReplaceFdb, f => batch.ReplaceFdb(f));
        AddRange(ReplaceRoutes, r => batch.ReplaceRoute(r));

        void AddRange<T>(List<T> changes, Action<T> add)
        {
            int from = Math.Max(skip - offset, 0);
            int to = (int)Math.Min(end - offset, changes.Count);
            for (int i = from; i < to; i++)
            {
                add(changes[i]);
            }

            offset += changes.Count;
        }
    }
}
