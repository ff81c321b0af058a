using System.Net;
using System.Net.NetworkInformation;
using Flannel.Core.Config;
using Flannel.Core.Leases;
using Flannel.Core.Net;
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
/// Dual stack (EnableIPv6): a second device, <c>flannel-v6.&lt;VNI&gt;</c>, with the same VNI and port and the node's
/// IPv6 address as local, does the same for IPv6 subnets; its MAC goes into the lease's BackendV6Data.
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
        NetConfig netConfig = context.Config;
        VxlanConfig config = VxlanConfig.Parse(netConfig.Backend);
        ExternalInterface iface = context.Interface;
        int outerMtu = config.Mtu > 0 ? config.Mtu : iface.Mtu;
        VxlanDevice? device = null;
        IPAddress publicIP = IPAddress.Any;
        if (netConfig.EnableIPv4)
        {
            IPAddress local = iface.Address ?? throw new InvalidOperationException($"interface {iface.Name} has no IPv4 address for the VXLAN tunnel");
            publicIP = iface.ExternalAddress ?? local;
            device = new VxlanDevice(config.Name, Settings(config, local, iface), outerMtu - VxlanConfig.Overhead);
        }

        VxlanDevice? device6 = null;
        IPAddress? publicIPv6 = null;
        if (netConfig.EnableIPv6)
        {
            IPAddress local6 = iface.IPv6Address ?? throw new InvalidOperationException($"interface {iface.Name} has no IPv6 address for the IPv6 VXLAN tunnel");
            publicIPv6 = iface.ExternalIPv6Address ?? local6;
            if (config.IPv6Name.Length > LinkName.MaxLength)
            {
                throw new ConfigException("Backend.VNI",
                    $"{config.Vni}: the IPv6 device name {config.IPv6Name} would be longer than {LinkName.MaxLength} characters");
            }

            device6 = new VxlanDevice(config.IPv6Name, Settings(config, local6, iface), outerMtu - VxlanConfig.IPv6Overhead);
        }

        // Only a device that must be created asks the store (a full lease listing) for the MAC advertised last. The
        // store finds this node's lease by its IPv4 PublicIP, or by its PublicIPv6 on an IPv6-only node (whose lease
        // has PublicIP 0.0.0.0, like every other IPv6-only node's).
        IPAddress? storedBy = netConfig.EnableIPv4 ? publicIP : publicIPv6;
        LeaseAttrs? stored = null;
        bool storedRead = false;
        async Task<PhysicalAddress?> StoredMac(bool ipv6, CancellationToken ct)
        {
            if (storedBy is null)
            {
                return null;
            }

            if (!storedRead)
            {
                stored = await context.Store.GetStoredAttrsAsync(storedBy, ct);
                storedRead = true;
            }

            return stored is { BackendType: "vxlan" } attrs
                ? VtepMac.ParseBackendData(ipv6 ? attrs.BackendV6Data : attrs.BackendData, out _)
                : null;
        }

        Link? link = device is null ? null : await device.EnsureAsync(_netlink, ct => StoredMac(false, ct), _logger, cancellationToken);
        Link? link6 = device6 is null ? null : await device6.EnsureAsync(_netlink, ct => StoredMac(true, ct), _logger, cancellationToken);
        var attrs = new LeaseAttrs(
            publicIP,
            publicIPv6,
            Type,
            link is null ? null : VtepMac.FormatBackendData((uint)config.Vni, link.HardwareAddress!),
            link6 is null ? null : VtepMac.FormatBackendData((uint)config.Vni, link6.HardwareAddress!));
        var request = new LeaseRequest(netConfig, attrs, context.PreviousSubnetEnv?.Subnet, context.PreviousSubnetEnv?.IPv6Subnet);
        Lease lease = await context.Store.AcquireLeaseAsync(request, cancellationToken);

        VxlanTunnel? tunnel = null;
        if (device is not null && link is not null)
        {
            Ip4Net subnet = lease.Subnet ?? throw new InvalidOperationException("the vxlan backend needs an IPv4 lease");
            await VxlanDevice.ConfigureAsync(_netlink, link.Index, subnet, netConfig.Network!.Value, cancellationToken);
            tunnel = new VxlanTunnel(device, link.Index, link.HardwareAddress!);
        }

        VxlanTunnel? tunnel6 = null;
        if (device6 is not null && link6 is not null)
        {
            Ip6Net subnet6 = lease.IPv6Subnet ?? throw new InvalidOperationException("the vxlan backend needs an IPv6 lease when EnableIPv6 is set");
            await device6.ConfigureIPv6Async(_netlink, link6.Index, subnet6, cancellationToken);
            tunnel6 = new VxlanTunnel(device6, link6.Index, link6.HardwareAddress!);
        }

        return new VxlanNetwork(_netlink, lease, tunnel, tunnel6, iface, config.DirectRouting, netConfig, _logger);
    }

    private static VxlanSettings Settings(VxlanConfig config, IPAddress local, ExternalInterface iface) => new()
    {
        Vni = (uint)config.Vni,
        Port = (ushort)config.Port,
        Local = local,
        UnderlayIndex = iface.Index,
        Learning = config.Learning,
        Gbp = config.Gbp,
    };
}
