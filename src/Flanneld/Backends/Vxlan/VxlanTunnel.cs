using System.Net.NetworkInformation;

namespace Flanneld.Backends.Vxlan;

/// <summary>
/// One address family's vxlan device as the running backend knows it: what it should be, its current index (a
/// recreated device gets a new one) and its VTEP MAC (kept when the device is recreated).
/// </summary>
public sealed class VxlanTunnel(VxlanDevice device, int index, PhysicalAddress mac)
{
    public VxlanDevice Device { get; } = device;

    public int Index { get; set; } = index;

    public PhysicalAddress Mac { get; } = mac;
}
