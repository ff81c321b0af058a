using System.Net.Sockets;
using Flannel.Core.Leases;
using Flannel.Linux.Netlink;
using Microsoft.Extensions.Logging;

namespace Flanneld.Daemon;

/// <summary>
/// <c>--ip-blackhole-route</c>: keeps <c>blackhole &lt;own subnet&gt;</c> in the main table, re-checked every resync
/// period, so that traffic to unassigned pod addresses dies on this node instead of following the default route (setups
/// without the bridge plugin, e.g. Canal). Where cni0 already routes the subnet, the route exists and nothing is added.
/// </summary>
public sealed class BlackholeRouteKeeper(Rtnetlink netlink, TimeSpan period, ILogger logger)
{
    public async Task RunAsync(Lease lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        if (lease.Subnet is not { } subnet)
        {
            return;
        }

        var route = new Route { Destination = subnet, Type = RouteType.Blackhole };
        using var timer = new PeriodicTimer(period);
        do
        {
            try
            {
                IReadOnlyList<Route> routes = await netlink.ListRoutesAsync(AddressFamily.InterNetwork, cancellationToken);
                if (!routes.Any(r => r.Destination == route.Destination))
                {
                    await netlink.AddRouteAsync(route, cancellationToken);
                    DaemonLog.BlackholeRouteAdded(logger, subnet.ToString());
                }
            }
            catch (NetlinkException ex)
            {
                DaemonLog.BlackholeRouteFailed(logger, subnet.ToString(), ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken));
    }
}
