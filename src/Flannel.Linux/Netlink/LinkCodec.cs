using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net.NetworkInformation;
using System.Runtime.InteropServices;

namespace Flannel.Linux.Netlink;

/// <summary>What to create: the kind-specific part of RTM_NEWLINK.</summary>
public abstract record LinkSpec(string Name)
{
    public int? Mtu { get; init; }

    public PhysicalAddress? HardwareAddress { get; init; }

    /// <summary>Bring the link up as part of creating it (for a veth pair: this end only).</summary>
    public bool Up { get; init; }

    internal abstract string Kind { get; }

    internal virtual void WriteInfoData(ref NetlinkWriter writer)
    {
    }

    /// <summary>Sealed so derived records keep this short form instead of the compiler's property dump.</summary>
    public sealed override string ToString() => Describe();

    protected virtual string Describe() => $"{Kind} {Name}";
}

public sealed record VxlanLinkSpec(string Name, VxlanSettings Vxlan) : LinkSpec(Name)
{
    internal override string Kind => "vxlan";

    internal override void WriteInfoData(ref NetlinkWriter writer) => LinkCodec.WriteVxlan(ref writer, Vxlan);

    protected override string Describe() => $"vxlan {Name} ({Vxlan})";
}

public sealed record BridgeLinkSpec(string Name) : LinkSpec(Name)
{
    internal override string Kind => "bridge";
}

public sealed record DummyLinkSpec(string Name) : LinkSpec(Name)
{
    internal override string Kind => "dummy";
}

/// <summary>A veth pair; the peer may be created directly in another namespace.</summary>
public sealed record VethLinkSpec(string Name, string PeerName) : LinkSpec(Name)
{
    /// <summary>An open namespace file (e.g. <see cref="Namespaces.NetworkNamespace"/>) to put the peer in.</summary>
    public SafeHandle? PeerNamespace { get; init; }

    internal override string Kind => "veth";

    internal override void WriteInfoData(ref NetlinkWriter writer)
    {
        using (writer.Nested(Nl.VETH_INFO_PEER))
        {
            writer.IfInfo(Nl.AF_UNSPEC, 0);
            writer.String(Nl.IFLA_IFNAME, LinkName.Validate(PeerName, "veth peer name"));
            if (PeerNamespace is not null)
            {
                writer.S32(Nl.IFLA_NET_NS_FD, (int)PeerNamespace.DangerousGetHandle());
            }
        }
    }

    protected override string Describe() => $"veth {Name} peer {PeerName}";
}

/// <summary>What to change on an existing link (RTM_NEWLINK without NLM_F_CREATE). Null means leave alone.</summary>
public sealed record LinkChange
{
    public bool? Up { get; init; }

    public int? Mtu { get; init; }

    public PhysicalAddress? HardwareAddress { get; init; }

    public string? Name { get; init; }

    /// <summary>Enslave to this bridge index; 0 releases.</summary>
    public int? MasterIndex { get; init; }

    /// <summary>Move the link into the network namespace behind this open file.</summary>
    public SafeHandle? Namespace { get; init; }
}

/// <summary>RTM_*LINK encoding and decoding.</summary>
internal static class LinkCodec
{
    public const ushort CreateFlags = Nl.NLM_F_REQUEST | Nl.NLM_F_ACK | Nl.NLM_F_CREATE | Nl.NLM_F_EXCL;

    public static void WriteCreate(ref NetlinkWriter w, uint sequence, LinkSpec spec)
    {
        LinkName.Validate(spec.Name, "link name");
        w.BeginMessage(Nl.RTM_NEWLINK, CreateFlags, sequence);
        w.IfInfo(Nl.AF_UNSPEC, 0, spec.Up ? Nl.IFF_UP : 0, spec.Up ? Nl.IFF_UP : 0);
        w.String(Nl.IFLA_IFNAME, spec.Name);
        if (spec.Mtu is int mtu)
        {
            w.U32(Nl.IFLA_MTU, (uint)mtu);
        }

        if (spec.HardwareAddress is not null)
        {
            w.Attribute(Nl.IFLA_ADDRESS, spec.HardwareAddress.GetAddressBytes());
        }

        using (w.Nested(Nl.IFLA_LINKINFO))
        {
            w.String(Nl.IFLA_INFO_KIND, spec.Kind);
            using (w.Nested(Nl.IFLA_INFO_DATA))
            {
                spec.WriteInfoData(ref w);
            }
        }

        w.EndMessage();
    }

