using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace Flannel.Linux.Netlink;

/// <summary>RTM_*ADDR encoding and decoding.</summary>
internal static class AddressCodec
{
    /// <summary><c>ip addr add|replace|del PREFIX dev INDEX</c>: IFA_LOCAL and IFA_ADDRESS both carry the address.</summary>
    public static void WriteModify(ref NetlinkWriter w, ushort type, ushort flags, uint sequence, int index, IpPrefix prefix)
    {
        w.BeginMessage(type, flags, sequence);
        w.IfAddr(NetlinkWriter.FamilyOf(prefix.Address), (byte)prefix.PrefixLength, 0, 0, index);
        w.Address(Nl.IFA_LOCAL, prefix.Address);
        w.Address(Nl.IFA_ADDRESS, prefix.Address);
        w.EndMessage();
    }

    public static void WriteDump(ref NetlinkWriter w, uint sequence, byte family, int index)
    {
        w.BeginMessage(Nl.RTM_GETADDR, Nl.NLM_F_REQUEST | Nl.NLM_F_DUMP, sequence);
        w.IfAddr(family, 0, 0, 0, index);
        w.EndMessage();
    }

    public static readonly MessageParser<InterfaceAddress> Parser = TryParse;

    public static bool TryParse(in NetlinkMessage message, [MaybeNullWhen(false)] out InterfaceAddress address)
    {
        address = null;
        if (message.Type != Nl.RTM_NEWADDR || message.Payload.Length < Nl.IfAddrMsgLength)
        {
            return false;
        }

        ReadOnlySpan<byte> header = message.Payload;
        byte prefixLength = header[1];
        uint flags = header[2];
        byte scope = header[3];
        int index = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        IPAddress? local = null;
        IPAddress? peer = null;
        string? label = null;
        NetlinkAttributeReader attributes = message.Attributes(Nl.IfAddrMsgLength);
        while (attributes.MoveNext())
        {
            switch (attributes.Type)
            {
                case Nl.IFA_LOCAL:
                    local = attributes.Address();
                    break;
                case Nl.IFA_ADDRESS:
                    peer = attributes.Address();
                    break;
                case Nl.IFA_LABEL:
                    label = attributes.String();
                    break;
                case Nl.IFA_FLAGS:
                    flags = attributes.U32();
                    break;
                default:
                    break;
            }
        }

        IPAddress? own = local ?? peer;
        if (own is null)
        {
            return false;
        }

        address = new InterfaceAddress
        {
            InterfaceIndex = index,
            Prefix = new IpPrefix(own, prefixLength),
            Scope = scope,
            Flags = flags,
            Label = label,
            Peer = peer is not null && !peer.Equals(own) ? peer : null,
        };
        return true;
    }
}
