using System.Net.NetworkInformation;

namespace Flannel.Linux.Netlink;

/// <summary>A network interface as the kernel reports it (RTM_NEWLINK).</summary>
public sealed record Link
{
    public required int Index { get; init; }

    public required string Name { get; init; }

    /// <summary>IFLA_INFO_KIND: "vxlan", "bridge", "veth", "dummy"...; null for physical devices and loopback.</summary>
    public string? Kind { get; init; }

    /// <summary>IFF_* flags.</summary>
    public uint Flags { get; init; }

    public int Mtu { get; init; }

    public PhysicalAddress? HardwareAddress { get; init; }

    /// <summary>IFLA_MASTER: the bridge (or bond) this link is enslaved to.</summary>
    public int? MasterIndex { get; init; }

    /// <summary>IFLA_LINK: the lower device (the other end for veth).</summary>
    public int? ParentIndex { get; init; }

    /// <summary>The vxlan attributes, when <see cref="Kind"/> is "vxlan".</summary>
    public VxlanSettings? Vxlan { get; init; }

    public bool IsUp => (Flags & Nl.IFF_UP) != 0;

    public bool IsLoopback => (Flags & Nl.IFF_LOOPBACK) != 0;

    public override string ToString() => Kind is null ? $"link {Name} (index {Index})" : $"{Kind} {Name} (index {Index})";
}
