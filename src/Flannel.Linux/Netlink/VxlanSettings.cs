using System.Globalization;
using System.Net;

namespace Flannel.Linux.Netlink;

/// <summary>
/// The vxlan attributes flannel sets (and reads back to decide whether an existing device can be reused).
/// Unset values are left to the kernel's defaults.
/// </summary>
public sealed record VxlanSettings
{
    public required uint Vni { get; init; }

    /// <summary>UDP destination port; 0 lets the kernel choose (8472 on Linux), and a read-back reports the actual port.</summary>
    public ushort Port { get; init; }

    /// <summary>Source address for encapsulated packets (IPv4 or IPv6).</summary>
    public IPAddress? Local { get; init; }

    /// <summary>Multicast group or unicast remote; flannel leaves it unset.</summary>
    public IPAddress? Group { get; init; }

    /// <summary>Index of the underlay device; 0 for none.</summary>
    public int UnderlayIndex { get; init; }

    public bool Learning { get; init; }

    public bool Gbp { get; init; }

    public bool L2Miss { get; init; }

    public bool L3Miss { get; init; }

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"id {Vni} port {Port} local {Local?.ToString() ?? "-"} dev {UnderlayIndex} learning {Learning} gbp {Gbp} l2miss {L2Miss} l3miss {L3Miss}");
}
