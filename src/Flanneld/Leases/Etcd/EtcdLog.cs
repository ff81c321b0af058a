using Microsoft.Extensions.Logging;

namespace Flanneld.Leases.Etcd;

internal static partial class EtcdLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipping etcd key {Key}: {Reason}")]
    public static partial void SkippedKey(ILogger logger, string key, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Acquired lease {Key} ({How}), expires {Expiration:O}")]
    public static partial void Acquired(ILogger logger, string key, string how, DateTimeOffset? expiration);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deleting this node's lease {Key}: it does not fit the current network config")]
    public static partial void DeletingIncompatible(ILogger logger, string key);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Another node changed the leases while taking {Key} (attempt {Attempt}); starting over with a fresh list")]
    public static partial void LostRace(ILogger logger, string key, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lease {Key} was gone from etcd at renewal; created it again")]
    public static partial void Recreated(ILogger logger, string key);

    [LoggerMessage(Level = LogLevel.Warning, Message = "etcd at {Endpoint} is unreachable ({Error}); retrying in {Delay}")]
    public static partial void Retrying(ILogger logger, string endpoint, string error, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lease watch on {Endpoint} broke off ({Error}); resuming from revision {Revision} in {Delay}")]
    public static partial void WatchBroken(ILogger logger, string endpoint, string error, long revision, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Information, Message = "etcd compacted its history up to revision {CompactRevision} (needed {Revision}); listing all leases again")]
    public static partial void WatchCompacted(ILogger logger, long compactRevision, long revision);
}
