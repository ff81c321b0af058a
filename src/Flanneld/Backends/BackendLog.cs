using Microsoft.Extensions.Logging;

namespace Flanneld.Backends;

/// <summary>The backends' log lines, with stable event ids (100+).</summary>
internal static partial class BackendLog
{
    [LoggerMessage(100, LogLevel.Warning, "Skipping lease {Key} from {PublicIP}: {Reason}")]
    public static partial void SkippingLease(ILogger logger, string key, string publicIP, string reason);

    [LoggerMessage(101, LogLevel.Information, "Kernel converged to {Peers} peers: {Changes} changes ({Deleted} stale entries removed) in {Milliseconds} ms")]
    public static partial void Converged(ILogger logger, int peers, int changes, int deleted, long milliseconds);

    [LoggerMessage(102, LogLevel.Warning, "{Failed} of {Count} kernel changes failed; first: {First}")]
    public static partial void BatchFailed(ILogger logger, int failed, int count, string first);

    [LoggerMessage(103, LogLevel.Information, "Reusing existing device {Name} (index {Index}, MAC {Mac})")]
    public static partial void DeviceReused(ILogger logger, string name, int index, string mac);

    [LoggerMessage(104, LogLevel.Information, "Created device {Name} (index {Index}, MAC {Mac}, MTU {Mtu})")]
    public static partial void DeviceCreated(ILogger logger, string name, int index, string mac, int mtu);

    [LoggerMessage(105, LogLevel.Warning, "Device {Name} exists with incompatible settings ({Existing}); recreating it")]
    public static partial void DeviceIncompatible(ILogger logger, string name, string existing);

    [LoggerMessage(106, LogLevel.Warning, "Device {Name} was deleted; recreating it and its peers")]
    public static partial void DeviceDeleted(ILogger logger, string name);

    [LoggerMessage(107, LogLevel.Warning, "Repaired {Changes} kernel entries that had gone missing or changed")]
    public static partial void Repaired(ILogger logger, int changes);

    [LoggerMessage(108, LogLevel.Warning, "Periodic kernel check failed: {Reason}")]
    public static partial void CheckFailed(ILogger logger, string reason);
}
