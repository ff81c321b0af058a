using Flannel.Linux.Netlink;

namespace Flanneld.Backends.Routing;

/// <summary>
/// The kernel entries that make one remote lease reachable, in the order they are installed: neighbours, then FDB
/// entries, then routes (the route last, so the kernel never has to resolve a next hop it cannot). Removal runs in
/// reverse.
/// </summary>
public sealed record PeerEntries(IReadOnlyList<Neighbour> Neighbours, IReadOnlyList<FdbEntry> Fdb, IReadOnlyList<Route> Routes)
{
    public static PeerEntries RoutesOnly(params Route[] routes) => new([], [], routes);

    public int Count => Neighbours.Count + Fdb.Count + Routes.Count;
}
