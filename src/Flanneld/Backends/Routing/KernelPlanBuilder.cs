using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Flannel.Linux.Netlink;
using Flanneld.Runtime;

namespace Flanneld.Backends.Routing;

/// <summary>
/// Builds a <see cref="KernelPlan"/> while the kernel's entries stream past from a dump that keeps none of them: the
/// desired entries are indexed by kernel identity when the kernel reports its first entry of ours, each reported entry
/// is matched against that index and dropped, and the desired entries left unmatched are added at the end. With
/// 10,000 peers neither the 30,000 kernel entries nor, on a first start (the kernel holds nothing of ours), an index
/// of the desired ones is ever held whole.
/// </summary>
public sealed class KernelPlanBuilder
{
    private readonly IEnumerable<PeerEntries> _desired;
    private readonly int _peers;
    private readonly KernelPlan _plan = new();
    private readonly KernelIndex _index;
    private bool _indexed;
    private bool _built;
    private int _seen;

    /// <param name="desired">Entries of every remote lease; enumerated once, at the first kernel entry or at <see cref="Build"/>.</param>
    /// <param name="peers">How many peers <paramref name="desired"/> holds, when known: collections are sized once instead of growing.</param>
    /// <param name="index">An index to fill and empty again, kept by the caller from one check to the next so that its
    /// large arrays are allocated once, not every 10 s; a new one when null.</param>
    public KernelPlanBuilder(IEnumerable<PeerEntries> desired, int peers = 0, KernelIndex? index = null)
    {
        ArgumentNullException.ThrowIfNull(desired);
        _desired = desired;
        _peers = peers;
        _index = index ?? new KernelIndex();
    }

    /// <summary>A route the kernel holds that flanneld owns (already filtered by the backend).</summary>
    public void Have(Route route) =>
        Match(Indexed().Routes, KernelEntryComparer.RouteKey(route), route, KernelEntryComparer.SameRoute, _plan.DeleteRoutes);

    /// <summary>A neighbour the kernel holds that flanneld owns.</summary>
    public void Have(Neighbour neighbour) =>
        Match(Indexed().Neighbours, KernelEntryComparer.NeighbourKey(neighbour), neighbour, KernelEntryComparer.SameNeighbour, _plan.DeleteNeighbours);

    /// <summary>An FDB entry the kernel holds that flanneld owns.</summary>
    public void Have(FdbEntry entry) =>
        Match(Indexed().Fdb, KernelEntryComparer.FdbKey(entry), entry, KernelEntryComparer.SameFdb, _plan.DeleteFdb);

    /// <summary>The plan: what the kernel reported and nobody wants is deleted, what is wanted and not there (or different) is placed.</summary>
    public KernelPlan Build()
    {
        if (_built)
        {
            throw new InvalidOperationException("the plan was already built");
        }

        _built = true;
        if (!_indexed)
        {
            // The kernel reported nothing of ours: every desired entry is added, in order, and an entry wanted twice is
            // replaced twice, the later one staying, just as the index would choose it.
            _plan.ReplaceNeighbours.EnsureCapacity(_peers);
            _plan.ReplaceFdb.EnsureCapacity(_peers);
            _plan.ReplaceRoutes.EnsureCapacity(_peers);
            foreach (PeerEntries peer in _desired)
            {
                _plan.ReplaceNeighbours.AddRange(peer.Neighbours);
                _plan.ReplaceFdb.AddRange(peer.Fdb);
                _plan.ReplaceRoutes.AddRange(peer.Routes);
            }

            return _plan;
        }

        AddUnsatisfied(_index.Neighbours, _plan.ReplaceNeighbours);
        AddUnsatisfied(_index.Fdb, _plan.ReplaceFdb);
        AddUnsatisfied(_index.Routes, _plan.ReplaceRoutes);
        _index.Clear();
        return _plan;
    }

    private KernelIndex Indexed()
    {
        if (_built)
        {
            throw new InvalidOperationException("the plan was already built");
        }

        if (!_indexed)
        {
            _index.Load(_desired, _peers);
            _indexed = true;
        }

        return _index;
    }

    private void Match<TKey, T>(Dictionary<TKey, KernelIndex.Wanted<T>> want, TKey key, T have, Func<T, T, bool> same, List<T> delete)
        where TKey : notnull
    {
        if ((++_seen & 1023) == 0)
        {
            // Each kernel entry was parsed into objects just for this comparison.
            HeapRelease.DuringBulkWork();
        }

        ref KernelIndex.Wanted<T> wanted = ref CollectionsMarshal.GetValueRefOrNullRef(want, key);
        if (Unsafe.IsNullRef(ref wanted))
        {
            delete.Add(have);
        }
        else if (same(wanted.Entry, have))
        {
            // A dump read again after an interruption may report an entry twice: matching is idempotent.
            wanted.Satisfied = true;
        }
    }

    private static void AddUnsatisfied<TKey, T>(Dictionary<TKey, KernelIndex.Wanted<T>> want, List<T> replace)
        where TKey : notnull
    {
        foreach (KernelIndex.Wanted<T> wanted in want.Values)
        {
            if (!wanted.Satisfied)
            {
                replace.Add(wanted.Entry);
            }
        }
    }
}
