using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Flannel.Core.Config;
using Flannel.Core.Leases;
using Flannel.Core.Net;
using Flannel.Linux.Netlink;
using Flanneld.Backends.Routing;
using Microsoft.Extensions.Logging;
using Flannel.Linux.Interfaces;

namespace Flanneld.Backends.Vxlan;

/// <summary>
/// The running vxlan backend: see <see cref="VxlanBackend"/> for the entries it programs per peer. With dual stack the
/// IPv4 entries go on <c>flannel.N</c> and the IPv6 ones (the same three, keyed by the IPv6 subnet, PublicIPv6 and
/// BackendV6Data) on <c>flannel-v6.N</c>; each family of a lease is programmed on its own.
/// </summary>
public sealed class VxlanNetwork : PeerNetwork
{
    private readonly VxlanTunnel? _v4;
    private readonly VxlanTunnel? _v6;
    private readonly ExternalInterface _iface;
    private readonly bool _directRouting;
    private readonly Ip4Net _network;
    private readonly Ip6Net _network6;
    private IReadOnlyList<Ip4Net> _underlaySubnets = [];
    private IReadOnlyList<IpPrefix> _underlayPrefixes6 = [];

    // Made once: a method group converted per call would allocate a delegate per peer and sync.
    private readonly FamilyEntries? _entriesV4;
    private readonly FamilyEntries? _entriesV6;

    public VxlanNetwork(Rtnetlink netlink, Lease lease, VxlanTunnel? v4, VxlanTunnel? v6, ExternalInterface iface, bool directRouting, NetConfig config, ILogger logger)
        : base(netlink, lease, (v4 ?? v6)?.Device.Mtu ?? throw new ArgumentException("vxlan needs an IPv4 or an IPv6 device"), config, logger)
    {
        ArgumentNullException.ThrowIfNull(config);
        _v4 = v4;
        _v6 = v6;
        _iface = iface;
        _directRouting = directRouting;
        if (v4 is not null)
        {
            _network = config.Network ?? throw new ArgumentException("vxlan over IPv4 needs an IPv4 Network", nameof(config));
            _ = lease.Subnet ?? throw new ArgumentException("vxlan over IPv4 needs an IPv4 lease", nameof(lease));
            _entriesV4 = EntriesV4;
        }

        if (v6 is not null)
        {
            _network6 = config.IPv6Network ?? throw new ArgumentException("vxlan over IPv6 needs an IPv6Network", nameof(config));
            _ = lease.IPv6Subnet ?? throw new ArgumentException("vxlan over IPv6 needs an IPv6 lease", nameof(lease));
            _entriesV6 = EntriesV6;
        }
    }

    /// <summary>The IPv4 device's index; 0 when IPv4 is off.</summary>
    public int DeviceIndex => _v4?.Index ?? 0;

    /// <summary>The IPv6 device's index; 0 when IPv6 is off.</summary>
    public int IPv6DeviceIndex => _v6?.Index ?? 0;

    protected override PeerEntries? EntriesFor(Lease lease, out string? reason) =>
        DualStackEntries.Combine(lease, _entriesV4, _entriesV6, out reason);

    private PeerEntries? EntriesV4(Lease lease, out string? reason)
    {
        reason = PeerChecks.Validate(lease, "vxlan", _network, Config.SubnetLen, Lease.Subnet!.Value);
        if (reason is not null)
        {
            return null;
        }

        Ip4Net subnet = lease.Subnet!.Value;
        IPAddress publicIP = lease.Attrs.PublicIP;
        if (_directRouting && PeerChecks.OnSameLink(publicIP, _underlaySubnets))
        {
            return PeerEntries.RoutesOnly(new Route { Destination = subnet, Gateway = publicIP, OutputInterface = _iface.Index });
        }

        return VxlanPeer(_v4!, subnet, subnet.IsCanonical ? null : subnet.Canonical.IPAddress, publicIP, lease.Attrs.BackendData, out reason);
    }

