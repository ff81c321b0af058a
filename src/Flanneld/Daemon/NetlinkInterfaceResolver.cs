using Flannel.Core.Config;
using Flannel.Linux.Interfaces;
using Flannel.Linux.Netlink;
using Flanneld.Options;

namespace Flanneld.Daemon;

/// <summary>Feeds flanneld's interface flags and the network's address families to the netlink interface resolver.</summary>
public sealed class NetlinkInterfaceResolver : IExternalInterfaceResolver
{
    private readonly ExternalInterfaceResolver _resolver;
    private readonly FlanneldOptions _options;

    public NetlinkInterfaceResolver(Rtnetlink netlink, FlanneldOptions options)
    {
        _resolver = new ExternalInterfaceResolver(netlink);
        _options = options;
    }

    public async Task<ExternalInterface> ResolveAsync(NetConfig config, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        try
        {
            return await _resolver.ResolveAsync(new ExternalInterfaceOptions
            {
                Interfaces = _options.Iface,
                InterfaceRegexes = _options.IfaceRegex,
                CanReach = _options.IfaceCanReach,
                PublicIP = _options.PublicIP,
                PublicIPv6 = _options.PublicIPv6,
                Stack = (config.EnableIPv4, config.EnableIPv6) switch
                {
                    (true, true) => IpVersions.DualStack,
                    (false, true) => IpVersions.IPv6,
                    _ => IpVersions.IPv4,
                },
            }, cancellationToken);
        }
        catch (InterfaceSelectionException ex)
        {
            throw new ConfigException(ex.Message, ex);
        }
    }
}