    public static void WriteVxlan(ref NetlinkWriter w, VxlanSettings vxlan)
    {
        w.U32(Nl.IFLA_VXLAN_ID, vxlan.Vni);
        if (vxlan.UnderlayIndex != 0)
        {
            w.U32(Nl.IFLA_VXLAN_LINK, (uint)vxlan.UnderlayIndex);
        }

        if (vxlan.Local is not null)
        {
            w.Address(NetlinkWriter.FamilyOf(vxlan.Local) == Nl.AF_INET6 ? Nl.IFLA_VXLAN_LOCAL6 : Nl.IFLA_VXLAN_LOCAL, vxlan.Local);
        }

        if (vxlan.Group is not null)
        {
            w.Address(NetlinkWriter.FamilyOf(vxlan.Group) == Nl.AF_INET6 ? Nl.IFLA_VXLAN_GROUP6 : Nl.IFLA_VXLAN_GROUP, vxlan.Group);
        }

        w.U8(Nl.IFLA_VXLAN_LEARNING, vxlan.Learning ? (byte)1 : (byte)0);
        w.U8(Nl.IFLA_VXLAN_L2MISS, vxlan.L2Miss ? (byte)1 : (byte)0);
        w.U8(Nl.IFLA_VXLAN_L3MISS, vxlan.L3Miss ? (byte)1 : (byte)0);
        if (vxlan.Port != 0)
        {
            w.U16BigEndian(Nl.IFLA_VXLAN_PORT, vxlan.Port);
        }

        if (vxlan.Gbp)
        {
            w.Flag(Nl.IFLA_VXLAN_GBP);
        }
    }

    public static void WriteChange(ref NetlinkWriter w, uint sequence, int index, LinkChange change)
    {
        w.BeginMessage(Nl.RTM_NEWLINK, Nl.NLM_F_REQUEST | Nl.NLM_F_ACK, sequence);
        uint flags = change.Up == true ? Nl.IFF_UP : 0;
        uint mask = change.Up is null ? 0 : Nl.IFF_UP;
        w.IfInfo(Nl.AF_UNSPEC, index, flags, mask);
        if (change.Name is not null)
        {
            w.String(Nl.IFLA_IFNAME, LinkName.Validate(change.Name, "new link name"));
        }

        if (change.Mtu is int mtu)
        {
            w.U32(Nl.IFLA_MTU, (uint)mtu);
        }

        if (change.HardwareAddress is not null)
        {
            w.Attribute(Nl.IFLA_ADDRESS, change.HardwareAddress.GetAddressBytes());
        }

        if (change.MasterIndex is int master)
        {
            w.U32(Nl.IFLA_MASTER, (uint)master);
        }

        if (change.Namespace is not null)
        {
            w.S32(Nl.IFLA_NET_NS_FD, (int)change.Namespace.DangerousGetHandle());
        }

        w.EndMessage();
    }

    public static void WriteDelete(ref NetlinkWriter w, uint sequence, int index)
    {
        w.BeginMessage(Nl.RTM_DELLINK, Nl.NLM_F_REQUEST | Nl.NLM_F_ACK, sequence);
        w.IfInfo(Nl.AF_UNSPEC, index);
        w.EndMessage();
    }

    /// <summary>RTM_GETLINK for one link, by index or (index 0) by name.</summary>
    public static void WriteGet(ref NetlinkWriter w, uint sequence, int index, string? name)
    {
        w.BeginMessage(Nl.RTM_GETLINK, Nl.NLM_F_REQUEST, sequence);
        w.IfInfo(Nl.AF_UNSPEC, index);
        if (name is not null)
        {
            w.String(Nl.IFLA_IFNAME, name);
        }

        w.EndMessage();
    }

