using System.Diagnostics.Metrics;

namespace Flanneld.Health;

/// <summary>
/// The daemon's instruments, on the Meter <c>Flannel.NET</c>. Cheap when nobody listens: the exporter subscribes
/// only when the health port is set. Gauges read values the daemon sets here.
/// </summary>
public sealed class FlannelMetrics : IDisposable
{
    public const string MeterName = "Flannel.NET";

    private readonly Meter _meter;
    private readonly Counter<long> _renewals;
    private readonly Histogram<double> _reconcileDuration;
    private readonly Counter<long> _programmingErrors;
    private readonly Counter<long> _storeReconnects;
    private readonly Counter<long> _ruleRepairs;
    private readonly Counter<long> _storeRequests;
    private long _leaseExpiryUnixSeconds;
    private long _peersKnown;
    private long _kernelEntries;

    public FlannelMetrics()
    {
        _meter = new Meter(MeterName, typeof(FlannelMetrics).Assembly.GetName().Version?.ToString());
        _meter.CreateObservableGauge("flannel.lease.expiry", () => Interlocked.Read(ref _leaseExpiryUnixSeconds), "s",
            "Unix time at which this node's subnet lease expires (0: no lease yet)");
        _renewals = _meter.CreateCounter<long>("flannel.lease.renewals", description: "Lease renewal attempts, by result");
        _meter.CreateObservableGauge("flannel.peers", () => Interlocked.Read(ref _peersKnown), description: "Remote leases known");
        _meter.CreateObservableGauge("flannel.kernel.entries", () => Interlocked.Read(ref _kernelEntries),
            description: "Kernel entries (routes, neighbours, FDB entries) programmed for remote leases");
        _reconcileDuration = _meter.CreateHistogram<double>("flannel.reconcile.duration", "s", "Time to apply one batch of lease events",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        _programmingErrors = _meter.CreateCounter<long>("flannel.programming.errors", description: "Kernel or firewall programming failures, by kind");
        _storeReconnects = _meter.CreateCounter<long>("flannel.store.reconnects", description: "Reconnections to the lease store");
        _ruleRepairs = _meter.CreateCounter<long>("flannel.rules.repairs", description: "Resync passes that found traffic rules missing or changed and re-applied them, by mode");
        _storeRequests = _meter.CreateCounter<long>("flannel.store.requests", description: "Requests sent to the etcd lease store, by operation");
    }

    public void SetLeaseExpiry(DateTimeOffset? expiry) =>
        Interlocked.Exchange(ref _leaseExpiryUnixSeconds, expiry?.ToUnixTimeSeconds() ?? 0);

    public void LeaseRenewal(bool succeeded) => _renewals.Add(1, new KeyValuePair<string, object?>("result", succeeded ? "success" : "failure"));

    public void SetPeersKnown(long count) => Interlocked.Exchange(ref _peersKnown, count);

    public void SetKernelEntries(long count) => Interlocked.Exchange(ref _kernelEntries, count);

    public void RecordReconcile(TimeSpan duration) => _reconcileDuration.Record(duration.TotalSeconds);

    /// <summary>A programming failure of <paramref name="kind"/>: e.g. "route", "neighbour", "fdb", "iptables", "nftables".</summary>
    public void ProgrammingError(string kind) => _programmingErrors.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void StoreReconnected() => _storeReconnects.Add(1);

    /// <summary>One request sent to etcd: "range", "txn", "lease_keepalive", "watch_create", ….</summary>
    public void StoreRequest(string operation) => _storeRequests.Add(1, new KeyValuePair<string, object?>("operation", operation));

    public void RulesRepaired(string mode) => _ruleRepairs.Add(1, new KeyValuePair<string, object?>("mode", mode));

    public void Dispose() => _meter.Dispose();
}
