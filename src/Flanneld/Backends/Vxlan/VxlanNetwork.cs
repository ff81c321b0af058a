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

/// <summary>The running vxlan backend: see <see cref="VxlanBackend"/> for the entries it programs per peer.</summary>
public sealed class VxlanNetwork : PeerNetwork
{
    private readonly VxlanDevice _device;
    private readonly PhysicalAddress _mac;
    private readonly ExternalInterface _iface;
    private readonly bool _directRouting;
    private readonly Ip4Net _network;
    private IReadOnlyList<Ip4Net> _underlaySubnets = [];
    private int _deviceIndex;

    public VxlanNetwork(Rtnetlink netlink, Lease lease, VxlanDevice device, int deviceIndex, PhysicalAddress mac, ExternalInterface iface, bool directRouting, NetConfig config, ILogger logger)
        : base(netlink, lease, device.Mtu, config, logger)
    {
        ArgumentNullException.ThrowIfNull(config);
        _device = device;
        _deviceIndex = deviceIndex;
        _mac = mac;
        _iface = iface;
        _directRouting = directRouting;
        _network = config.Network ?? throw new ArgumentException("vxlan needs an IPv4 Network", nameof(config));
    }

    public int DeviceIndex => _deviceIndex;

    protected override PeerEntries? EntriesFor(Lease lease, out string? reason)
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

        if (VtepMac.ParseBackendData(lease.Attrs.BackendData, out reason) is not { } mac)
        {
            return null;
        }

        IPAddress vtep = subnet.Canonical.IPAddress;
        return new PeerEntries(
            [new Neighbour { InterfaceIndex = _deviceIndex, Address = vtep, LinkAddress = mac, State = NeighbourState.Permanent }],
            [new FdbEntry { InterfaceIndex = _deviceIndex, LinkAddress = mac, Destination = publicIP, State = NeighbourState.Permanent }],
            [new Route { Destination = subnet, Gateway = vtep, OutputInterface = _deviceIndex, OnLink = true }]);
    }

    protected override async Task PrepareSyncAsync(CancellationToken cancellationToken)
    {
        if (_directRouting)
        {
            _underlaySubnets = await PeerChecks.UnderlaySubnetsAsync(Netlink, _iface.Index, cancellationToken);
        }
    }

    protected override async Task<(IReadOnlyList<Route> Routes, IReadOnlyList<Neighbour> Neighbours, IReadOnlyList<FdbEntry> Fdb)> DumpOwnedAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<Route> routes = await Netlink.ListRoutesAsync(AddressFamily.InterNetwork, cancellationToken);
        IReadOnlyList<Neighbour> neighbours = await Netlink.ListNeighboursAsync(AddressFamily.InterNetwork, _deviceIndex, cancellationToken);
        IReadOnlyList<FdbEntry> fdb = await Netlink.ListFdbAsync(_deviceIndex, cancellationToken);
        Ip4Net own = Lease.Subnet!.Value;
        return (
            routes.Where(r => PeerChecks.IsPeerRoute(r, _network, own) && (r.OutputInterface == _deviceIndex || (_directRouting && r.OutputInterface == _iface.Index && r.Gateway is not null))).ToList(),
            neighbours.Where(n => n.InterfaceIndex == _deviceIndex && (n.State & NeighbourState.Permanent) != 0).ToList(),
            fdb.Where(f => f.InterfaceIndex == _deviceIndex && f.Destination is not null && (f.State & NeighbourState.Permanent) != 0).ToList());
    }

    /// <summary>Periodic repair, plus the device watch: a deleted <c>flannel.N</c> is recreated with its MAC and peers.</summary>
    public override async Task RunAsync(CancellationToken cancellationToken)
    {
        Task periodic = base.RunAsync(cancellationToken);
        Task watch = WatchDeviceAsync(cancellationToken);
        await Task.WhenAll(periodic, watch);
    }

    private async Task WatchDeviceAsync(CancellationToken cancellationToken)
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
                    if (events.Current is { Kind: LinkEventKind.Deleted } e && e.Link.Name == _device.Name)
                    {
                        BackendLog.DeviceDeleted(Logger, _device.Name);
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
        if (await Netlink.FindLinkAsync(_device.Name, cancellationToken) is { } link && link.Index == _deviceIndex)
        {
            return;
        }

        Link created = await _device.EnsureAsync(Netlink, _ => Task.FromResult<PhysicalAddress?>(_mac), Logger, cancellationToken);
        await VxlanDevice.ConfigureAsync(Netlink, created.Index, Lease.Subnet!.Value, _network, cancellationToken);
        _deviceIndex = created.Index;
        await ReprogramAllAsync(cancellationToken);
    }
}