    public static void WriteDump(ref NetlinkWriter w, uint sequence)
    {
        w.BeginMessage(Nl.RTM_GETLINK, Nl.NLM_F_REQUEST | Nl.NLM_F_DUMP, sequence);
        w.IfInfo(Nl.AF_UNSPEC, 0);
        w.EndMessage();
    }

    public static readonly MessageParser<Link> Parser = TryParse;

    public static bool TryParse(in NetlinkMessage message, [MaybeNullWhen(false)] out Link link)
    {
        link = null;
        if (message.Type is not (Nl.RTM_NEWLINK or Nl.RTM_DELLINK) || message.Payload.Length < Nl.IfInfoMsgLength)
        {
            return false;
        }

        ReadOnlySpan<byte> header = message.Payload;
        int index = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        string name = "";
        int mtu = 0;
        PhysicalAddress? mac = null;
        int? master = null;
        int? parent = null;
        string? kind = null;
        VxlanSettings? vxlan = null;
        NetlinkAttributeReader attributes = message.Attributes(Nl.IfInfoMsgLength);
        while (attributes.MoveNext())
        {
            switch (attributes.Type)
            {
                case Nl.IFLA_IFNAME:
                    name = attributes.String();
                    break;
                case Nl.IFLA_MTU:
                    mtu = (int)attributes.U32();
                    break;
                case Nl.IFLA_ADDRESS:
                    mac = new PhysicalAddress(attributes.Value.ToArray());
                    break;
                case Nl.IFLA_MASTER:
                    master = (int)attributes.U32();
                    break;
                case Nl.IFLA_LINK:
                    parent = (int)attributes.U32();
                    break;
                case Nl.IFLA_LINKINFO:
                    ParseLinkInfo(attributes.Nested(), out kind, out vxlan);
                    break;
                default:
                    break;
            }
        }

        link = new Link
        {
            Index = index,
            Name = name,
            Flags = flags,
            Mtu = mtu,
            HardwareAddress = mac,
            MasterIndex = master,
            ParentIndex = parent,
            Kind = kind,
            Vxlan = vxlan,
        };
        return true;
    }

    private static void ParseLinkInfo(NetlinkAttributeReader info, out string? kind, out VxlanSettings? vxlan)
    {
        kind = null;
        vxlan = null;
        while (info.MoveNext())
        {
            if (info.Type == Nl.IFLA_INFO_KIND)
            {
                kind = info.String();
            }
            else if (info.Type == Nl.IFLA_INFO_DATA && kind == "vxlan")
            {
                vxlan = ParseVxlan(info.Nested());
            }
        }
    }

    private static VxlanSettings ParseVxlan(NetlinkAttributeReader data)
    {
        var vxlan = new VxlanSettings { Vni = 0 };
        while (data.MoveNext())
        {
            vxlan = data.Type switch
            {
                Nl.IFLA_VXLAN_ID => vxlan with { Vni = data.U32() },
                Nl.IFLA_VXLAN_LINK => vxlan with { UnderlayIndex = (int)data.U32() },
                Nl.IFLA_VXLAN_LOCAL or Nl.IFLA_VXLAN_LOCAL6 => vxlan with { Local = data.Address() },
                Nl.IFLA_VXLAN_GROUP or Nl.IFLA_VXLAN_GROUP6 => vxlan with { Group = data.Address() },
                Nl.IFLA_VXLAN_LEARNING => vxlan with { Learning = data.U8() != 0 },
                Nl.IFLA_VXLAN_L2MISS => vxlan with { L2Miss = data.U8() != 0 },
                Nl.IFLA_VXLAN_L3MISS => vxlan with { L3Miss = data.U8() != 0 },
                Nl.IFLA_VXLAN_PORT => vxlan with { Port = data.U16BigEndian() },
                Nl.IFLA_VXLAN_GBP => vxlan with { Gbp = true },
                _ => vxlan,
            };
        }

        // Unset addresses are reported as all-zero; callers compare against null.
        if (vxlan.Local is not null && vxlan.Local.Equals(System.Net.IPAddress.Any))
        {
            vxlan = vxlan with { Local = null };
        }

        if (vxlan.Group is not null && vxlan.Group.Equals(System.Net.IPAddress.Any))
        {
            vxlan = vxlan with { Group = null };
        }

        return vxlan;
    }
}
