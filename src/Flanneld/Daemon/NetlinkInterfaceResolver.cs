using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Flannel.Core.Config;
using Flannel.Linux.Netlink;
using Flanneld.Backends;
using Flanneld.Options;

namespace Flanneld.Daemon;

/// <summary>
/// Upstream's interface choice over our netlink layer: each <c>--iface</c> (an IP: the interface holding it; else a
/// name), then each <c>--iface-regex</c> (addresses first, then names), then <c>--iface-can-reach</c> (the route's
/// device and source); with none of them, the interface holding <c>--public-ip</c>, else the default route's.
/// </summary>
public sealed class NetlinkInterfaceResolver : IExternalInterfaceResolver
{
    private readonly Rtnetlink _netlink;
    private readonly FlanneldOptions _options;

    public NetlinkInterfaceResolver(Rtnetlink netlink, FlanneldOptions options)
    {
        _netlink = netlink;
        _options = options;
    }

    public async Task<ExternalInterface> ResolveAsync(NetConfig config, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        IReadOnlyList<Link> links = await _netlink.ListLinksAsync(cancellationToken);
        IReadOnlyList<InterfaceAddress> addresses = await _netlink.ListAddressesAsync(AddressFamily.Unspecified, 0, cancellationToken);
        (Link link, IPAddress? source) = await ChooseAsync(links, addresses, cancellationToken);

        IPAddress? v4 = source is { AddressFamily: AddressFamily.InterNetwork } ? source : PreferredAddress(addresses, link.Index, AddressFamily.InterNetwork);
        IPAddress? v6 = PreferredAddress(addresses, link.Index, AddressFamily.InterNetworkV6);
        if (config.EnableIPv4 && v4 is null)
        {
            throw new ConfigException("iface", $"interface {link.Name} has no usable IPv4 address");
        }

        if (link.Mtu <= 0)
        {
            throw new ConfigException("iface", $"interface {link.Name} reports MTU {link.Mtu}");
        }

        return new ExternalInterface(link.Name, link.Index, link.Mtu, v4, v6,
            _options.PublicIP ?? v4,
            config.EnableIPv6 ? _options.PublicIPv6 ?? v6 : null);
    }

    private async Task<(Link Link, IPAddress? Source)> ChooseAsync(IReadOnlyList<Link> links, IReadOnlyList<InterfaceAddress> addresses, CancellationToken cancellationToken)
    {
        foreach (string iface in _options.Iface)
        {
            Link? match = IPAddress.TryParse(iface, out IPAddress? ip)
                ? Owner(links, addresses, ip)
                : links.FirstOrDefault(l => l.Name == iface);
            if (match is not null)
            {
                return (match, ip);
            }
        }

        foreach (string pattern in _options.IfaceRegex)
        {
            var regex = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            InterfaceAddress? byAddress = addresses.FirstOrDefault(a => regex.IsMatch(a.Prefix.Address.ToString()));
            if (byAddress is not null && links.FirstOrDefault(l => l.Index == byAddress.InterfaceIndex) is { } owner)
            {
                return (owner, byAddress.Prefix.Address);
            }

            if (links.FirstOrDefault(l => regex.IsMatch(l.Name)) is { } named)
            {
                return (named, null);
            }
        }

        if (_options.IfaceCanReach is { } target)
        {
            RouteLookup route = await _netlink.GetRouteAsync(target, cancellationToken);
            Link? reaching = links.FirstOrDefault(l => l.Index == route.OutputInterface);
            return reaching is not null
                ? (reaching, route.PreferredSource)
                : throw new ConfigException("iface-can-reach", $"no interface reaches {target}");
        }

        if (_options.Iface.Count > 0 || _options.IfaceRegex.Count > 0)
        {
            throw new ConfigException("iface", $"no interface matches --iface {string.Join(',', _options.Iface)} --iface-regex {string.Join(',', _options.IfaceRegex)}");
        }

        if (_options.PublicIP is { } publicIP)
        {
            return Owner(links, addresses, publicIP) is { } holder
                ? (holder, publicIP)
                : throw new ConfigException("public-ip", $"no interface holds --public-ip {publicIP}; use --iface, or public-ip-overwrite behind NAT");
        }

        Route? defaultRoute = (await _netlink.ListRoutesAsync(AddressFamily.InterNetwork, cancellationToken))
            .Where(r => r.Destination.PrefixLength == 0 && r.OutputInterface != 0)
            .OrderBy(r => r.Priority ?? 0)
            .FirstOrDefault();
        return defaultRoute is not null && links.FirstOrDefault(l => l.Index == defaultRoute.OutputInterface) is { } viaDefault
            ? (viaDefault, defaultRoute.PreferredSource)
            : throw new ConfigException("iface", "no default route and no --iface given: cannot choose the interface to use");
    }

    private static Link? Owner(IReadOnlyList<Link> links, IReadOnlyList<InterfaceAddress> addresses, IPAddress ip) =>
        addresses.FirstOrDefault(a => a.Prefix.Address.Equals(ip)) is { } held ? links.FirstOrDefault(l => l.Index == held.InterfaceIndex) : null;

    /// <summary>Global unicast before link-local, permanent before dynamic, as upstream sorts them.</summary>
    private static IPAddress? PreferredAddress(IReadOnlyList<InterfaceAddress> addresses, int index, AddressFamily family)
    {
        const uint IfaPermanent = 0x80;
        const uint IfaDeprecated = 0x20;
        const uint IfaTemporary = 0x01;
        return addresses
            .Where(a => a.InterfaceIndex == index && a.Prefix.Address.AddressFamily == family && (a.Flags & IfaDeprecated) == 0 && a.Scope != 254)
            .OrderBy(a => a.Scope == 0 ? 0 : 1)
            .ThenBy(a => (a.Flags & IfaPermanent) != 0 ? 0 : 1)
            .ThenBy(a => (a.Flags & IfaTemporary) != 0 ? 1 : 0)
            .Select(a => a.Prefix.Address)
            .FirstOrDefault();
    }
}
