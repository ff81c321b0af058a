using Flannel.Core.Config;
using Flannel.Core.Leases;
using Flanneld.Options;

namespace Flanneld.TrafficRules;

/// <summary>upstream's start-up sequence for traffic rules, from the daemon's options, config and lease.</summary>
public static class TrafficRulesStartup
{
    /// <summary>
    /// Cleans the other mode's leftovers, then installs the masquerade rules (--ip-masq) and the forward rules
    /// (--iptables-forward-rules) for each enabled family. <paramref name="previous"/> is the subnet.env found at start.
    /// </summary>
    public static async Task SetUpAsync(ITrafficManager manager, FlanneldOptions options, NetConfig config, Lease lease, SubnetEnv? previous, CancellationToken cancellationToken)
    {
        await SetUpForwardAsync(manager, options, config, cancellationToken).ConfigureAwait(false);
        await SetUpMasqAsync(manager, options, config, lease, previous, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The part that needs only the network config: cleans the other mode's leftovers and installs the forward rules
    /// (--iptables-forward-rules). The daemon runs it while it acquires the lease, so that it is not on the start-up path.
    /// </summary>
    public static async Task SetUpForwardAsync(ITrafficManager manager, FlanneldOptions options, NetConfig config, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(config);
        await manager.CleanUpOtherModeAsync(cancellationToken).ConfigureAwait(false);
        if (!options.IptablesForwardRules)
        {
            return;
        }

        if (config.EnableIPv4 && config.Network is { } network)
        {
            await manager.SetupAndEnsureForwardRulesAsync(network, cancellationToken).ConfigureAwait(false);
        }

        if (config.EnableIPv6 && config.IPv6Network is { } network6)
        {
            await manager.SetupAndEnsureForwardRulesAsync(network6, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Installs the masquerade rules (--ip-masq) for this node's <paramref name="lease"/>, for each enabled family.
    /// <paramref name="previous"/> is the subnet.env found at start.
    /// </summary>
    public static async Task SetUpMasqAsync(ITrafficManager manager, FlanneldOptions options, NetConfig config, Lease lease, SubnetEnv? previous, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(lease);
        if (!options.IpMasq)
        {
            return;
        }

        if (config.EnableIPv4 && config.Network is { } network && lease.Subnet is { } subnet)
        {
            await manager.SetupAndEnsureMasqRulesAsync(network, subnet,
                previous is { Networks.Count: > 0 } ? previous.Networks[0] : null, previous?.Subnet, cancellationToken).ConfigureAwait(false);
        }

        if (config.EnableIPv6 && config.IPv6Network is { } network6 && lease.IPv6Subnet is { } subnet6)
        {
            await manager.SetupAndEnsureMasqRulesAsync(network6, subnet6,
                previous is { IPv6Networks.Count: > 0 } ? previous.IPv6Networks[0] : null, previous?.IPv6Subnet, cancellationToken).ConfigureAwait(false);
        }
    }
}
