using System.Net;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Etcdserverpb;
using Flannel.Core.Leases;
using Flannel.Core.Net;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Mvccpb;
using Lease = Flannel.Core.Leases.Lease;

namespace Flanneld.Leases.Etcd;

/// <summary>
/// The lease watch: a snapshot (a list at one revision), then etcd's watch from the next revision, event batches in
/// store order. A broken stream resumes from the revision after the last one delivered (backoff between attempts);
/// when etcd has compacted that revision away, the watch lists again and delivers a new snapshot.
/// </summary>
internal sealed class EtcdLeaseWatch(EtcdConnection connection, EtcdKeys keys, EtcdLeaseReader reader, EtcdStoreOptions options, ILogger logger, TimeProvider time)
{
    /// <summary>A DELETE event carries only the key; the watcher looks the removed lease up by it.</summary>
    private static readonly LeaseAttrs RemovedAttrs = new(IPAddress.Any);

    private Snapshot? _seed;
    private int _started;

    /// <summary>
    /// A listing already read (by the lease acquisition) that the next watch starts from instead of listing again:
    /// the first snapshot, then events from the revision after it. Used once.
    /// </summary>
    public void SeedSnapshot(List<Lease> leases, long revision)
    {
        if (Volatile.Read(ref _started) == 0)
        {
            Volatile.Write(ref _seed, new Snapshot(leases, revision));
        }
    }

    public async IAsyncEnumerable<LeaseWatchBatch> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The producer reads etcd without pause; a bounded channel holds it back when the consumer is slow,
        // which in turn lets gRPC flow control hold back etcd.
        var channel = Channel.CreateBounded<LeaseWatchBatch>(new BoundedChannelOptions(64) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task producer = RunWatchAsync(channel.Writer, stop.Token);
        try
        {
            await foreach (LeaseWatchBatch batch in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return batch;
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await producer.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task RunWatchAsync(ChannelWriter<LeaseWatchBatch> writer, CancellationToken cancellationToken)
    {
        var cursor = new WatchCursor();

        // A seed offered after the first watch began would be older than what it already delivered.
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            Volatile.Write(ref _seed, null);
        }
        TimeSpan delay = options.ReconnectBackoffMin;
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                string endpoint = connection.CurrentEndpoint;
                try
                {
                    if (cursor.NextRevision == 0)
                    {
                        Snapshot snapshot = Interlocked.Exchange(ref _seed, null) ?? await ListAsync(cancellationToken).ConfigureAwait(false);
                        await writer.WriteAsync(LeaseWatchBatch.FromSnapshot(snapshot.Leases), cancellationToken).ConfigureAwait(false);
                        cursor.NextRevision = snapshot.Revision + 1;
                    }

                    await StreamEventsAsync(cursor, writer, () => delay = options.ReconnectBackoffMin, cancellationToken).ConfigureAwait(false);
                    if (cursor.NextRevision == 0)
                    {
                        continue;
                    }

                    EtcdLog.WatchBroken(logger, endpoint, "stream ended", cursor.NextRevision, delay);
                }
                catch (Exception ex) when (EtcdConnection.IsTransient(ex, cancellationToken))
                {
                    EtcdLog.WatchBroken(logger, endpoint, ex.Message, cursor.NextRevision, delay);
                }

                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                delay = options.NextBackoff(delay);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            writer.TryComplete();
        }
        catch (Exception ex)
        {
            writer.TryComplete(ex);
        }
    }

    /// <summary>
    /// One watch stream from <see cref="WatchCursor.NextRevision"/>. Returns when the stream ends; sets the cursor to 0
    /// when etcd has compacted the revisions the watch needed (a new snapshot is due).
    /// </summary>
    private async Task StreamEventsAsync(WatchCursor cursor, ChannelWriter<LeaseWatchBatch> writer, Action connected, CancellationToken cancellationToken)
    {
        (CallInvoker invoker, CallOptions options, int index) = await connection.StreamAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call = new Watch.WatchClient(invoker).Watch(options);
            await call.RequestStream.WriteAsync(new WatchRequest
            {
                CreateRequest = new WatchCreateRequest
                {
                    Key = keys.SubnetsStart,
                    RangeEnd = keys.SubnetsEnd,
                    StartRevision = cursor.NextRevision,
                    ProgressNotify = true,
                },
            }, cancellationToken).ConfigureAwait(false);

            while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                WatchResponse response = call.ResponseStream.Current;
                if (response.CompactRevision != 0)
                {
                    EtcdLog.WatchCompacted(logger, response.CompactRevision, cursor.NextRevision);
                    cursor.NextRevision = 0;
                    return;
                }

                if (response.Canceled)
                {
                    throw new RpcException(new Status(StatusCode.Unavailable, $"etcd cancelled the watch: {response.CancelReason}"));
                }

                if (response.Created)
                {
                    connected();
                    continue;
                }

                if (response.Events.Count == 0)
                {
                    // A progress notification: every change up to this revision has been delivered.
                    cursor.NextRevision = Math.Max(cursor.NextRevision, response.Header.Revision + 1);
                    continue;
                }

                var events = new List<LeaseEvent>(response.Events.Count);
                DateTimeOffset now = time.GetUtcNow();
                foreach (Event e in response.Events)
                {
                    if (e.Type == Event.Types.EventType.Put)
                    {
                        if (reader.TryParse(e.Kv, now, out StoredLease? stored))
                        {
                            events.Add(new LeaseEvent(LeaseEventType.Added, stored.Lease));
                        }
                    }
                    else if (reader.TryParseKey(e.Kv.Key.ToStringUtf8(), out Ip4Net? subnet, out Ip6Net? ipv6Subnet))
                    {
                        events.Add(new LeaseEvent(LeaseEventType.Removed, new Lease(subnet, ipv6Subnet, RemovedAttrs) { Revision = e.Kv.ModRevision }));
                    }
                }

                if (events.Count > 0)
                {
                    await writer.WriteAsync(LeaseWatchBatch.FromEvents(events), cancellationToken).ConfigureAwait(false);
                }

                // Only after the batch is handed over: a break before this point resumes at the same revision.
                cursor.NextRevision = response.Events[^1].Kv.ModRevision + 1;
            }
        }
        catch (RpcException ex) when (EtcdConnection.IsUnreachable(ex, cancellationToken))
        {
            connection.ReportUnreachable(index);
            throw;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unauthenticated)
        {
            connection.ReportUnauthenticated();
            throw;
        }
    }

    private async Task<Snapshot> ListAsync(CancellationToken cancellationToken)
    {
        LeaseListing listing = await reader.ListAsync(cancellationToken).ConfigureAwait(false);
        return new Snapshot([.. listing.Leases.Select(s => s.Lease)], listing.Revision);
    }

    private sealed record Snapshot(List<Lease> Leases, long Revision);

    /// <summary>The revision the watch resumes from; 0 when a new snapshot is due.</summary>
    private sealed class WatchCursor
    {
        public long NextRevision { get; set; }
    }
}
