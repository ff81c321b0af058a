using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Flannel.Linux.Netlink;

namespace Flannel.Linux.Interfaces;

/// <summary>
/// Picks the external interface as upstream flanneld does: each <c>--iface</c> (IP, else name), then each
/// <c>--iface-regex</c> (addresses first, then names), then <c>--iface-can-reach</c>; with none of those, the
/// interface holding <c>--public-ip</c>, else the default route's interface. The first match wins.
/// </summary>
public sealed class ExternalInterfaceResolver
{
    private readonly Rtnetlink _netlink;

    public ExternalInterfaceResolver(Rtnetlink netlink)
    {
        ArgumentNullException.ThrowIfNull(netlink);
        _netlink = netlink;
    }

    public async Task<ExternalInterface> ResolveAsync(ExternalInterfaceOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        Regex[] regexes = options.InterfaceRegexes.Select(CompileRegex).ToArray();
        var inventory = new Inventory(
            await _netlink.ListLinksAsync(cancellationToken).ConfigureAwait(false),
            await _netlink.ListAddressesAsync(AddressFamily.Unspecified, 0, cancellationToken).ConfigureAwait(false));

        if (options.Interfaces.Count == 0 && regexes.Length == 0 && options.CanReach is null)
        {
            Choice choice = options.PublicIP is not null && options.Stack != IpVersions.IPv6
                ? ByIP(inventory, options.PublicIP, options)
                : options.PublicIPv6 is not null
                    ? ByIP(inventory, options.PublicIPv6, options)
                    : await ByDefaultRouteAsync(inventory, options.Stack, cancellationToken).ConfigureAwait(false);
            return Complete(inventory, choice, options);
        }

        var reasons = new List<string>();
        foreach (string iface in options.Interfaces)
        {
            if (TryComplete(inventory, () => ByIPOrName(inventory, iface, options), options, reasons, $"--iface={iface}") is { } found)
            {
                return found;
            }
        }

        for (int i = 0; i < regexes.Length; i++)
        {
            Regex regex = regexes[i];
            if (TryComplete(inventory, () => ByRegex(inventory, regex, options.Stack), options, reasons, $"--iface-regex={options.InterfaceRegexes[i]}") is { } found)
            {
                return found;
            }
        }

        if (options.CanReach is not null)
        {
            try
            {
                Choice choice = await ByRouteAsync(inventory, options.CanReach, cancellationToken).ConfigureAwait(false);
                return Complete(inventory, choice, options);
            }
            catch (InterfaceSelectionException ex)
            {
                reasons.Add($"--iface-can-reach={options.CanReach}: {ex.Message}");
            }
        }

        throw new InterfaceSelectionException(
            "failed to find interface to use that matches the interfaces and/or regexes provided: " + string.Join("; ", reasons));
    }

