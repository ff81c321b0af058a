using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.NetworkInformation;

namespace Flannel.Linux.Netlink;

/// <summary>RTM_*NEIGH encoding and decoding, for ARP/NDP entries and (AF_BRIDGE) FDB entries.</summary>
internal static class NeighbourCodec
{
    public const ushort ReplaceFlags = Nl.NLM_F_REQUEST | Nl.NLM_F_ACK | Nl.NLM_F_CREATE | Nl.NLM_F_REPLACE;

    public static void WriteNeighbour(ref NetlinkWriter w, ushort type, ushort flags, uint sequence, Neighbour neighbour)
    {
        w.BeginMessage(type, flags, sequence);
        w.Nd(NetlinkWriter.FamilyOf(neighbour.Address), neighbour.InterfaceIndex, (ushort)neighbour.State, 0);
        w.Address(Nl.NDA_DST, neighbour.Address);
        if (neighbour.LinkAddress is not null)
        {
            w.Attribute(Nl.NDA_LLADDR, neighbour.LinkAddress.GetAddressBytes());
        }

        w.EndMessage();
    }

    public static void WriteFdb(ref NetlinkWriter w, ushort type, ushort flags, uint sequence, FdbEntry entry)
    {
        w.BeginMessage(type, flags, sequence);
        w.Nd(Nl.AF_BRIDGE, entry.InterfaceIndex, (ushort)entry.State, entry.Flags);
        w.Attribute(Nl.NDA_LLADDR, entry.LinkAddress.GetAddressBytes());
        if (entry.Destination is not null)
        {
            w.Address(Nl.NDA_DST, entry.Destination);
        }

        w.EndMessage();
    }

    /// <summary>
    /// Under strict checking a neighbour dump filters by device through NDA_IFINDEX (ndm_ifindex must be 0), while
    /// an FDB (AF_BRIDGE) dump takes the device in ndm_ifindex.
    /// </summary>
    public static void WriteDump(ref NetlinkWriter w, uint sequence, byte family, int index)
    {
        w.BeginMessage(Nl.RTM_GETNEIGH, Nl.NLM_F_REQUEST | Nl.NLM_F_DUMP, sequence);
        if (family == Nl.AF_BRIDGE)
        {
            w.Nd(family, index, 0, 0);
        }
        else
        {
            w.Nd(family, 0, 0, 0);
            if (index != 0)
            {
                w.U32(Nl.NDA_IFINDEX, (uint)index);
            }
        }

        w.EndMessage();
    }

    private static bool TryParseCommon(
        in NetlinkMessage message, out byte family, out int index, out ushort state, out byte flags,
        out IPAddress? destination, out PhysicalAddress? linkAddress)
    {
        family = 0;
        index = 0;
        state = 0;
        flags = 0;
        destination = null;
        linkAddress = null;
        if (message.Type != Nl.RTM_NEWNEIGH || message.Payload.Length < Nl.NdMsgLength)
        {
            return false;
        }

        ReadOnlySpan<byte> header = message.Payload;
        family = header[0];
        index = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        state = BinaryPrimitives.ReadUInt16LittleEndian(header[8..]);
        flags = header[10];
        NetlinkAttributeReader attributes = message.Attributes(Nl.NdMsgLength);
        while (attributes.MoveNext())
        {
            if (attributes.Type == Nl.NDA_DST)
            {
                destination = attributes.Address();
            }
            else if (attributes.Type == Nl.NDA_LLADDR)
            {
                linkAddress = new PhysicalAddress(attributes.Value.ToArray());
            }
        }

        return true;
    }

    public static readonly MessageParser<Neighbour> NeighbourParser = TryParseNeighbour;

    private static bool TryParseNeighbour(in NetlinkMessage message, [MaybeNullWhen(false)] out Neighbour neighbour)
    {
        neighbour = null;
        if (!TryParseCommon(message, out byte family, out int index, out ushort state, out _, out IPAddress? destination, out PhysicalAddress? mac)
            || family is not (Nl.AF_INET or Nl.AF_INET6) || destination is null)
        {
            return false;
        }

        neighbour = new Neighbour { InterfaceIndex = index, Address = destination, LinkAddress = mac, State = (NeighbourState)state };
        return true;
    }

    public static readonly MessageParser<FdbEntry> FdbParser = TryParseFdb;

    private static bool TryParseFdb(in NetlinkMessage message, [MaybeNullWhen(false)] out FdbEntry entry)
    {
        entry = null;
        if (!TryParseCommon(message, out byte family, out int index, out ushort state, out byte flags, out IPAddress? destination, out PhysicalAddress? mac)
            || family != Nl.AF_BRIDGE || mac is null)
        {
            return false;
        }

        entry = new FdbEntry { InterfaceIndex = index, LinkAddress = mac, Destination = destination, State = (NeighbourState)state, Flags = flags };
        return true;
    }
}
