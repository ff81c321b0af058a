using System.Net.Sockets;
using Flannel.Linux.Namespaces;
using Flannel.Linux.Netlink;

namespace Flannel.Bench;

/// <summary>Counts what a node's kernel holds for remote leases, by netlink dumps inside the node's namespace.</summary>
internal sealed class KernelCounter : IDisposable
{
    private readonly NetworkNamespace _namespace;
    private readonly Rtnetlink _netlink;

    public KernelCounter(string ns)
    {
        _namespace = NetworkNamespace.Open(ns);
        _netlink = Rtnetlink.Open(_namespace);
    }

    public async Task<int> LinkIndexAsync(string name) => (await _netlink.FindLinkAsync(name, CancellationToken.None))?.Index ?? 0;

    /// <summary>Routes with a gateway into <paramref name="within"/> (host-gw and vxlan peer routes alike).</summary>
    public async Task<int> PeerRoutesAsync(IpPrefix within)
    {
        IReadOnlyList<Route> routes = await _netlink.ListRoutesAsync(AddressFamily.InterNetwork, CancellationToken.None);
        return routes.Count(r => r.Gateway is not null && within.Contains(r.Destination.Address));
    }

    public async Task<int> PermanentNeighboursAsync(int linkIndex) =>
        (await _netlink.ListNeighboursAsync(AddressFamily.InterNetwork, linkIndex, CancellationToken.None)).Count(n => n.State == NeighbourState.Permanent);

    public async Task<int> RemoteFdbEntriesAsync(int linkIndex) =>
        (await _netlink.ListFdbAsync(linkIndex, CancellationToken.None)).Count(e => e.Destination is not null);

    /// <summary>
    /// Waits until the node holds <paramref name="routes"/> peer routes and, when <paramref name="vxlan"/>, as many
    /// neighbours and FDB entries on flannel.1; each kind is dumped only until it is complete, to keep polling light.
    /// Returns false on timeout. <paramref name="exact"/> waits for equality (removals) rather than at least.
    /// </summary>
    public async Task<bool> WaitForAsync(IpPrefix within, int routes, bool vxlan, TimeSpan timeout, bool exact = false, int pollMs = 5)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        bool Done(int have) => exact ? have == routes : have >= routes;
        bool fdbDone = !vxlan, neighDone = !vxlan, routesDone = false;
        while (DateTime.UtcNow < deadline)
        {
            int link = vxlan ? await LinkIndexAsync("flannel.1") : 0;
            if (!vxlan || link > 0)
            {
                fdbDone = fdbDone || Done(await RemoteFdbEntriesAsync(link));
                neighDone = neighDone || (fdbDone && Done(await PermanentNeighboursAsync(link)));
                routesDone = routesDone || (neighDone && Done(await PeerRoutesAsync(within)));
                if (routesDone)
                {
                    return true;
                }
            }

            await Task.Delay(pollMs);
        }

        return false;
    }

    public void Dispose()
    {
        _netlink.Dispose();
        _namespace.Dispose();
    }
}
