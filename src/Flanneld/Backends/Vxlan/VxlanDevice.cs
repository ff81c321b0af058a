using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Flannel.Core.Net;
using Flannel.Linux.Netlink;
using Microsoft.Extensions.Logging;

namespace Flanneld.Backends.Vxlan;

/// <summary>
/// The <c>flannel.&lt;VNI&gt;</c> device: reused when an existing one is compatible (a restart must not disturb the
/// data path), else (re)created with the node's VTEP MAC; then given <c>&lt;subnet&gt;.0/32</c> and brought up.
/// </summary>
public sealed record VxlanDevice(string Name, VxlanSettings Settings, int Mtu)
{
    /// <summary>The kernel's port when none is asked for (IANA's is 4789; Linux and flannel use 8472).</summary>
    public const ushort KernelDefaultPort = 8472;

    public bool IsCompatible(Link link)
    {
        ArgumentNullException.ThrowIfNull(link);
        return link.Kind == "vxlan" && link.Vxlan is { } have
            && have.Vni == Settings.Vni
            && EffectivePort(have.Port) == EffectivePort(Settings.Port)
            && Equals(have.Local, Settings.Local)
            && have.UnderlayIndex == Settings.UnderlayIndex
            && have.Learning == Settings.Learning
            && have.Gbp == Settings.Gbp
            && have.Group is null && !have.L2Miss && !have.L3Miss;
    }

    /// <summary>Finds or creates the device; returns it as the kernel reports it (its MAC is the VTEP MAC).</summary>
    public async Task<Link> EnsureAsync(Rtnetlink netlink, PhysicalAddress? preferredMac, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(netlink);
        Link? existing = await netlink.FindLinkAsync(Name, cancellationToken);
        if (existing is not null)
        {
            if (IsCompatible(existing) && existing.HardwareAddress is { } mac && VtepMac.IsUsable(mac))
            {
                if (existing.Mtu != Mtu)
                {
                    await netlink.SetLinkMtuAsync(existing.Index, Mtu, cancellationToken);
                }

                BackendLog.DeviceReused(logger, Name, existing.Index, Mac.Format(mac));
                return existing;
            }

            BackendLog.DeviceIncompatible(logger, Name, existing.Vxlan?.ToString() ?? existing.Kind ?? "not vxlan");
            await netlink.DeleteLinkAsync(existing.Index, cancellationToken);
            preferredMac ??= existing.HardwareAddress is { } old && VtepMac.IsUsable(old) ? old : null;
        }

        PhysicalAddress vtepMac = preferredMac ?? VtepMac.NewRandom();
        Link created = await netlink.CreateLinkAsync(new VxlanLinkSpec(Name, Settings) { Mtu = Mtu, HardwareAddress = vtepMac }, cancellationToken);
        BackendLog.DeviceCreated(logger, Name, created.Index, Mac.Format(created.HardwareAddress), Mtu);
        return created;
    }

    /// <summary>Gives the device exactly <paramref name="subnet"/>'s network address as a /32 and brings it up.</summary>
    public static async Task ConfigureAsync(Rtnetlink netlink, int index, Ip4Net subnet, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(netlink);
        var want = new IpPrefix(subnet.Canonical.IPAddress, 32);
        bool present = false;
        foreach (InterfaceAddress address in await netlink.ListAddressesAsync(AddressFamily.InterNetwork, index, cancellationToken))
        {
            if (address.Prefix == want)
            {
                present = true;
            }
            else
            {
                // An address of an earlier lease would make the kernel answer for a subnet that is no longer ours.
                await netlink.TryDeleteAddressAsync(index, address.Prefix, cancellationToken);
            }
        }

        if (!present)
        {
            await netlink.ReplaceAddressAsync(index, want, cancellationToken);
        }

        await netlink.SetLinkUpAsync(index, cancellationToken);
    }

    private static ushort EffectivePort(ushort port) => port == 0 ? KernelDefaultPort : port;

    internal static IPAddress NetworkAddress(Ip4Net subnet) => subnet.Canonical.IPAddress;
}
