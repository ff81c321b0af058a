using System.Net;
using System.Net.NetworkInformation;
using Flannel.Core.Leases;
using Flannel.Linux.Netlink;
using Microsoft.Extensions.Logging;
using Flannel.Linux.Interfaces;

namespace Flanneld.Backends.Vxlan;

/// <summary>
/// The vxlan backend, wire-compatible with upstream. One device, <c>flannel.&lt;VNI&gt;</c>, carries every remote
/// subnet. For each remote lease the kernel gets three entries and nothing else:
/// <list type="number">
/// <item>a permanent neighbour: the remote subnet's network address (its <c>flannel.N</c> address) → the remote VTEP MAC;</item>
/// <item>a permanent FDB entry: that MAC → the remote node's public IP (where to send the encapsulated frame);</item>
/// <item>a route: the remote subnet via its network address, on-link on <c>flannel.N</c>.</item>
/// </list>
/// No miss notifications, no learning, no route for the whole network: the kernel resolves everything from these.
/// With DirectRouting, a peer on the same L2 gets a plain route via its public IP instead (host-gw style).
/// The VTEP MAC is kept across restarts: from the existing device, else from the lease this node advertised last.
/// </summary>
public sealed class VxlanBackend : IBackend
{
    private readonly Rtnetlink _netlink;
    private readonly ILogger _logger;

    public VxlanBackend(Rtnetlink netlink, ILogger logger)
    {
        _netlink = netlink;
        _logger = logger;
    }

    public string Type => "vxlan";

    public async Task<IBackendNetwork> RegisterNetworkAsync(BackendContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        VxlanConfig config = VxlanConfig.Parse(context.Config.Backend);
        ExternalInterface iface = context.Interface;
        IPAddress local = iface.Address ?? throw new InvalidOperationException($"interface {iface.Name} has no IPv4 address for the VXLAN tunnel");
        IPAddress publicIP = iface.ExternalAddress ?? local;
        int outerMtu = config.Mtu > 0 ? config.Mtu : iface.Mtu;
        var device = new VxlanDevice(config.Name, new VxlanSettings
        {
            Vni = (uint)config.Vni,
            Port = (ushort)config.Port,
            Local = local,
            UnderlayIndex = iface.Index,
            Learning = config.Learning,
            Gbp = config.Gbp,
        }, outerMtu - VxlanConfig.Overhead);

        // Only a device that must be created asks the store (a full lease listing) for the MAC advertised last.
        async Task<PhysicalAddress?> StoredMac(CancellationToken ct) =>
            await context.Store.GetStoredAttrsAsync(publicIP, ct) is { BackendType: "vxlan" } stored
                ? VtepMac.ParseBackendData(stored.BackendData, out _)
                : null;

        Link link = await device.EnsureAsync(_netlink, StoredMac, _logger, cancellationToken);
        PhysicalAddress mac = link.HardwareAddress!;
        var attrs = new LeaseAttrs(publicIP, null, Type, VtepMac.FormatBackendData((uint)config.Vni, mac));
        var request = new LeaseRequest(context.Config, attrs, context.PreviousSubnetEnv?.Subnet, context.PreviousSubnetEnv?.IPv6Subnet);
        Lease lease = await context.Store.AcquireLeaseAsync(request, cancellationToken);
        if (lease.Subnet is not { } subnet)
        {
            throw new InvalidOperationException("the vxlan backend needs an IPv4 lease");
        }

        await VxlanDevice.ConfigureAsync(_netlink, link.Index, subnet, context.Config.Network!.Value, cancellationToken);
        return new VxlanNetwork(_netlink, lease, device, link.Index, mac, iface, config.DirectRouting, context.Config, _logger);
    }
}
