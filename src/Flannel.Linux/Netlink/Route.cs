using System.Net;

namespace Flannel.Linux.Netlink;

/// <summary>RTN_* route types that flannel uses.</summary>
public enum RouteType : byte
{
    Unspecified = 0,
    Unicast = 1,
    Local = 2,
    Broadcast = 3,
    Anycast = 4,
    Multicast = 5,
    Blackhole = 6,
    Unreachable = 7,
    Prohibit = 8,
    Throw = 9,
}

/// <summary>RT_SCOPE_* values.</summary>
public enum RouteScope : byte
{
    Universe = 0,
    Site = 200,
    Link = 253,
    Host = 254,
    Nowhere = 255,
}

/// <summary>RTPROT_* values: who installed a route.</summary>
public static class RouteProtocol
{
    public const byte Unspecified = 0;
    public const byte Redirect = 1;
    public const byte Kernel = 2;
    public const byte Boot = 3;
    public const byte Static = 4;
}

/// <summary>A route in the main table (or another table) as flannel installs and reads them.</summary>
public sealed record Route
{
    public required IpPrefix Destination { get; init; }

    public IPAddress? Gateway { get; init; }

    /// <summary>Output device index (RTA_OIF); 0 for none.</summary>
    public int OutputInterface { get; init; }

    /// <summary>The gateway is on the link even if no address says so (RTNH_F_ONLINK).</summary>
    public bool OnLink { get; init; }

    public RouteType Type { get; init; } = RouteType.Unicast;

    /// <summary>Null lets the writer choose as <c>ip route</c> does: link scope without a gateway, universe with one.</summary>
    public RouteScope? Scope { get; init; }

    public byte Protocol { get; init; } = RouteProtocol.Boot;

    public uint Table { get; init; } = Nl.RT_TABLE_MAIN;

    public IPAddress? PreferredSource { get; init; }

    /// <summary>Metric (RTA_PRIORITY); null for none.</summary>
    public uint? Priority { get; init; }

    public override string ToString() => TargetDescription.Describe(this, index => index.ToString(System.Globalization.CultureInfo.InvariantCulture));
}

/// <summary>The kernel's answer to "which way to this address" (<c>ip route get</c>).</summary>
public sealed record RouteLookup(IPAddress Destination, int OutputInterface, IPAddress? Gateway, IPAddress? PreferredSource, RouteType Type)
{
    /// <summary>The destination is on a directly connected network (no gateway): what DirectRouting checks.</summary>
    public bool IsDirect => Gateway is null && Type == RouteType.Unicast;
}
