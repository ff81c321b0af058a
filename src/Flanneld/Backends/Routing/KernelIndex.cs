using System.Net;
using System.Net.NetworkInformation;
using Flannel.Linux.Netlink;

namespace Flanneld.Backends.Routing;

/// <summary>
/// The desired entries by the kernel slot they occupy, each with whether the kernel was seen to hold it; a slot wanted
/// twice keeps the later entry. Filled for one check and emptied after it, keeping its capacity.
/// </summary>
public sealed class KernelIndex
{
    internal Dictionary<(IpPrefix, uint), Wanted<Route>> Routes { get; } = [];

    internal Dictionary<(int, IPAddress), Wanted<Neighbour>> Neighbours { get; } = [];

    internal Dictionary<(int, PhysicalAddress), Wanted<FdbEntry>> Fdb { get; } = [];

    internal void Load(IEnumerable<PeerEntries> desired, int peers)
    {
        Clear();
        Routes.EnsureCapacity(peers);
        Neighbours.EnsureCapacity(peers);
        Fdb.EnsureCapacity(peers);
        foreach (PeerEntries peer in desired)
        {
            foreach (Neighbour n in peer.Neighbours)
            {
                Neighbours[KernelEntryComparer.NeighbourKey(n)] = new(n);
            }

            foreach (FdbEntry f in peer.Fdb)
            {
                Fdb[KernelEntryComparer.FdbKey(f)] = new(f);
            }

            foreach (Route r in peer.Routes)
            {
                Routes[KernelEntryComparer.RouteKey(r)] = new(r);
            }
        }
    }

    /// <summary>Drops the entries (not the capacity), so that removed peers' entries are not kept until the next check.</summary>
    internal void Clear()
    {
        Routes.Clear();
        Neighbours.Clear();
        Fdb.Clear();
    }

    internal struct Wanted<T>(T entry)
    {
        public readonly T Entry = entry;
        public bool Satisfied;
    }
}
