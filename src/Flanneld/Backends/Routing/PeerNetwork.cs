using System.Diagnostics;
using Flannel.Core.Config;
using Flannel.Core.Leases;
using Flannel.Linux.Netlink;
using Flanneld.Runtime;
using Microsoft.Extensions.Logging;

namespace Flanneld.Backends.Routing;

/// <summary>
/// What the route-based backends share (upstream's RouteNetwork, generalised): each remote lease maps to a set of
/// kernel entries (<see cref="EntriesFor"/>); a full sync dumps what the kernel holds of ours once and applies only the
/// difference in one pipelined batch; incremental events become one batch each; a periodic check repairs entries that
/// someone deleted. Backends say which entries a lease needs and which kernel entries are theirs.
/// </summary>
public abstract class PeerNetwork : IBackendNetwork
{
    private readonly Dictionary<string, (Lease Lease, PeerEntries Entries)> _programmed = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly HashSet<string> _skipped = new(StringComparer.Ordinal);
    private readonly KernelIndex _index = new();

    /// <summary>
    /// Changes per netlink batch of a full sync (~670 vxlan peers): the batch buffer, its acks and the heap the GC
    /// grows for them stay at a few hundred KiB however many peers there are; pipelining keeps each batch fast
    /// (10,000 vxlan peers converge as fast as with 6,000 a batch, and the pool keeps ~1 MiB less afterwards).
    /// </summary>
    private const int MaxBatchChanges = 2000;

    protected PeerNetwork(Rtnetlink netlink, Lease lease, int mtu, NetConfig config, ILogger logger)
    {
        Netlink = netlink;
        Lease = lease;
        Mtu = mtu;
        Config = config;
        Logger = logger;
    }

    public Lease Lease { get; }

    public int Mtu { get; }

    /// <summary>How often <see cref="RunAsync"/> re-checks the kernel (upstream's host-gw route check: 10 s).</summary>
    public TimeSpan CheckInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Kernel entries currently programmed, summed over peers.</summary>
    public int ProgrammedEntries { get; private set; }

    protected Rtnetlink Netlink { get; }

    protected NetConfig Config { get; }

    protected ILogger Logger { get; }

    /// <summary>The entries that make <paramref name="lease"/> reachable; null (with <paramref name="reason"/>) when this backend does not program it.</summary>
    protected abstract PeerEntries? EntriesFor(Lease lease, out string? reason);

    /// <summary>Reports each kernel entry this backend owns to <paramref name="kernel"/> as it is dumped (for repair and stale-entry removal).</summary>
    protected abstract Task DumpOwnedAsync(KernelPlanBuilder kernel, CancellationToken cancellationToken);

    /// <summary>Called before each full sync, e.g. to refresh what is known about the underlay.</summary>
    protected virtual Task PrepareSyncAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task SyncAsync(IReadOnlyCollection<Lease> remoteLeases, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(remoteLeases);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await PrepareSyncAsync(cancellationToken);
            _programmed.Clear();
            _programmed.EnsureCapacity(remoteLeases.Count);
            foreach (Lease lease in remoteLeases)
            {
                if (Entries(lease) is { } entries)
                {
                    _programmed[lease.Key] = (lease, entries);
                }
            }

            await ConvergeAsync(repair: false, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task ApplyAsync(IReadOnlyList<LeaseEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            using var batch = new NetlinkBatch();
            foreach (LeaseEvent e in events)
            {
                string key = e.Lease.Key;
                PeerEntries? old = _programmed.Remove(key, out var held) ? held.Entries : null;
                if (e.Type == LeaseEventType.Added)
                {
                    PeerEntries? entries = Entries(e.Lease);
                    if (old is not null)
                    {
                        RemoveReplaced(batch, old, entries);
                    }

                    if (entries is not null)
                    {
                        Install(batch, entries);
                        _programmed[key] = (e.Lease, entries);
                    }
                }
                else if ((old ?? Entries(e.Lease)) is { } gone)
                {
                    Remove(batch, gone);
                }
            }

            await ExecuteAsync(batch, cancellationToken);
            ProgrammedEntries = _programmed.Values.Sum(p => p.Entries.Count);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Re-checks the kernel every <see cref="CheckInterval"/> and repairs what went missing.</summary>
    public virtual async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(CheckInterval);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            await RepairAsync(cancellationToken);
            HeapRelease.AfterBulkWork();
        }
    }

    /// <summary>Brings the kernel back to what is programmed: re-adds deleted entries, removes foreign ones in our scope.</summary>
    public async Task RepairAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await ConvergeAsync(repair: true, cancellationToken);
        }
        catch (Exception ex) when (ex is NetlinkException or System.Net.Sockets.SocketException)
        {
            BackendLog.CheckFailed(Logger, ex.Message);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Recomputes every peer's entries (after the backend's device was recreated with a new index) and converges.
    /// </summary>
    protected async Task ReprogramAllAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            foreach (Lease lease in _programmed.Values.Select(p => p.Lease).ToList())
            {
                if (Entries(lease) is { } entries)
                {
                    _programmed[lease.Key] = (lease, entries);
                }
                else
                {
                    _programmed.Remove(lease.Key);
                }
            }

