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

    /// <summary>
    /// Why an existing device with these settings cannot stand in for one wanted with <paramref name="wanted"/>,
    /// or null when it can (flannel then reuses it, so a restart does not interrupt traffic). As upstream, unset
    /// values (0 / null) on either side are not compared for underlay, local address, group and port.
    /// </summary>
    public string? IncompatibilityWith(VxlanSettings wanted)
    {
        ArgumentNullException.ThrowIfNull(wanted);
        if (Vni != wanted.Vni)
        {
            return string.Create(CultureInfo.InvariantCulture, $"vni: {Vni} vs {wanted.Vni}");
        }

        if (UnderlayIndex > 0 && wanted.UnderlayIndex > 0 && UnderlayIndex != wanted.UnderlayIndex)
        {
            return string.Create(CultureInfo.InvariantCulture, $"vtep (external) interface: {UnderlayIndex} vs {wanted.UnderlayIndex}");
        }

        if (Local is not null && wanted.Local is not null && !Local.Equals(wanted.Local))
        {
            return $"vtep (external) IP: {Local} vs {wanted.Local}";
        }

        if (Group is not null && wanted.Group is not null && !Group.Equals(wanted.Group))
        {
            return $"group address: {Group} vs {wanted.Group}";
        }

        if (L2Miss != wanted.L2Miss)
        {
            return $"l2miss: {L2Miss} vs {wanted.L2Miss}";
        }

        if (Port > 0 && wanted.Port > 0 && Port != wanted.Port)
        {
            return string.Create(CultureInfo.InvariantCulture, $"port: {Port} vs {wanted.Port}");
        }

        return Gbp != wanted.Gbp ? $"gbp: {Gbp} vs {wanted.Gbp}" : null;
    }

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"id {Vni} port {Port} local {Local?.ToString() ?? "-"} dev {UnderlayIndex} learning {Learning} gbp {Gbp} l2miss {L2Miss} l3miss {L3Miss}");
}