    private static Regex CompileRegex(string pattern)
    {
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException ex)
        {
            throw new InterfaceSelectionException($"--iface-regex: could not compile the regex '{pattern}': {ex.Message}", ex);
        }
    }

    private static ExternalInterface? TryComplete(Inventory inventory, Func<Choice> choose, ExternalInterfaceOptions options, List<string> reasons, string flag)
    {
        try
        {
            return Complete(inventory, choose(), options);
        }
        catch (InterfaceSelectionException ex)
        {
            reasons.Add($"{flag}: {ex.Message}");
            return null;
        }
    }

    /// <summary>An interface plus any address the selection itself pinned (the IP given, the regex match, the route's source).</summary>
    private sealed record Choice(Link Link, IPAddress? Address, IPAddress? IPv6Address);

    private sealed record Inventory(IReadOnlyList<Link> Links, IReadOnlyList<InterfaceAddress> Addresses)
    {
        public IEnumerable<InterfaceAddress> On(Link link) => Addresses.Where(a => a.InterfaceIndex == link.Index);

        public IReadOnlyList<IPAddress> Preferred(Link link, AddressFamily family) => AddressPreference.Order(On(link), family);

        public Link? Owner(IPAddress address)
        {
            InterfaceAddress? owner = Addresses.FirstOrDefault(a => a.Prefix.Address.Equals(address));
            return owner is null ? null : Links.FirstOrDefault(l => l.Index == owner.InterfaceIndex);
        }
    }

    private static Choice ByIPOrName(Inventory inventory, string iface, ExternalInterfaceOptions options)
    {
        if (IPAddress.TryParse(iface, out IPAddress? address))
        {
            return ByIP(inventory, address, options);
        }

        Link link = inventory.Links.FirstOrDefault(l => l.Name == iface)
            ?? throw new InterfaceSelectionException($"no interface named '{iface}'");
        return new Choice(link, null, null);
    }

    private static Choice ByIP(Inventory inventory, IPAddress address, ExternalInterfaceOptions options)
    {
        Link link = inventory.Owner(address)
            ?? throw new InterfaceSelectionException($"no interface has the address {address}");
        bool v6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        if (options.Stack == IpVersions.DualStack && !v6 && options.PublicIPv6 is not null)
        {
            Link v6Link = inventory.Owner(options.PublicIPv6)
                ?? throw new InterfaceSelectionException($"no interface has the IPv6 address {options.PublicIPv6}");
            if (v6Link.Index != link.Index)
            {
                throw new InterfaceSelectionException($"v6 interface {v6Link.Name} must be the same as v4 interface {link.Name}");
            }

            return new Choice(link, address, options.PublicIPv6);
        }

        return v6 ? new Choice(link, null, address) : new Choice(link, address, null);
    }

    private static Choice ByRegex(Inventory inventory, Regex regex, IpVersions stack)
    {
        foreach (Link link in inventory.Links)
        {
            IPAddress? v4 = stack == IpVersions.IPv6 ? null : inventory.Preferred(link, AddressFamily.InterNetwork).FirstOrDefault(a => regex.IsMatch(a.ToString()));
            IPAddress? v6 = stack == IpVersions.IPv4 ? null : inventory.Preferred(link, AddressFamily.InterNetworkV6).FirstOrDefault(a => regex.IsMatch(a.ToString()));
            bool matched = stack switch
            {
                IpVersions.IPv4 => v4 is not null,
                IpVersions.IPv6 => v6 is not null,
                _ => v4 is not null && v6 is not null,
            };
            if (matched)
            {
                return new Choice(link, v4, v6);
            }
        }

        Link? byName = inventory.Links.FirstOrDefault(l => regex.IsMatch(l.Name));
        if (byName is not null)
        {
            return new Choice(byName, null, null);
        }

        string available = string.Join(", ", inventory.Links.Select(l =>
            $"{l.Name}:[{string.Join(' ', inventory.Preferred(l, stack == IpVersions.IPv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork))}]"));
        throw new InterfaceSelectionException($"could not match pattern {regex} to any of the available network interfaces ({available})");
    }

    private async Task<Choice> ByRouteAsync(Inventory inventory, IPAddress destination, CancellationToken cancellationToken)
    {
        RouteLookup lookup;
        try
        {
            lookup = await _netlink.GetRouteAsync(destination, cancellationToken).ConfigureAwait(false);
        }
        catch (NetlinkException ex)
        {
            throw new InterfaceSelectionException($"couldn't look up route to {destination}: {ex.Message}", ex);
        }

        Link link = inventory.Links.FirstOrDefault(l => l.Index == lookup.OutputInterface)
            ?? throw new InterfaceSelectionException($"route to {destination} leaves through unknown interface index {lookup.OutputInterface}");
        IPAddress? source = lookup.PreferredSource;
        return source?.AddressFamily == AddressFamily.InterNetworkV6 ? new Choice(link, null, source) : new Choice(link, source, null);
    }

    private async Task<Choice> ByDefaultRouteAsync(Inventory inventory, IpVersions stack, CancellationToken cancellationToken)
    {
        Link? v4 = stack == IpVersions.IPv6 ? null : await DefaultRouteLinkAsync(inventory, AddressFamily.InterNetwork, cancellationToken).ConfigureAwait(false);
        Link? v6 = stack == IpVersions.IPv4 ? null : await DefaultRouteLinkAsync(inventory, AddressFamily.InterNetworkV6, cancellationToken).ConfigureAwait(false);
        if (v4 is not null && v6 is not null && v4.Index != v6.Index)
        {
            throw new InterfaceSelectionException($"v6 default route interface {v6.Name} must be the same as v4 default route interface {v4.Name}");
        }

        return new Choice((v4 ?? v6)!, null, null);
    }

    private async Task<Link> DefaultRouteLinkAsync(Inventory inventory, AddressFamily family, CancellationToken cancellationToken)
    {
        string what = family == AddressFamily.InterNetworkV6 ? "default v6 route" : "default route";
        IReadOnlyList<Route> routes = await _netlink.ListRoutesAsync(family, cancellationToken).ConfigureAwait(false);
        Route route = routes.FirstOrDefault(r => r.Destination.PrefixLength == 0)
            ?? throw new InterfaceSelectionException($"unable to find {what}");
        if (route.OutputInterface <= 0)
        {
            throw new InterfaceSelectionException($"found {what} but could not determine interface");
        }

        return inventory.Links.FirstOrDefault(l => l.Index == route.OutputInterface)
            ?? throw new InterfaceSelectionException($"{what} leaves through unknown interface index {route.OutputInterface}");
    }

    private static IPAddress? FirstOrNull(IReadOnlyList<IPAddress> addresses) => addresses.Count > 0 ? addresses[0] : null;

    /// <summary>Fills in the addresses the choice left open, checks the MTU and applies --public-ip(v6).</summary>
    private static ExternalInterface Complete(Inventory inventory, Choice choice, ExternalInterfaceOptions options)
    {
        Link link = choice.Link;
        IPAddress? v4 = choice.Address;
        IPAddress? v6 = choice.IPv6Address;
        if (options.Stack != IpVersions.IPv6 && v4 is null)
        {
            v4 = FirstOrNull(inventory.Preferred(link, AddressFamily.InterNetwork))
                ?? throw new InterfaceSelectionException($"failed to find IPv4 address for interface {link.Name}");
        }

        if (options.Stack != IpVersions.IPv4 && v6 is null)
        {
            v6 = FirstOrNull(inventory.Preferred(link, AddressFamily.InterNetworkV6))
                ?? throw new InterfaceSelectionException($"failed to find IPv6 address for interface {link.Name}");
        }

        if (link.Mtu == 0)
        {
            throw new InterfaceSelectionException($"failed to determine MTU for {link.Name} interface");
        }

        return new ExternalInterface
        {
            Index = link.Index,
            Name = link.Name,
            Mtu = link.Mtu,
            HardwareAddress = link.HardwareAddress,
            Address = options.Stack == IpVersions.IPv6 ? null : v4,
            IPv6Address = options.Stack == IpVersions.IPv4 ? null : v6,
            ExternalAddress = options.Stack == IpVersions.IPv6 ? options.PublicIP : options.PublicIP ?? v4,
            ExternalIPv6Address = options.Stack == IpVersions.IPv4 ? options.PublicIPv6 : options.PublicIPv6 ?? v6,
        };
    }
}
