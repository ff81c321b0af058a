using System.Globalization;
using System.Text;

namespace Flannel.Linux.Netlink;

/// <summary>Names the object of a failed request the way iproute2 prints it, with device names rather than indexes.</summary>
internal static class TargetDescription
{
    public static string Describe(object target, Func<int, string> linkName) => target switch
    {
        Route route => "route " + Describe(route, linkName),
        Neighbour n => $"neighbour {n.Address} lladdr {Mac.Format(n.LinkAddress)} dev {linkName(n.InterfaceIndex)}",
        FdbEntry f => $"fdb {Mac.Format(f.LinkAddress)} dev {linkName(f.InterfaceIndex)}" + (f.Destination is null ? "" : $" dst {f.Destination}"),
        AddressTarget a => $"address {a.Prefix} dev {linkName(a.InterfaceIndex)}",
        LinkTarget l => "link " + linkName(l.Index),
        LinkSpec spec => "link " + spec,
        _ => target.ToString() ?? "",
    };

    private static string Describe(Route route, Func<int, string> linkName)
    {
        var text = new StringBuilder();
        if (route.Type is not (RouteType.Unicast or RouteType.Unspecified))
        {
            text.Append(route.Type.ToString().ToLowerInvariant()).Append(' ');
        }

        text.Append(route.Destination.ToString());
        if (route.Gateway is not null)
        {
            text.Append(" via ").Append(route.Gateway);
        }

        if (route.OutputInterface != 0)
        {
            text.Append(" dev ").Append(linkName(route.OutputInterface));
        }

        if (route.OnLink)
        {
            text.Append(" onlink");
        }

        if (route.Table != Nl.RT_TABLE_MAIN)
        {
            text.Append(CultureInfo.InvariantCulture, $" table {route.Table}");
        }

        return text.ToString();
    }
}
