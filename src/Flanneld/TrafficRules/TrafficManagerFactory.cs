using Flanneld.Health;
using Flanneld.TrafficRules.Iptables;
using Flanneld.TrafficRules.Nftables;
using Microsoft.Extensions.Logging;

namespace Flanneld.TrafficRules;

/// <summary>Picks the mode as upstream does: nftables when net-conf.json says <c>EnableNFTables</c>, else iptables.</summary>
public static class TrafficManagerFactory
{
    public static ITrafficManager Create(bool enableNFTables, bool randomFullyDisabled, ILogger logger, FlannelMetrics? metrics = null, ICommandRunner? runner = null)
    {
        runner ??= new ProcessCommandRunner();
        ITrafficManager manager = enableNFTables
            ? new NftablesManager(runner, randomFullyDisabled, logger, metrics)
            : new IptablesManager(runner, randomFullyDisabled, logger, metrics);
        TrafficLog.Starting(logger, manager.Mode);
        return manager;
    }
}