    private PeerEntries? EntriesV6(Lease lease, out string? reason)
    {
        reason = PeerChecks.ValidateIPv6(lease, "vxlan", _network6, Config.IPv6SubnetLen, Lease.IPv6Subnet!.Value);
        if (reason is not null)
        {
            return null;
        }

        Ip6Net subnet = lease.IPv6Subnet!.Value;
        IPAddress publicIPv6 = lease.Attrs.PublicIPv6!;
        if (_directRouting && PeerChecks.OnSameLink(publicIPv6, _underlayPrefixes6))
        {
            return PeerEntries.RoutesOnly(new Route { Destination = subnet, Gateway = publicIPv6, OutputInterface = _iface.Index });
        }

        return VxlanPeer(_v6!, subnet, subnet.IsCanonical ? null : subnet.Canonical.IPAddress, publicIPv6, lease.Attrs.BackendV6Data, out reason);
    }

    /// <summary>
    /// Neighbour (remote VTEP address → MAC), FDB (MAC → remote public address), on-link route via the VTEP address.
    /// The VTEP address is the subnet's first address: for a canonical subnet the route's destination address object is
    /// shared instead of a second one made (programmed entries are most of the daemon's heap with 10,000 peers).
    /// </summary>
    private static PeerEntries? VxlanPeer(VxlanTunnel tunnel, IpPrefix subnet, IPAddress? vtepIfNotCanonical, IPAddress publicAddress, string? backendData, out string? reason)
    {
        if (VtepMac.ParseBackendData(backendData, out reason) is not { } mac)
        {
            return null;
        }

        IPAddress vtep = vtepIfNotCanonical ?? subnet.Address;

        return new PeerEntries(
            [new Neighbour { InterfaceIndex = tunnel.Index, Address = vtep, LinkAddress = mac, State = NeighbourState.Permanent }],
            [new FdbEntry { InterfaceIndex = tunnel.Index, LinkAddress = mac, Destination = publicAddress, State = NeighbourState.Permanent }],
            [new Route { Destination = subnet, Gateway = vtep, OutputInterface = tunnel.Index, OnLink = true }]);
    }

    protected override async Task PrepareSyncAsync(CancellationToken cancellationToken)
    {
        if (_directRouting && _v4 is not null)
        {
            _underlaySubnets = await PeerChecks.UnderlaySubnetsAsync(Netlink, _iface.Index, cancellationToken);
        }

        if (_directRouting && _v6 is not null)
        {
            _underlayPrefixes6 = await PeerChecks.UnderlayIPv6PrefixesAsync(Netlink, _iface.Index, cancellationToken);
        }
    }

    protected override async Task DumpOwnedAsync(KernelPlanBuilder kernel, CancellationToken cancellationToken)
    {
        if (_v4 is not null)
        {
            Ip4Net own = Lease.Subnet!.Value;
            await Netlink.VisitRoutesAsync(AddressFamily.InterNetwork, r =>
            {
                if (PeerChecks.IsPeerRoute(r, _network, own) && IsOurDevice(r, _v4))
                {
                    kernel.Have(r);
                }
            }, cancellationToken);
            await VisitDeviceEntriesAsync(_v4, AddressFamily.InterNetwork, kernel, cancellationToken);
        }

        if (_v6 is not null)
        {
            Ip6Net own6 = Lease.IPv6Subnet!.Value;
            await Netlink.VisitRoutesAsync(AddressFamily.InterNetworkV6, r =>
            {
                if (PeerChecks.IsPeerRoute(r, _network6, own6) && IsOurDevice(r, _v6))
                {
                    kernel.Have(r);
                }
            }, cancellationToken);
            await VisitDeviceEntriesAsync(_v6, AddressFamily.InterNetworkV6, kernel, cancellationToken);
        }
    }

