using Flannel.Core.Net;

namespace Flanneld.TrafficRules;

/// <summary>
/// flanneld's masquerade and forward rules (upstream <c>TrafficManager</c>), in iptables or nftables mode.
/// Start-up order: <see cref="CleanUpOtherModeAsync"/>, then the masquerade rules (--ip-masq), then the forward
/// rules (--iptables-forward-rules), then <see cref="RunAsync"/> for the rest of the daemon's life. Each setup call
/// adds to the desired state and applies it at once, atomically; the resync loop re-checks that state every period
/// (in both modes) and repairs it in one transaction when anything differs. Rules stay in place on shutdown.
/// </summary>
public interface ITrafficManager : IDisposable
{
    /// <summary>"iptables" or "nftables".</summary>
    string Mode { get; }

    /// <summary>Removes what the other mode left behind (nft tables in iptables mode, iptables chains in nftables mode).</summary>
    Task CleanUpOtherModeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Installs the IPv4 masquerade rules for <paramref name="network"/> and this node's <paramref name="lease"/>.
    /// The previous subnet.env values only serve the log: any flannel rule that is not in the new set (an old network's
    /// or subnet's) is removed in the same transaction.
    /// </summary>
    Task SetupAndEnsureMasqRulesAsync(Ip4Net network, Ip4Net lease, Ip4Net? previousNetwork, Ip4Net? previousLease, CancellationToken cancellationToken);

    /// <summary>The IPv6 masquerade rules (ip6tables / <c>ip6 flannel-ipv6</c>, multicast ff00::/8).</summary>
    Task SetupAndEnsureMasqRulesAsync(Ip6Net network, Ip6Net lease, Ip6Net? previousNetwork, Ip6Net? previousLease, CancellationToken cancellationToken);

    /// <summary>Installs the FORWARD accept rules for <paramref name="network"/>.</summary>
    Task SetupAndEnsureForwardRulesAsync(Ip4Net network, CancellationToken cancellationToken);

    /// <summary>Installs the IPv6 FORWARD accept rules.</summary>
    Task SetupAndEnsureForwardRulesAsync(Ip6Net network, CancellationToken cancellationToken);

    /// <summary>One resync pass: reads the installed rules and repairs them if they differ. True when it repaired.</summary>
    Task<bool> ResyncOnceAsync(CancellationToken cancellationToken);

    /// <summary>Resyncs every <paramref name="resyncPeriod"/> until cancelled; failures are logged and retried next period.</summary>
    Task RunAsync(TimeSpan resyncPeriod, CancellationToken cancellationToken);
}
