using System.Net;
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
/// (no NAT). Routes that someone deletes are put back by the periodic check. Dual stack: each remote IPv6 subnet is
/// routed via the remote node's PublicIPv6 the same way.
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
        NetConfig config = context.Config;
        if (config.EnableIPv4 && iface.ExternalAddress is { } publicIP && iface.Address is { } own && !publicIP.Equals(own))
        {
            throw new ConfigException("Backend.Type",
                $"your PublicIP {publicIP} differs from interface IP {own} of {iface.Name}, meaning that probably you're on a NAT, which is not supported by host-gw backend");
        }

        IPAddress? publicIPv6 = null;
        if (config.EnableIPv6)
        {
            publicIPv6 = iface.ExternalIPv6Address ?? iface.IPv6Address
                ?? throw new InvalidOperationException($"interface {iface.Name} has no IPv6 address to route IPv6 subnets through");
            if (iface.IPv6Address is { } own6 && !publicIPv6.Equals(own6))
            {
                throw new ConfigException("Backend.Type",
                    $"your PublicIPv6 {publicIPv6} differs from interface IPv6 {own6} of {iface.Name}, meaning that probably you're on a NAT, which is not supported by host-gw backend");
            }
        }

        IPAddress publicIPv4 = config.EnableIPv4 ? iface.ExternalAddress ?? iface.Address! : IPAddress.Any;
        var attrs = new LeaseAttrs(publicIPv4, publicIPv6, Type);
        var request = new LeaseRequest(config, attrs, context.PreviousSubnetEnv?.Subnet, context.PreviousSubnetEnv?.IPv6Subnet);
        Lease lease = await context.Store.AcquireLeaseAsync(request, cancellationToken);
        return new HostGwNetwork(_netlink, lease, iface, config, _logger);
    }

    private sealed class HostGwNetwork : PeerNetwork
    {
        private readonly ExternalInterface _iface;
        private readonly Ip4Net? _network;
        private readonly Ip6Net? _network6;
        private readonly FamilyEntries? _entriesV4;
        private readonly FamilyEntries? _entriesV6;

        public HostGwNetwork(Rtnetlink netlink, Lease lease, ExternalInterface iface, NetConfig config, ILogger logger)
            : base(netlink, lease, iface.Mtu, config, logger)
        {
            _iface = iface;
            _network = lease.Subnet is null ? null : config.Network ?? throw new ArgumentException("host-gw over IPv4 needs an IPv4 Network", nameof(config));
            _network6 = lease.IPv6Subnet is null ? null : config.IPv6Network ?? throw new ArgumentException("host-gw over IPv6 needs an IPv6Network", nameof(config));

            // Made once: a method group converted per call would allocate a delegate per peer and sync.
            _entriesV4 = _network is null ? null : EntriesV4;
            _entriesV6 = _network6 is null ? null : EntriesV6;
        }

        protected override PeerEntries? EntriesFor(Lease lease, out string? reason) =>
            DualStackEntries.Combine(lease, _entriesV4, _entriesV6, out reason);

        private PeerEntries? EntriesV4(Lease lease, out string? reason)
        {
            reason = PeerChecks.Validate(lease, "host-gw", _network!.Value, Config.SubnetLen, Lease.Subnet!.Value);
            return reason is null
                ? PeerEntries.RoutesOnly(new Route { Destination = lease.Subnet!.Value, Gateway = lease.Attrs.PublicIP, OutputInterface = _iface.Index })
                : null;
        }

        private PeerEntries? EntriesV6(Lease lease, out string? reason)
        {
            reason = PeerChecks.ValidateIPv6(lease, "host-gw", _network6!.Value, Config.IPv6SubnetLen, Lease.IPv6Subnet!.Value);
            return reason is null
                ? PeerEntries.RoutesOnly(new Route { Destination = lease.IPv6Subnet!.Value, Gateway = lease.Attrs.PublicIPv6, OutputInterface = _iface.Index })
                : null;
        }

        protected override async Task DumpOwnedAsync(KernelPlanBuilder kernel, CancellationToken cancellationToken)
        {
            if (_network is { } network)
            {
                Ip4Net own = Lease.Subnet!.Value;
                await Netlink.VisitRoutesAsync(AddressFamily.InterNetwork, r =>
                {
                    if (r.OutputInterface == _iface.Index && r.Gateway is not null && PeerChecks.IsPeerRoute(r, network, own))
                    {
                        kernel.Have(r);
                    }
                }, cancellationToken);
            }

            if (_network6 is { } network6)
            {
                Ip6Net own6 = Lease.IPv6Subnet!.Value;
                await Netlink.VisitRoutesAsync(AddressFamily.InterNetworkV6, r =>
                {
                    if (r.OutputInterface == _iface.Index && r.Gateway is not null && PeerChecks.IsPeerRoute(r, network6, own6))
                    {
                        kernel.Have(r);
                    }
                }, cancellationToken);
            }
        }
    }
}
