using System.Net.Sockets;
using Flannel.Core.Config;
using Flannel.Core.Leases;
using Flannel.Core.Net;
using Flannel.Linux.Netlink;
using Flanneld.Backends.Routing;
using Microsoft.Extensions.Logging;
using Flannel.Linux.Interfaces;

namespace Flanneld.Backends.HostGw;

/// <summary>
/// The host-gw backend: no device, no encapsulation. Every remote subnet is routed via the remote node's public IP
/// on the underlay interface, so all nodes must share one L2 segment and advertise their interface's own address
/// (no NAT). Routes that someone deletes are put back by the periodic check.
/// </summary>
public sealed class HostGwBackend : IBackend
{
    private readonly Rtnetlink _netlink;
    private readonly ILogger _logger;

    public HostGwBackend(Rtnetlink netlink, ILogger logger)
    {
        _netlink = netlink;
        _logger = logger;
    }

    public string Type => "host-gw";

    public async Task<IBackendNetwork> RegisterNetworkAsync(BackendContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ExternalInterface iface = context.Interface;
        if (iface.ExternalAddress is { } publicIP && iface.Address is { } own && !publicIP.Equals(own))
        {
            throw new ConfigException("Backend.Type",
                $"your PublicIP {publicIP} differs from interface IP {own} of {iface.Name}, meaning that probably you're on a NAT, which is not supported by host-gw backend");
        }

        var attrs = new LeaseAttrs(iface.ExternalAddress ?? iface.Address!, null, Type);
        var request = new LeaseRequest(context.Config, attrs, context.PreviousSubnetEnv?.Subnet, context.PreviousSubnetEnv?.IPv6Subnet);
        Lease lease = await context.Store.AcquireLeaseAsync(request, cancellationToken);
        return new HostGwNetwork(_netlink, lease, iface, context.Config, _logger);
    }

    private sealed class HostGwNetwork : PeerNetwork
    {
        private readonly ExternalInterface _iface;
        private readonly Ip4Net _network;

        public HostGwNetwork(Rtnetlink netlink, Lease lease, ExternalInterface iface, NetConfig config, ILogger logger)
            : base(netlink, lease, iface.Mtu, config, logger)
        {
            _iface = iface;
            _network = config.Network ?? throw new ArgumentException("host-gw needs an IPv4 Network", nameof(config));
        }

        protected override PeerEntries? EntriesFor(Lease lease, out string? reason)
        {
            reason = PeerChecks.Validate(lease, "host-gw", _network, Config.SubnetLen, Lease.Subnet!.Value);
            return reason is null
                ? PeerEntries.RoutesOnly(new Route { Destination = lease.Subnet!.Value, Gateway = lease.Attrs.PublicIP, OutputInterface = _iface.Index })
                : null;
        }

        protected override async Task<(IReadOnlyList<Route> Routes, IReadOnlyList<Neighbour> Neighbours, IReadOnlyList<FdbEntry> Fdb)> DumpOwnedAsync(CancellationToken cancellationToken)
        {
            IReadOnlyList<Route> routes = await Netlink.ListRoutesAsync(AddressFamily.InterNetwork, cancellationToken);
            Ip4Net own = Lease.Subnet!.Value;
            return (routes.Where(r => r.OutputInterface == _iface.Index && r.Gateway is not null && PeerChecks.IsPeerRoute(r, _network, own)).ToList(), [], []);
        }
    }
}
