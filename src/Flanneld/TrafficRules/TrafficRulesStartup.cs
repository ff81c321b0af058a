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
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(lease);
        await manager.CleanUpOtherModeAsync(cancellationToken).ConfigureAwait(false);

        bool v4 = config.EnableIPv4 && config.Network is not null && lease.Subnet is not null;
        bool v6 = config.EnableIPv6 && config.IPv6Network is not null && lease.IPv6Subnet is not null;
        if (options.IpMasq)
        {
            if (v4)
            {
                await manager.SetupAndEnsureMasqRulesAsync(config.Network!.Value, lease.Subnet!.Value,
                    previous is { Networks.Count: > 0 } ? previous.Networks[0] : null, previous?.Subnet, cancellationToken).ConfigureAwait(false);
            }

            if (v6)
            {
                await manager.SetupAndEnsureMasqRulesAsync(config.IPv6Network!.Value, lease.IPv6Subnet!.Value,
                    previous is { IPv6Networks.Count: > 0 } ? previous.IPv6Networks[0] : null, previous?.IPv6Subnet, cancellationToken).ConfigureAwait(false);
            }
        }

        if (options.IptablesForwardRules)
        {
            if (v4)
            {
                await manager.SetupAndEnsureForwardRulesAsync(config.Network!.Value, cancellationToken).ConfigureAwait(false);
            }

            if (v6)
            {
                await manager.SetupAndEnsureForwardRulesAsync(config.IPv6Network!.Value, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
