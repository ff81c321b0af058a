using Flannel.Linux.Netlink;

namespace Flanneld.Backends.Routing;

/// <summary>
/// What must change in the kernel to make the entries flanneld owns equal to the desired ones: stale entries to delete,
/// missing or wrong ones to (re)place; entries already right are left alone, so a resync never flaps a working route.
/// Pure: built from the desired entries and a dump of what the kernel holds.
/// </summary>
public sealed class KernelPlan
{
    public List<Route> DeleteRoutes { get; } = [];

    public List<FdbEntry> DeleteFdb { get; } = [];

    public List<Neighbour> DeleteNeighbours { get; } = [];

    public List<Neighbour> ReplaceNeighbours { get; } = [];

    public List<FdbEntry> ReplaceFdb { get; } = [];

    public List<Route> ReplaceRoutes { get; } = [];

    public bool IsEmpty => DeleteRoutes.Count + DeleteFdb.Count + DeleteNeighbours.Count + ReplaceNeighbours.Count + ReplaceFdb.Count + ReplaceRoutes.Count == 0;

    public int Changes => DeleteRoutes.Count + DeleteFdb.Count + DeleteNeighbours.Count + ReplaceNeighbours.Count + ReplaceFdb.Count + ReplaceRoutes.Count;

    /// <param name="desired">Entries of every remote lease.</param>
    /// <param name="routes">Routes the kernel holds that flanneld owns (already filtered by the backend).</param>
    /// <param name="neighbours">Neighbours flanneld owns.</param>
    /// <param name="fdb">FDB entries flanneld owns.</param>
    /// <param name="peers">How many peers <paramref name="desired"/> holds, when known: the collections are sized for them
    /// once instead of growing (with 10,000 peers each growth step leaves a large array behind until a full GC).</param>
    public static KernelPlan Build(IEnumerable<PeerEntries> desired, IReadOnlyCollection<Route> routes, IReadOnlyCollection<Neighbour> neighbours, IReadOnlyCollection<FdbEntry> fdb, int peers = 0)
    {
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(routes);
        ArgumentNullException.ThrowIfNull(neighbours);
        ArgumentNullException.ThrowIfNull(fdb);
        var plan = new KernelPlan();
        if (routes.Count == 0 && neighbours.Count == 0 && fdb.Count == 0)
        {
            // The kernel holds nothing of ours (a first start): every desired entry is added, in order, and an entry
            // wanted twice is replaced twice, the later one staying, just as the index below would choose it. The
            // index of 10,000 peers' entries is the sync's largest allocation, so it is only built when needed.
            plan.ReplaceNeighbours.EnsureCapacity(peers);
            plan.ReplaceFdb.EnsureCapacity(peers);
            plan.ReplaceRoutes.EnsureCapacity(peers);
            foreach (PeerEntries peer in desired)
            {
                plan.ReplaceNeighbours.AddRange(peer.Neighbours);
                plan.ReplaceFdb.AddRange(peer.Fdb);
                plan.ReplaceRoutes.AddRange(peer.Routes);
            }

            return plan;
        }

        var wantRoutes = new Dictionary<(IpPrefix, uint), Route>(peers);
        var wantNeighbours = new Dictionary<(int, System.Net.IPAddress), Neighbour>(peers);
        var wantFdb = new Dictionary<(int, System.Net.NetworkInformation.PhysicalAddress), FdbEntry>(peers);
        foreach (PeerEntries peer in desired)
        {
            foreach (Neighbour n in peer.Neighbours)
            {
                wantNeighbours[KernelEntryComparer.NeighbourKey(n)] = n;
            }

            foreach (FdbEntry f in peer.Fdb)
            {
                wantFdb[KernelEntryComparer.FdbKey(f)] = f;
            }

            foreach (Route r in peer.Routes)
            {
                wantRoutes[KernelEntryComparer.RouteKey(r)] = r;
            }
        }

        Reconcile(wantRoutes, routes, KernelEntryComparer.RouteKey, KernelEntryComparer.SameRoute, plan.DeleteRoutes, plan.ReplaceRoutes);
        Reconcile(wantFdb, fdb, KernelEntryComparer.FdbKey, KernelEntryComparer.SameFdb, plan.DeleteFdb, plan.ReplaceFdb);
        Reconcile(wantNeighbours, neighbours, KernelEntryComparer.NeighbourKey, KernelEntryComparer.SameNeighbour, plan.DeleteNeighbours, plan.ReplaceNeighbours);
        return plan;
    }

    /// <summary>The plan as one pipelined batch: deletions (routes, FDB, neighbours), then additions in install order.</summary>
    public NetlinkBatch ToBatch()
    {
        var batch = new NetlinkBatch();
        AppendTo(batch, 0, Changes);
        return batch;
    }

    /// <summary>
    /// Appends changes <paramref name="skip"/> to <paramref name="skip"/> + <paramref name="take"/> of the plan, in the
    /// order <see cref="ToBatch()"/> gives them: a large sync goes to the kernel in bounded batches, one batch object
    /// cleared and refilled, so that the message buffer (and the heap it grows) stays small.
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

    private static void Reconcile<TKey, T>(Dictionary<TKey, T> want, IReadOnlyCollection<T> have, Func<T, TKey> key, Func<T, T, bool> same, List<T> delete, List<T> replace)
        where TKey : notnull
    {
        var satisfied = new HashSet<TKey>(Math.Min(have.Count, want.Count));
        foreach (T entry in have)
        {
            TKey k = key(entry);
            if (want.TryGetValue(k, out T? wanted))
            {
                if (same(wanted, entry))
                {
                    satisfied.Add(k);
                }
            }
            else
            {
                delete.Add(entry);
            }
        }

        replace.EnsureCapacity(want.Count - satisfied.Count);
        foreach ((TKey k, T wanted) in want)
        {
            if (!satisfied.Contains(k))
            {
                replace.Add(wanted);
            }
        }
    }
}
