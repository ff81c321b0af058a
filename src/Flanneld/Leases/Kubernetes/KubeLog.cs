using Microsoft.Extensions.Logging;

namespace Flanneld.Leases.Kubernetes;

/// <summary>The Kubernetes lease store's log lines, with stable event ids.</summary>
internal static partial class KubeLog
{
    [LoggerMessage(101, LogLevel.Information, "Kubernetes lease store for node {Node} at {Server}")]
    public static partial void Started(ILogger logger, string node, string server);

    [LoggerMessage(102, LogLevel.Information, "Waiting for node {Node} to be assigned a pod CIDR")]
    public static partial void WaitingForPodCidr(ILogger logger, string node);

    [LoggerMessage(103, LogLevel.Information, "Patched node {Node} annotations: {Patch}")]
    public static partial void AnnotationsPatched(ILogger logger, string node, string patch);

    [LoggerMessage(104, LogLevel.Information, "Overriding public ip with '{Address}' from node annotation '{Annotation}'")]
    public static partial void PublicIPOverwritten(ILogger logger, string address, string annotation);

    [LoggerMessage(105, LogLevel.Warning, "Acquiring the lease of node {Node} failed, retrying in {Delay}: {Reason}")]
    public static partial void AcquireRetry(ILogger logger, string node, TimeSpan delay, string reason);

    [LoggerMessage(106, LogLevel.Information, "Set node {Node} condition NetworkUnavailable=False (FlannelIsUp)")]
    public static partial void NetworkAvailable(ILogger logger, string node);

    [LoggerMessage(107, LogLevel.Warning, "Setting node {Node} condition NetworkUnavailable=False failed, retrying in {Delay}: {Reason}")]
    public static partial void NetworkAvailableRetry(ILogger logger, string node, TimeSpan delay, string reason);

    [LoggerMessage(108, LogLevel.Information, "Listed {Count} nodes ({Leases} flannel leases) at resourceVersion {ResourceVersion}")]
    public static partial void Listed(ILogger logger, int count, int leases, string resourceVersion);

    [LoggerMessage(109, LogLevel.Information, "Node watch from resourceVersion {ResourceVersion} expired (410); listing again")]
    public static partial void WatchExpired(ILogger logger, string resourceVersion);

    [LoggerMessage(110, LogLevel.Warning, "Node watch failed, retrying in {Delay}: {Reason}")]
    public static partial void WatchFailed(ILogger logger, TimeSpan delay, string reason);

    [LoggerMessage(111, LogLevel.Warning, "Skipping node {Node}: {Reason}")]
    public static partial void NodeSkipped(ILogger logger, string node, string reason);

    [LoggerMessage(112, LogLevel.Debug, "Node watch closed by the server at resourceVersion {ResourceVersion}; resuming")]
    public static partial void WatchClosed(ILogger logger, string resourceVersion);

    [LoggerMessage(113, LogLevel.Information, "Using public IP {Address} from node annotation {Annotation}")]
    public static partial void NodePublicIP(ILogger logger, string address, string annotation);
}
