using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Flannel.Core.Net;
using Flannel.Linux.Netlink;
using Flannel.Linux.Interfaces;
using Flannel.Linux.Namespaces;
using Microsoft.Extensions.Logging;

namespace Flanneld.Backends.Vxlan;

/// <summary>
/// The <c>flannel.&lt;VNI&gt;</c> (or, IPv6, <c>flannel-v6.&lt;VNI&gt;</c>) device: reused when an existing one is
/// compatible (a restart must not disturb the data path), else (re)created with the node's VTEP MAC; then given
/// <c>&lt;subnet&gt;.0/32</c> (IPv6: <c>&lt;subnet&gt;::/128</c>) and brought up.
/// </summary>
public sealed record VxlanDevice(string Name, VxlanSettings Settings, int Mtu)
{
    /// <summary>Null when <paramref name="link"/> can be reused as this device (upstream's rules); else why not.</summary>
    public string? IncompatibilityOf(Link link)
    {
        ArgumentNullException.ThrowIfNull(link);
        return link.Kind != "vxlan" || link.Vxlan is not { } have ? $"kind {link.Kind ?? "none"}" : have.IncompatibilityWith(Settings);
    }

    /// <summary>
    /// Finds or creates the device; returns it as the kernel reports it (its MAC is the VTEP MAC).
    /// <paramref name="preferredMac"/> is asked only when a device has to be created: a reused one keeps its own MAC.
    /// </summary>
    public async Task<Link> EnsureAsync(Rtnetlink netlink, Func<CancellationToken, Task<PhysicalAddress?>> preferredMac, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(preferredMac);
        ArgumentNullException.ThrowIfNull(netlink);
        Link? existing = await netlink.FindLinkAsync(Name, cancellationToken);
        if (existing is not null)
        {
            string? incompatibility = IncompatibilityOf(existing);
            if (incompatibility is null && existing.HardwareAddress is { } mac && VtepMac.IsUsable(mac))
            {
                if (existing.Mtu != Mtu)
                {
                    await netlink.SetLinkMtuAsync(existing.Index, Mtu, cancellationToken);
                }

                BackendLog.DeviceReused(logger, Name, existing.Index, Mac.Format(mac));
                return existing;
            }

            BackendLog.DeviceIncompatible(logger, Name, incompatibility ?? "no usable MAC");
            await netlink.DeleteLinkAsync(existing.Index, cancellationToken);
        }

        PhysicalAddress vtepMac = await preferredMac(cancellationToken)
            ?? (existing?.HardwareAddress is { } old && VtepMac.IsUsable(old) ? old : null)
            ?? Mac.NewLocallyAdministered();
        Link created = await netlink.CreateLinkAsync(new VxlanLinkSpec(Name, Settings) { Mtu = Mtu, HardwareAddress = vtepMac }, cancellationToken);
        BackendLog.DeviceCreated(logger, Name, created.Index, Mac.Format(created.HardwareAddress), Mtu);
        return created;
    }

    /// <summary>Gives the device <paramref name="subnet"/>'s network address as a /32 (dropping an earlier lease's) and brings it up.</summary>
    public static async Task ConfigureAsync(Rtnetlink netlink, int index, Ip4Net subnet, Ip4Net network, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(netlink);
        await LinkAddressEnsurer.EnsureV4Async(netlink, index, new IpPrefix(subnet.Canonical.IPAddress, 32), network, cancellationToken);
        await netlink.SetLinkUpAsync(index, cancellationToken);
    }

    /// <summary>
    /// The IPv6 device, as upstream: router advertisements ignored (accept_ra=0: the device must not configure itself
    /// from whatever arrives through the tunnel), <paramref name="subnet"/>'s network address as a /128, up.
    /// </summary>
    public async Task ConfigureIPv6Async(Rtnetlink netlink, int index, Ip6Net subnet, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(netlink);
        Sysctl.Write(Sysctl.IPv6InterfaceKey(Name, "accept_ra"), "0");
        await LinkAddressEnsurer.EnsureV6Async(netlink, index, new IpPrefix(subnet.Canonical.IPAddress, 128), cancellationToken);
        await netlink.SetLinkUpAsync(index, cancellationToken);
    }
}