    private bool IsOurDevice(Route route, VxlanTunnel tunnel) =>
        route.OutputInterface == tunnel.Index || (_directRouting && route.OutputInterface == _iface.Index && route.Gateway is not null);

    private async Task VisitDeviceEntriesAsync(VxlanTunnel tunnel, AddressFamily family, KernelPlanBuilder kernel, CancellationToken cancellationToken)
    {
        await Netlink.VisitNeighboursAsync(family, tunnel.Index, n =>
        {
            if ((n.State & NeighbourState.Permanent) != 0)
            {
                kernel.Have(n);
            }
        }, cancellationToken);
        await Netlink.VisitFdbAsync(tunnel.Index, f =>
        {
            if (f.Destination is not null && (f.State & NeighbourState.Permanent) != 0)
            {
                kernel.Have(f);
            }
        }, cancellationToken);
    }

    /// <summary>Periodic repair, plus the device watch: a deleted <c>flannel.N</c> or <c>flannel-v6.N</c> is recreated with its MAC and peers.</summary>
    public override async Task RunAsync(CancellationToken cancellationToken)
    {
        Task periodic = base.RunAsync(cancellationToken);
        Task watch = WatchDevicesAsync(cancellationToken);
        await Task.WhenAll(periodic, watch);
    }

    private async Task WatchDevicesAsync(CancellationToken cancellationToken)
    {
        var backoff = TimeSpan.FromSeconds(1);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                // Check once after subscribing: a deletion between start-up and the subscription would go unseen.
                await using IAsyncEnumerator<LinkEvent> events = Rtnetlink.WatchLinksAsync(null, cancellationToken).GetAsyncEnumerator(cancellationToken);
                Task<bool> next = events.MoveNextAsync().AsTask();
                await RecreateIfMissingAsync(cancellationToken);
                while (await next)
                {
                    if (events.Current is { Kind: LinkEventKind.Deleted } e
                        && (e.Link.Name == _v4?.Device.Name || e.Link.Name == _v6?.Device.Name))
                    {
                        BackendLog.DeviceDeleted(Logger, e.Link.Name);
                        await RecreateIfMissingAsync(cancellationToken);
                    }

                    next = events.MoveNextAsync().AsTask();
                }
            }
            catch (Exception ex) when (ex is SocketException or NetlinkException)
            {
                BackendLog.CheckFailed(Logger, ex.Message);
                await Task.Delay(backoff, cancellationToken);
                backoff = backoff * 2 > TimeSpan.FromSeconds(30) ? TimeSpan.FromSeconds(30) : backoff * 2;
            }
        }
    }

    private async Task RecreateIfMissingAsync(CancellationToken cancellationToken)
    {
        bool recreated = false;
        if (_v4 is not null && await RecreateIfMissingAsync(_v4, cancellationToken) is { } index)
        {
            await VxlanDevice.ConfigureAsync(Netlink, index, Lease.Subnet!.Value, _network, cancellationToken);
            recreated = true;
        }

        if (_v6 is not null && await RecreateIfMissingAsync(_v6, cancellationToken) is { } index6)
        {
            await _v6.Device.ConfigureIPv6Async(Netlink, index6, Lease.IPv6Subnet!.Value, cancellationToken);
            recreated = true;
        }

        if (recreated)
        {
            await ReprogramAllAsync(cancellationToken);
        }
    }

    /// <summary>The new index when the device had to be recreated; null when it is still there.</summary>
    private async Task<int?> RecreateIfMissingAsync(VxlanTunnel tunnel, CancellationToken cancellationToken)
    {
        if (await Netlink.FindLinkAsync(tunnel.Device.Name, cancellationToken) is { } link && link.Index == tunnel.Index)
        {
            return null;
        }

        Link created = await tunnel.Device.EnsureAsync(Netlink, _ => Task.FromResult<PhysicalAddress?>(tunnel.Mac), Logger, cancellationToken);
        tunnel.Index = created.Index;
        return created.Index;
    }
}
