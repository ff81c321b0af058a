using Flannel.Core.Config;
using Flannel.Core.Leases;
using System.Diagnostics;
using Flanneld.Backends;
using Flanneld.Health;
using Flanneld.Runtime;
using Microsoft.Extensions.Logging;

namespace Flanneld.Daemon;

/// <summary>
/// The reconcile loop: leases flow one way, store → events → backend → kernel. A snapshot makes the backend converge
/// to the whole set (stale entries go, correct ones stay); events are applied in store order. It also guards this
/// node's own lease: deleted, it is taken back; taken by another node, the daemon stops using the subnet.
/// </summary>
public sealed class PeerReconciler
{
    private readonly ILeaseStore _store;
    private readonly IBackendNetwork _network;
    private readonly NetConfig _config;
    private readonly LeaseHolder _own;
    private readonly FlannelMetrics _metrics;
    private readonly ILogger _logger;
    private readonly LeaseWatcher _watcher;

    public PeerReconciler(ILeaseStore store, IBackendNetwork network, NetConfig config, LeaseHolder own, FlannelMetrics metrics, ILogger logger)
    {
        _metrics = metrics;
        _store = store;
        _network = network;
        _config = config;
        _own = own;
        _logger = logger;
        _watcher = new LeaseWatcher(own.Lease);
    }

    /// <summary>The remote leases as last seen; for diagnostics and tests.</summary>
    public IReadOnlyCollection<Lease> RemoteLeases => _watcher.Remote;

    /// <summary>Raised after each batch has been applied to the backend.</summary>
    public event Action<int>? BatchApplied;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await foreach (LeaseWatchBatch batch in _store.WatchLeasesAsync(cancellationToken))
        {
            await GuardOwnLeaseAsync(batch, cancellationToken);
            IReadOnlyList<LeaseEvent> events = _watcher.Apply(batch);
            int changes = events.Count;
            long started = Stopwatch.GetTimestamp();
            try
            {
                if (batch.IsSnapshot)
                {
                    // A snapshot is synced as a whole; its events (one per lease at start-up) are not kept through it.
                    events = [];

                    // The snapshot's parsing garbage goes before the sync starts, the sync's own after it.
                    HeapRelease.Now();
                    await _network.SyncAsync(_watcher.Remote, cancellationToken);
                    DaemonLog.Synchronised(_logger, _watcher.Remote.Count);
                    HeapRelease.Now();
                }
                else if (events.Count > 0)
                {
                    DaemonLog.ApplyingEvents(_logger, events.Count);
                    LogPeers(events);
                    await _network.ApplyAsync(events, cancellationToken);
                    HeapRelease.AfterBulkWork();
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                _metrics.ProgrammingError(ex.GetType().Name);
                DaemonLog.ApplyFailed(_logger, ex);
            }

            _metrics.RecordReconcile(Stopwatch.GetElapsedTime(started));
            _metrics.SetPeersKnown(_watcher.Remote.Count);
            _metrics.SetKernelEntries(_network.ProgrammedEntries);

            BatchApplied?.Invoke(changes);
        }
    }

    private void LogPeers(IReadOnlyList<LeaseEvent> events)
    {
        if (!_logger.IsEnabled(LogLevel.Information) || events.Count > 16)
        {
            return;
        }

        foreach (LeaseEvent e in events)
        {
            DaemonLog.PeerChanged(_logger, e.Type == LeaseEventType.Added ? "added" : "removed", e.Lease.Key, e.Lease.Attrs.PublicIP.ToString());
        }
    }

    private async Task GuardOwnLeaseAsync(LeaseWatchBatch batch, CancellationToken cancellationToken)
    {
        Lease own = _own.Lease;
        string key = own.Key;
        Lease? seen = null;
        bool deleted = false;
        if (batch.Snapshot is { } snapshot)
        {
            seen = snapshot.FirstOrDefault(l => l.Key == key);
            deleted = seen is null;
        }
        else
        {
            foreach (LeaseEvent e in batch.Events)
            {
                if (e.Lease.Key == key)
                {
                    seen = e.Type == LeaseEventType.Added ? e.Lease : null;
                    deleted = e.Type == LeaseEventType.Removed;
                }
            }
        }

        // Both families identify the holder: an IPv6-only node advertises no IPv4 PublicIP (0.0.0.0).
        if (seen is not null && (!seen.Attrs.PublicIP.Equals(own.Attrs.PublicIP) || !Equals(seen.Attrs.PublicIPv6, own.Attrs.PublicIPv6)))
        {
            string holder = seen.Attrs.PublicIPv6 is null ? seen.Attrs.PublicIP.ToString() : $"{seen.Attrs.PublicIP} / {seen.Attrs.PublicIPv6}";
            DaemonLog.OwnLeaseTaken(_logger, key, holder);
            throw new LeaseLostException($"subnet {key} is now held by {holder}");
        }

        if (!deleted)
        {
            return;
        }

        DaemonLog.OwnLeaseDeleted(_logger, key);
        var request = new LeaseRequest(_config, own.Attrs, own.Subnet, own.IPv6Subnet);
        Lease again = await _store.AcquireLeaseAsync(request, cancellationToken);
        if (again.Key != key)
        {
            DaemonLog.OwnLeaseTaken(_logger, key, "another node");
            throw new LeaseLostException($"subnet {key} was taken by another node; the store offered {again.Key} instead");
        }

        _own.Replace(own, again);
        DaemonLog.OwnLeaseRecovered(_logger, key);
    }
}
