using Microsoft.Extensions.Logging;

namespace Flanneld.Daemon;

/// <summary>The daemon's log lines, with stable event ids.</summary>
internal static partial class DaemonLog
{
    [LoggerMessage(1, LogLevel.Information, "Network config: Network={Network} SubnetLen={SubnetLen} IPv6Network={IPv6Network} Backend={BackendType}")]
    public static partial void ConfigLoaded(ILogger logger, string network, int subnetLen, string ipv6Network, string backendType);

    [LoggerMessage(2, LogLevel.Warning, "Could not read the network config, retrying in 1 s: {Reason}")]
    public static partial void ConfigRetry(ILogger logger, string reason);

    [LoggerMessage(3, LogLevel.Information, "Using interface {Name} (index {Index}, MTU {Mtu}), public IP {PublicIP}, public IPv6 {PublicIPv6}")]
    public static partial void InterfaceChosen(ILogger logger, string name, int index, int mtu, string publicIP, string publicIPv6);

    [LoggerMessage(4, LogLevel.Information, "Acquired lease {Key} (backend {BackendType}, expires {Expiration})")]
    public static partial void LeaseAcquired(ILogger logger, string key, string backendType, string expiration);

    [LoggerMessage(5, LogLevel.Information, "Wrote {Path}: subnet {Subnet}, MTU {Mtu}")]
    public static partial void SubnetFileWritten(ILogger logger, string path, string subnet, int mtu);

    [LoggerMessage(6, LogLevel.Warning, "Ignoring the previous subnet file {Path}: {Reason}")]
    public static partial void PreviousSubnetFileUnreadable(ILogger logger, string path, string reason);

    [LoggerMessage(7, LogLevel.Information, "Renewed lease {Key}, now expires {Expiration}")]
    public static partial void LeaseRenewed(ILogger logger, string key, string expiration);

    [LoggerMessage(8, LogLevel.Warning, "Renewing lease {Key} failed, retrying in {Delay}: {Reason}")]
    public static partial void LeaseRenewFailed(ILogger logger, string key, TimeSpan delay, string reason);

    [LoggerMessage(9, LogLevel.Error, "Lease {Key} was deleted from the store; taking it back")]
    public static partial void OwnLeaseDeleted(ILogger logger, string key);

    [LoggerMessage(10, LogLevel.Critical, "LEASE LOST: subnet {Key} is now held by {Holder}; this node stops using it and exits so that it restarts on a subnet of its own")]
    public static partial void OwnLeaseTaken(ILogger logger, string key, string holder);

    [LoggerMessage(11, LogLevel.Warning, "Took back lease {Key} after it was deleted")]
    public static partial void OwnLeaseRecovered(ILogger logger, string key);

    [LoggerMessage(12, LogLevel.Debug, "Applying {Count} lease events")]
    public static partial void ApplyingEvents(ILogger logger, int count);

    [LoggerMessage(13, LogLevel.Information, "Synchronised with {Count} remote leases")]
    public static partial void Synchronised(ILogger logger, int count);

    [LoggerMessage(14, LogLevel.Debug, "Peer {Action}: {Key} at {PublicIP}")]
    public static partial void PeerChanged(ILogger logger, string action, string key, string publicIP);

    [LoggerMessage(15, LogLevel.Error, "Programming the kernel for lease events failed; the next snapshot or resync repairs it")]
    public static partial void ApplyFailed(ILogger logger, Exception exception);

    [LoggerMessage(17, LogLevel.Information, "Added blackhole route for {Subnet}")]
    public static partial void BlackholeRouteAdded(ILogger logger, string subnet);

    [LoggerMessage(18, LogLevel.Warning, "Could not add the blackhole route for {Subnet}: {Reason}")]
    public static partial void BlackholeRouteFailed(ILogger logger, string subnet, string reason);

    [LoggerMessage(16, LogLevel.Information, "Shutting down; the lease and the kernel state stay in place")]
    public static partial void ShuttingDown(ILogger logger);
}