            await ConvergeAsync(repair: true, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    public virtual ValueTask DisposeAsync()
    {
        _gate.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    private async Task ConvergeAsync(bool repair, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        var builder = new KernelPlanBuilder(_programmed.Values.Select(p => p.Entries), _programmed.Count, _index);
        await DumpOwnedAsync(builder, cancellationToken);
        KernelPlan plan = builder.Build();
        ProgrammedEntries = _programmed.Values.Sum(p => p.Entries.Count);
        if (plan.IsEmpty)
        {
            if (!repair)
            {
                BackendLog.Converged(Logger, _programmed.Count, 0, 0, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            return;
        }

        if (plan.Changes > MaxBatchChanges)
        {
            // The peers' entries and the plan were just built, in the young generation. Compact them into the old one
            // now, before the batches add their buffers and garbage: a compaction needs room for what it moves on top
            // of the heap it starts from, so the earlier it runs the lower the peak, and the collection after the sync
            // then finds little to move (10,000 vxlan peers: start-up peak 38.5 → 36.6 MiB with the leaner lease
            // decoding, bench/results/main-4).
            HeapRelease.Now();
        }

        using var batch = new NetlinkBatch();
        for (int start = 0; start < plan.Changes; start += MaxBatchChanges)
        {
            batch.Clear();
            plan.AppendTo(batch, start, MaxBatchChanges);
            await ExecuteAsync(batch, cancellationToken);
        }

        if (repair)
        {
            BackendLog.Repaired(Logger, plan.Changes);
        }
        else
        {
            int deleted = plan.DeleteRoutes.Count + plan.DeleteFdb.Count + plan.DeleteNeighbours.Count;
            BackendLog.Converged(Logger, _programmed.Count, plan.Changes, deleted, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    private PeerEntries? Entries(Lease lease)
    {
        PeerEntries? entries = EntriesFor(lease, out string? reason);
        if (reason is not null && _skipped.Add(lease.Key + "|" + reason))
        {
            // One warning per lease and reason: a bad lease written by someone else must not flood the log. A reason
            // with entries means one address family of a dual-stack lease was left out.
            BackendLog.SkippingLease(Logger, lease.Key, lease.Attrs.PublicIP.ToString(), reason);
        }

        return entries;
    }

    private async Task ExecuteAsync(NetlinkBatch batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return;
        }

        NetlinkBatchResult result = await Netlink.ExecuteAsync(batch, cancellationToken);
        if (!result.Succeeded)
        {
            BackendLog.BatchFailed(Logger, result.Failures.Count, result.Count, result.Failures[0].Message);
        }
    }

    private static void Install(NetlinkBatch batch, PeerEntries entries)
    {
        foreach (Neighbour n in entries.Neighbours)
        {
            batch.ReplaceNeighbour(n);
        }

        foreach (FdbEntry f in entries.Fdb)
        {
            batch.ReplaceFdb(f);
        }

        foreach (Route r in entries.Routes)
        {
            batch.ReplaceRoute(r);
        }
    }

    private static void Remove(NetlinkBatch batch, PeerEntries entries)
    {
        foreach (Route r in entries.Routes)
        {
            batch.DeleteRoute(r);
        }

        foreach (FdbEntry f in entries.Fdb)
        {
            batch.DeleteFdb(f);
        }

        foreach (Neighbour n in entries.Neighbours)
        {
            batch.DeleteNeighbour(n);
        }
    }

    /// <summary>Deletes what an updated lease no longer needs (a changed MAC leaves an FDB entry behind otherwise).</summary>
    private static void RemoveReplaced(NetlinkBatch batch, PeerEntries old, PeerEntries? current)
    {
        var keepRoutes = current?.Routes.Select(KernelEntryComparer.RouteKey).ToHashSet() ?? [];
        var keepFdb = current?.Fdb.Select(KernelEntryComparer.FdbKey).ToHashSet() ?? [];
        var keepNeighbours = current?.Neighbours.Select(KernelEntryComparer.NeighbourKey).ToHashSet() ?? [];
        Remove(batch, new PeerEntries(
            old.Neighbours.Where(n => !keepNeighbours.Contains(KernelEntryComparer.NeighbourKey(n))).ToList(),
            old.Fdb.Where(f => !keepFdb.Contains(KernelEntryComparer.FdbKey(f))).ToList(),
            old.Routes.Where(r => !keepRoutes.Contains(KernelEntryComparer.RouteKey(r))).ToList()));
    }
}
