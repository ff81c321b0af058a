using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace Flannel.Linux.Netlink;

/// <summary>RTM_*ROUTE encoding and decoding.</summary>
internal static class RouteCodec
{
    public static void WriteModify(ref NetlinkWriter w, ushort flags, uint sequence, Route route) =>
        Write(ref w, Nl.RTM_NEWROUTE, flags, sequence, route);

    /// <summary>
    /// Deletes match like <c>ip route del</c>: protocol and type unspecified (unless not unicast), scope "nowhere"
    /// unless given, so the kernel matches on destination, table, gateway and device.
    /// </summary>
    public static void WriteDelete(ref NetlinkWriter w, uint sequence, Route route) =>
        Write(ref w, Nl.RTM_DELROUTE, Nl.NLM_F_REQUEST | Nl.NLM_F_ACK, sequence, route with
        {
            Protocol = RouteProtocol.Unspecified,
            Type = route.Type == RouteType.Unicast ? RouteType.Unspecified : route.Type,
            Scope = route.Scope ?? RouteScope.Nowhere,
        });

    private static void Write(ref NetlinkWriter w, ushort type, ushort flags, uint sequence, Route route)
    {
        w.BeginMessage(type, flags, sequence);
        RouteScope scope = route.Scope
            ?? (route.Gateway is null && route.Type is RouteType.Unicast ? RouteScope.Link : RouteScope.Universe);
        byte table = route.Table < 256 ? (byte)route.Table : (byte)0;
        w.Rt(
            NetlinkWriter.FamilyOf(route.Destination.Address),
            (byte)route.Destination.PrefixLength,
            table,
            route.Protocol,
            (byte)scope,
            (byte)route.Type,
            route.OnLink ? Nl.RTNH_F_ONLINK : 0);
        if (route.Destination.PrefixLength > 0)
        {
            w.Address(Nl.RTA_DST, route.Destination.Address);
        }

        if (route.Gateway is not null)
        {
            w.Address(Nl.RTA_GATEWAY, route.Gateway);
        }

        if (route.PreferredSource is not null)
        {
            w.Address(Nl.RTA_PREFSRC, route.PreferredSource);
        }

        if (route.Priority is uint priority)
        {
            w.U32(Nl.RTA_PRIORITY, priority);
        }

        if (route.Table >= 256)
        {
            w.U32(Nl.RTA_TABLE, route.Table);
        }

        if (route.OutputInterface != 0)
        {
            w.U32(Nl.RTA_OIF, (uint)route.OutputInterface);
        }

        w.EndMessage();
    }

    public static void WriteDump(ref NetlinkWriter w, uint sequence, byte family)
    {
        w.BeginMessage(Nl.RTM_GETROUTE, Nl.NLM_F_REQUEST | Nl.NLM_F_DUMP, sequence);
        w.Rt(family, 0, 0, 0, 0, 0, 0);
        w.EndMessage();
    }

    /// <summary><c>ip route get ADDRESS</c>.</summary>
    public static void WriteGet(ref NetlinkWriter w, uint sequence, IPAddress destination)
    {
        w.BeginMessage(Nl.RTM_GETROUTE, Nl.NLM_F_REQUEST, sequence);
        byte family = NetlinkWriter.FamilyOf(destination);
        w.Rt(family, family == Nl.AF_INET6 ? (byte)128 : (byte)32, 0, 0, 0, 0, 0);
        w.Address(Nl.RTA_DST, destination);
        w.EndMessage();
    }

    public static readonly MessageParser<Route> Parser = TryParse;

    public static bool TryParse(in NetlinkMessage message, [MaybeNullWhen(false)] out Route route)
    {
        route = null;
        if (message.Type != Nl.RTM_NEWROUTE || message.Payload.Length < Nl.RtMsgLength)
        {
            return false;
        }

        ReadOnlySpan<byte> header = message.Payload;
        byte family = header[0];
        byte dstLength = header[1];
        uint table = header[4];
        byte protocol = header[5];
        byte scope = header[6];
        byte type = header[7];
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        IPAddress? destination = null;
        IPAddress? gateway = null;
        IPAddress? source = null;
        uint? priority = null;
        int oif = 0;
        NetlinkAttributeReader attributes = message.Attributes(Nl.RtMsgLength);
        while (attributes.MoveNext())
        {
            switch (attributes.Type)
            {
                case Nl.RTA_DST:
                    destination = attributes.Address();
                    break;
                case Nl.RTA_GATEWAY:
                    gateway = attributes.Address();
                    break;
                case Nl.RTA_PREFSRC:
                    source = attributes.Address();
                    break;
                case Nl.RTA_OIF:
                    oif = (int)attributes.U32();
                    break;
                case Nl.RTA_PRIORITY:
                    priority = attributes.U32();
                    break;
                case Nl.RTA_TABLE:
                    table = attributes.U32();
                    break;
                default:
                    break;
            }
        }

        if (family is not (Nl.AF_INET or Nl.AF_INET6))
        {
            return false;
        }

        destination ??= family == Nl.AF_INET6 ? IPAddress.IPv6Any : IPAddress.Any;
        route = new Route
        {
            Destination = new IpPrefix(destination, dstLength),
            Gateway = gateway,
            OutputInterface = oif,
            OnLink = (flags & Nl.RTNH_F_ONLINK) != 0,
            Type = (RouteType)type,
            Scope = (RouteScope)scope,
            Protocol = protocol,
            Table = table,
            PreferredSource = source,
            Priority = priority,
        };
        return true;
    }

    public static readonly MessageParser<RouteLookup> LookupParser = TryParseLookup;

    private static bool TryParseLookup(in NetlinkMessage message, [MaybeNullWhen(false)] out RouteLookup lookup)
    {
        lookup = null;
        if (!TryParse(message, out Route? route))
        {
            return false;
        }

        lookup = new RouteLookup(route.Destination.Address, route.OutputInterface, route.Gateway, route.PreferredSource, route.Type);
        return true;
    }
}
