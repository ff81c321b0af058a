using System.Net;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Etcdserverpb;
using Flannel.Core.Config;
using Flannel.Core.Leases;
using Flannel.Core.Net;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Mvccpb;
using Lease = Flannel.Core.Leases.Lease;

namespace Flanneld.Leases.Etcd;

/// <summary>
/// Leases in etcd v3, upstream's layout byte for byte. A lease is a key with an etcd lease (TTL) attached; a key without
/// one is a reservation, which belongs to the node with its PublicIP for good and is never taken by another node.
/// A subnet is only ever created by a transaction that checks no key holds it, so two nodes never share one.
/// </summary>
public sealed class EtcdLeaseStore : ILeaseStore, IDisposable
{
    private static readonly LeaseAttrs RemovedAttrs = new(IPAddress.Any);

    private readonly EtcdStoreOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly EtcdConnection _connection;
    private readonly EtcdKeys _keys;
    private readonly HashSet<string> _warnedKeys = new(StringComparer.Ordinal);

    public EtcdLeaseStore(EtcdStoreOptions options, ILogger<EtcdLeaseStore> logger, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        options.Validate();
        _options = options;
        _logger = logger;
        _time = timeProvider ?? TimeProvider.System;
        _keys = new EtcdKeys(options.Prefix);
        _connection = new EtcdConnection(options);
    }

    /// <summary>The key this store reads the net-conf from.</summary>
    public string ConfigKey => _keys.Config;

    /// <summary>The full etcd key of a lease.</summary>
    public string KeyOf(Lease lease)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return _keys.Lease(lease.Subnet, lease.IPv6Subnet);
    }

    public async Task<NetConfig> GetNetworkConfigAsync(CancellationToken cancellationToken)
    {
        string key = _keys.Config;
        RangeResponse response = await _connection.CallAsync(
            (invoker, options) => new KV.KVClient(invoker).RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key) }, options).ResponseAsync,
            cancellationToken).ConfigureAwait(false);
        if (response.Kvs.Count == 0)
        {
            throw new NetworkConfigNotFoundException(key);
        }

        try
        {
            return NetConfigParser.Parse(response.Kvs[0].Value.ToStringUtf8());
        }
        catch (FormatException ex)
        {
            throw new ConfigException($"invalid flannel config at {key}: {ex.Message}", ex);
        }
    }

    public Task<Lease> AcquireLeaseAsync(LeaseRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RetryWhileUnreachableAsync(async () =>
        {
            for (int attempt = 1; attempt <= _options.RaceRetries; attempt++)
            {
                Listing listing = await ListAsync(cancellationToken).ConfigureAwait(false);
                (Lease? lease, string key) = await TryAcquireAsync(request, listing, cancellationToken).ConfigureAwait(false);
                if (lease is not null)
                {
                    return lease;
                }

                EtcdLog.LostRace(_logger, key, attempt);

                // A short random pause spreads nodes that keep colliding (a node restart storm) apart.
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20 * Math.Min(attempt, 10))), _time, cancellationToken).ConfigureAwait(false);
            }

            throw new InvalidOperationException($"failed to acquire a subnet lease under {_keys.Subnets}: other nodes took the chosen subnet {_options.RaceRetries} times in a row");
        }, cancellationToken);
    }

    /// <summary>
    /// Extends the lease by keeping its etcd lease alive (one round trip; the key and its value stay untouched, so no
    /// watcher anywhere sees an event). A reservation has nothing to extend. A lease whose key vanished (expired while
    /// etcd was unreachable, or deleted) is created again if its subnet is still free.
    /// </summary>
    public Task<Lease> RenewLeaseAsync(Lease lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return RetryWhileUnreachableAsync(() => RenewOnceAsync(lease, cancellationToken), cancellationToken);
    }

    public async IAsyncEnumerable<LeaseWatchBatch> WatchLeasesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
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

    public void Dispose() => _connection.Dispose();

    private async Task<(Lease? Lease, string Key)> TryAcquireAsync(LeaseRequest request, Listing listing, CancellationToken cancellationToken)
    {
        NetConfig config = request.Config;
        bool deleted = false;
        foreach (StoredLease stored in listing.Leases.Where(s => IsMine(s.Lease.Attrs, request.Attrs, config)))
        {
            string key = KeyOf(stored.Lease);
            if (SubnetAllocator.IsCompatible(config, stored.Lease))
            {
                return (await ReuseAsync(stored, request.Attrs, cancellationToken).ConfigureAwait(false), key);
            }

            if (stored.Lease.IsReservation)
            {
                throw new ConfigException($"reservation {key} for PublicIP {request.Attrs.PublicIP} does not fit the network config (Network {config.Network}, SubnetLen {config.SubnetLen}, SubnetMin {Ip4.Format(config.SubnetMin)}, SubnetMax {Ip4.Format(config.SubnetMax)}); fix or delete the reservation");
            }

            EtcdLog.DeletingIncompatible(_logger, key);
            await TxnAsync(
                new TxnRequest
                {
                    Compare = { ModRevisionIs(key, stored.Lease.Revision) },
                    Success = { new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(key) } } },
                },
                cancellationToken).ConfigureAwait(false);
            deleted = true;
        }

        if (deleted)
        {
            return (null, "(deleted incompatible leases)");
        }

        Ip4Net? subnet = null;
        Ip6Net? ipv6Subnet = null;
        string how = "previous subnet from subnet.env";
        if (config.EnableIPv4)
        {
            var taken = listing.Leases.Where(s => s.Lease.Subnet is not null).Select(s => s.Lease.Subnet!.Value).ToList();
            Ip4Net? previous = request.PreviousSubnet?.Canonical;
            if (previous is { } p && SubnetAllocator.IsCompatible(config, p) && !taken.Any(t => t.Overlaps(p)))
            {
                subnet = p;
            }
            else
            {
                how = "new subnet";
                subnet = SubnetAllocator.PickIp4(config, taken, SubnetAllocator.SystemRandom)
                    ?? throw new OutOfSubnetsException($"out of subnets: all {SubnetAllocator.CountIp4(config)} subnets of {config.Network} with SubnetLen {config.SubnetLen} (SubnetMin {Ip4.Format(config.SubnetMin)}, SubnetMax {Ip4.Format(config.SubnetMax)}) are taken");
            }
        }

        if (config.EnableIPv6)
        {
            var taken = listing.Leases.Where(s => s.Lease.IPv6Subnet is not null).Select(s => s.Lease.IPv6Subnet!.Value).ToList();
            Ip6Net? previous = request.PreviousIPv6Subnet?.Canonical;
            if (previous is { } p && SubnetAllocator.IsCompatible(config, p) && !taken.Any(t => t.Overlaps(p)))
            {
                ipv6Subnet = p;
            }
            else
            {
                how = "new subnet";
                ipv6Subnet = SubnetAllocator.PickIp6(config, taken, SubnetAllocator.SystemRandom)
                    ?? throw new OutOfSubnetsException($"out of subnets: all {SubnetAllocator.CountIp6(config)} subnets of {config.IPv6Network} with IPv6SubnetLen {config.IPv6SubnetLen} (IPv6SubnetMin {Ip6.Format(config.IPv6SubnetMin)}, IPv6SubnetMax {Ip6.Format(config.IPv6SubnetMax)}) are taken");
            }
        }

        string newKey = _keys.Lease(subnet, ipv6Subnet);
        Lease? created = await CreateAsync(subnet, ipv6Subnet, request.Attrs, listing.Revision, cancellationToken).ConfigureAwait(false);
        if (created is not null)
        {
            EtcdLog.Acquired(_logger, newKey, how, created.Expiration);
        }

        return (created, newKey);
    }

    /// <summary>Takes back this node's own lease with its current attributes; null when the key changed meanwhile.</summary>
    private async Task<Lease?> ReuseAsync(StoredLease stored, LeaseAttrs attrs, CancellationToken cancellationToken)
    {
        string key = KeyOf(stored.Lease);
        byte[] value = LeaseAttrsJson.Encode(attrs);
        if (stored.Lease.IsReservation)
        {
            // A reservation stays without a TTL. Its value is refreshed only when this node's attributes changed
            // (a new VTEP MAC after a reboot), or the other nodes would program a stale data path.
            long revision = stored.Lease.Revision;
            if (!stored.Value.Span.SequenceEqual(value))
            {
                TxnResponse put = await TxnAsync(
                    new TxnRequest
                    {
                        Compare = { ModRevisionIs(key, stored.Lease.Revision) },
                        Success = { new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFrom(value) } } },
                    },
                    cancellationToken).ConfigureAwait(false);
                if (!put.Succeeded)
                {
                    return null;
                }

                revision = put.Header.Revision;
            }

            Lease reserved = stored.Lease with { Attrs = attrs, Expiration = null, Revision = revision };
            EtcdLog.Acquired(_logger, key, "reservation", null);
            return reserved;
        }

        LeaseGrantResponse grant = await GrantAsync(cancellationToken).ConfigureAwait(false);
        TxnResponse txn = await TxnAsync(
            new TxnRequest
            {
                Compare = { ModRevisionIs(key, stored.Lease.Revision) },
                Success = { new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFrom(value), Lease = grant.ID } } },
            },
            cancellationToken).ConfigureAwait(false);
        if (!txn.Succeeded)
        {
            await RevokeQuietlyAsync(grant.ID, cancellationToken).ConfigureAwait(false);
            return null;
        }

        // The old etcd lease now holds no key; revoking it keeps etcd's lease table from growing with every restart.
        await RevokeQuietlyAsync(stored.EtcdLeaseId, cancellationToken).ConfigureAwait(false);
        Lease lease = stored.Lease with { Attrs = attrs, Expiration = _time.GetUtcNow().AddSeconds(grant.TTL), Revision = txn.Header.Revision };
        EtcdLog.Acquired(_logger, key, "this node's existing lease", lease.Expiration);
        return lease;
    }

    /// <summary>
    /// Creates the lease if no key holds its subnet: compare-and-create in one transaction. For an IPv4 subnet the
    /// check covers the plain key and every dual-stack key with that IPv4 part (one key prefix). The IPv6 half of a
    /// dual-stack key sits in the middle of other keys, where no prefix reaches it: there the transaction instead
    /// requires that no lease key changed since <paramref name="listedAt"/>, the revision the choice was made at.
    /// Null when another node was first.
    /// </summary>
    private async Task<Lease?> CreateAsync(Ip4Net? subnet, Ip6Net? ipv6Subnet, LeaseAttrs attrs, long? listedAt, CancellationToken cancellationToken)
    {
        string key = _keys.Lease(subnet, ipv6Subnet);
        var request = new TxnRequest();
        if (subnet is { } v4)
        {
            string v4Key = _keys.Lease(v4, null);
            request.Compare.Add(VersionIsZero(ByteString.CopyFromUtf8(v4Key), null));
            request.Compare.Add(VersionIsZero(ByteString.CopyFromUtf8(v4Key + "&"), EtcdKeys.PrefixEnd(v4Key + "&")));
        }
        else
        {
            request.Compare.Add(VersionIsZero(ByteString.CopyFromUtf8(key), null));
        }

        if (subnet is not null && ipv6Subnet is not null && listedAt is { } revision)
        {
            request.Compare.Add(new Compare
            {
                Key = _keys.SubnetsStart,
                RangeEnd = _keys.SubnetsEnd,
                Target = Compare.Types.CompareTarget.Mod,
                Result = Compare.Types.CompareResult.Less,
                ModRevision = revision + 1,
            });
        }

        LeaseGrantResponse grant = await GrantAsync(cancellationToken).ConfigureAwait(false);
        request.Success.Add(new RequestOp
        {
            RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFrom(LeaseAttrsJson.Encode(attrs)), Lease = grant.ID },
        });
        TxnResponse txn = await TxnAsync(request, cancellationToken).ConfigureAwait(false);
        if (!txn.Succeeded)
        {
            await RevokeQuietlyAsync(grant.ID, cancellationToken).ConfigureAwait(false);
            return null;
        }

        return new Lease(subnet, ipv6Subnet, attrs, _time.GetUtcNow().AddSeconds(grant.TTL)) { Revision = txn.Header.Revision };
    }

    private async Task<Lease> RenewOnceAsync(Lease lease, CancellationToken cancellationToken)
    {
        string key = KeyOf(lease);
        RangeResponse range = await _connection.CallAsync(
            (invoker, options) => new KV.KVClient(invoker).RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key) }, options).ResponseAsync,
            cancellationToken).ConfigureAwait(false);
        if (range.Kvs.Count == 0)
        {
            return await RecreateAsync(lease, key, cancellationToken).ConfigureAwait(false);
        }

        KeyValue kv = range.Kvs[0];
        LeaseAttrs stored;
        try
        {
            stored = LeaseAttrsJson.Decode(kv.Value.Span);
        }
        catch (FormatException ex)
        {
            throw new InvalidOperationException($"lease {key} holds a value this node did not write: {ex.Message}", ex);
        }

        if (!stored.PublicIP.Equals(lease.Attrs.PublicIP) || !Equals(stored.PublicIPv6, lease.Attrs.PublicIPv6))
        {
            throw new InvalidOperationException($"lease {key} now belongs to PublicIP {stored.PublicIP}, not this node's {lease.Attrs.PublicIP}");
        }

        if (kv.Lease == 0)
        {
            return lease with { Expiration = null, Revision = kv.ModRevision };
        }

        long ttl = await KeepAliveAsync(kv.Lease, cancellationToken).ConfigureAwait(false);
        if (ttl <= 0)
        {
            // The etcd lease ran out between the read and the keep-alive; its key is gone with it.
            return await RecreateAsync(lease, key, cancellationToken).ConfigureAwait(false);
        }

        long revision = kv.ModRevision;
        byte[] value = LeaseAttrsJson.Encode(lease.Attrs);
        if (!kv.Value.Span.SequenceEqual(value))
        {
            TxnResponse put = await TxnAsync(
                new TxnRequest
                {
                    Compare = { ModRevisionIs(key, kv.ModRevision) },
                    Success = { new RequestOp { RequestPut = new PutRequest { Key = kv.Key, Value = ByteString.CopyFrom(value), Lease = kv.Lease } } },
                },
                cancellationToken).ConfigureAwait(false);
            revision = put.Succeeded ? put.Header.Revision : revision;
        }

        return lease with { Expiration = _time.GetUtcNow().AddSeconds(ttl), Revision = revision };
    }

    private async Task<Lease> RecreateAsync(Lease lease, string key, CancellationToken cancellationToken)
    {
        Lease created = await CreateAsync(lease.Subnet, lease.IPv6Subnet, lease.Attrs, listedAt: null, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"lease {key} expired or was deleted, and another node has taken its subnet since");
        EtcdLog.Recreated(_logger, key);
        return created;
    }

    private async Task RunWatchAsync(ChannelWriter<LeaseWatchBatch> writer, CancellationToken cancellationToken)
    {
        var cursor = new WatchCursor();
        TimeSpan delay = _options.ReconnectBackoffMin;
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                string endpoint = _connection.CurrentEndpoint;
                try
                {
                    if (cursor.NextRevision == 0)
                    {
                        Listing listing = await ListAsync(cancellationToken).ConfigureAwait(false);
                        await writer.WriteAsync(LeaseWatchBatch.FromSnapshot([.. listing.Leases.Select(s => s.Lease)]), cancellationToken).ConfigureAwait(false);
                        cursor.NextRevision = listing.Revision + 1;
                    }

                    await StreamEventsAsync(cursor, writer, () => delay = _options.ReconnectBackoffMin, cancellationToken).ConfigureAwait(false);
                    if (cursor.NextRevision == 0)
                    {
                        continue;
                    }

                    EtcdLog.WatchBroken(_logger, endpoint, "stream ended", cursor.NextRevision, delay);
                }
                catch (Exception ex) when (IsTransient(ex, cancellationToken))
                {
                    EtcdLog.WatchBroken(_logger, endpoint, ex.Message, cursor.NextRevision, delay);
                }

                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                delay = Min(delay * 2, _options.ReconnectBackoffMax);
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
        (CallInvoker invoker, CallOptions options, int index) = await _connection.StreamAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call = new Watch.WatchClient(invoker).Watch(options);
            await call.RequestStream.WriteAsync(new WatchRequest
            {
                CreateRequest = new WatchCreateRequest
                {
                    Key = _keys.SubnetsStart,
                    RangeEnd = _keys.SubnetsEnd,
                    StartRevision = cursor.NextRevision,
                    ProgressNotify = true,
                },
            }, cancellationToken).ConfigureAwait(false);

            while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                WatchResponse response = call.ResponseStream.Current;
                if (response.CompactRevision != 0)
                {
                    EtcdLog.WatchCompacted(_logger, response.CompactRevision, cursor.NextRevision);
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
                DateTimeOffset now = _time.GetUtcNow();
                foreach (Event e in response.Events)
                {
                    if (e.Type == Event.Types.EventType.Put)
                    {
                        if (TryParse(e.Kv, now, out StoredLease? stored))
                        {
                            events.Add(new LeaseEvent(LeaseEventType.Added, stored.Lease));
                        }
                    }
                    else if (TryParseKey(e.Kv.Key.ToStringUtf8(), out Ip4Net? subnet, out Ip6Net? ipv6Subnet))
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
            _connection.ReportUnreachable(index);
            throw;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unauthenticated)
        {
            _connection.ReportUnauthenticated();
            throw;
        }
    }

    /// <summary>Every lease under the lease directory, read page by page at one revision.</summary>
    private async Task<Listing> ListAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var leases = new List<StoredLease>();
            long revision = 0;
            ByteString from = _keys.SubnetsStart;
            try
            {
                while (true)
                {
                    var request = new RangeRequest { Key = from, RangeEnd = _keys.SubnetsEnd, Limit = _options.ListPageSize, Revision = revision };
                    RangeResponse response = await _connection.CallAsync(
                        (invoker, options) => new KV.KVClient(invoker).RangeAsync(request, options).ResponseAsync,
                        cancellationToken).ConfigureAwait(false);
                    revision = revision == 0 ? response.Header.Revision : revision;
                    DateTimeOffset now = _time.GetUtcNow();
                    foreach (KeyValue kv in response.Kvs)
                    {
                        if (TryParse(kv, now, out StoredLease? stored))
                        {
                            leases.Add(stored);
                        }
                    }

                    if (!response.More || response.Kvs.Count == 0)
                    {
                        return new Listing(leases, revision);
                    }

                    // The next page starts just after the last key read.
                    from = ByteString.CopyFrom([.. response.Kvs[^1].Key.Span, 0]);
                }
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.OutOfRange)
            {
                // The revision the pages were pinned to was compacted meanwhile: read again at a newer one.
            }
        }
    }

    private bool TryParse(KeyValue kv, DateTimeOffset now, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out StoredLease? stored)
    {
        stored = null;
        string key = kv.Key.ToStringUtf8();
        if (!TryParseKey(key, out Ip4Net? subnet, out Ip6Net? ipv6Subnet))
        {
            return false;
        }

        LeaseAttrs attrs;
        try
        {
            attrs = LeaseAttrsJson.Decode(kv.Value.Span);
        }
        catch (FormatException ex)
        {
            WarnOnce(key, ex.Message);
            return false;
        }

        // Expiry is estimated from the configured TTL, not looked up per key: that would cost one round trip per
        // lease (10,000 on a large cluster's snapshot). Only acquire and renew report a lease's exact expiry.
        DateTimeOffset? expiration = kv.Lease == 0 ? null : now + _options.SubnetLeaseTtl;
        stored = new StoredLease(new Lease(subnet, ipv6Subnet, attrs, expiration) { Revision = kv.ModRevision }, kv.Lease, kv.Value.Memory);
        Forget(key);
        return true;
    }

    private bool TryParseKey(string key, out Ip4Net? subnet, out Ip6Net? ipv6Subnet)
    {
        subnet = null;
        ipv6Subnet = null;
        string? part = _keys.SubnetPart(key);
        if (part is null)
        {
            WarnOnce(key, $"not a lease key directly under {_keys.Subnets}");
            return false;
        }

        if (!SubnetKey.TryParse(part, out subnet, out ipv6Subnet))
        {
            WarnOnce(key, "the key does not name a subnet (expected <a.b.c.d>-<len> or <a.b.c.d>-<len>&<ipv6>-<len>)");
            return false;
        }

        return true;
    }

    /// <summary>A key someone else wrote badly is reported once, not on every snapshot and event.</summary>
    private void WarnOnce(string key, string reason)
    {
        bool first;
        lock (_warnedKeys)
        {
            first = _warnedKeys.Add(key);
        }

        if (first)
        {
            EtcdLog.SkippedKey(_logger, key, reason);
        }
    }

    private void Forget(string key)
    {
        lock (_warnedKeys)
        {
            if (_warnedKeys.Count > 0)
            {
                _warnedKeys.Remove(key);
            }
        }
    }

    private static bool IsMine(LeaseAttrs stored, LeaseAttrs mine, NetConfig config) =>
        config.EnableIPv4 ? stored.PublicIP.Equals(mine.PublicIP) : mine.PublicIPv6 is not null && mine.PublicIPv6.Equals(stored.PublicIPv6);

    private Task<LeaseGrantResponse> GrantAsync(CancellationToken cancellationToken) =>
        _connection.CallAsync(
            (invoker, options) => new Etcdserverpb.Lease.LeaseClient(invoker)
                .LeaseGrantAsync(new LeaseGrantRequest { TTL = (long)_options.SubnetLeaseTtl.TotalSeconds }, options).ResponseAsync,
            cancellationToken);

    private Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken cancellationToken) =>
        _connection.CallAsync((invoker, options) => new KV.KVClient(invoker).TxnAsync(request, options).ResponseAsync, cancellationToken);

    private Task<long> KeepAliveAsync(long id, CancellationToken cancellationToken) =>
        _connection.CallAsync(
            async (invoker, options) =>
            {
                using AsyncDuplexStreamingCall<LeaseKeepAliveRequest, LeaseKeepAliveResponse> call = new Etcdserverpb.Lease.LeaseClient(invoker).LeaseKeepAlive(options);
                await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = id }, cancellationToken).ConfigureAwait(false);
                await call.RequestStream.CompleteAsync().ConfigureAwait(false);
                return await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false)
                    ? call.ResponseStream.Current.TTL
                    : throw new RpcException(new Status(StatusCode.Unavailable, "etcd closed the keep-alive stream without an answer"));
            },
            cancellationToken);

    private async Task RevokeQuietlyAsync(long id, CancellationToken cancellationToken)
    {
        try
        {
            await _connection.CallAsync(
                (invoker, options) => new Etcdserverpb.Lease.LeaseClient(invoker).LeaseRevokeAsync(new LeaseRevokeRequest { ID = id }, options).ResponseAsync,
                cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException)
        {
            // An unrevoked lease holds no key and expires by itself.
        }
    }

    private async Task<T> RetryWhileUnreachableAsync<T>(Func<Task<T>> operation, CancellationToken cancellationToken)
    {
        DateTimeOffset giveUp = _time.GetUtcNow() + _options.RetryTimeout;
        TimeSpan delay = _options.ReconnectBackoffMin;
        while (true)
        {
            string endpoint = _connection.CurrentEndpoint;
            try
            {
                return await operation().ConfigureAwait(false);
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken) && _time.GetUtcNow() + delay < giveUp)
            {
                EtcdLog.Retrying(_logger, endpoint, ex.Message, delay);
            }

            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            delay = Min(delay * 2, _options.ReconnectBackoffMax);
        }
    }

    private static bool IsTransient(Exception ex, CancellationToken cancellationToken) => ex switch
    {
        RpcException rpc => rpc.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Unknown or StatusCode.Internal or StatusCode.Unauthenticated
            || (rpc.StatusCode == StatusCode.Cancelled && !cancellationToken.IsCancellationRequested),
        IOException or HttpRequestException => true,
        _ => false,
    };

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static Compare ModRevisionIs(string key, long revision) => new()
    {
        Key = ByteString.CopyFromUtf8(key),
        Target = Compare.Types.CompareTarget.Mod,
        Result = Compare.Types.CompareResult.Equal,
        ModRevision = revision,
    };

    private static Compare VersionIsZero(ByteString key, ByteString? rangeEnd)
    {
        var compare = new Compare
        {
            Key = key,
            Target = Compare.Types.CompareTarget.Version,
            Result = Compare.Types.CompareResult.Equal,
            Version = 0,
        };
        if (rangeEnd is not null)
        {
            compare.RangeEnd = rangeEnd;
        }

        return compare;
    }

    /// <summary>A lease as read from etcd: with the etcd lease holding it (0 for a reservation) and the raw value.</summary>
    private sealed record StoredLease(Lease Lease, long EtcdLeaseId, ReadOnlyMemory<byte> Value);

    private sealed record Listing(List<StoredLease> Leases, long Revision);

    /// <summary>The revision the watch resumes from; 0 when a new snapshot is due.</summary>
    private sealed class WatchCursor
    {
        public long NextRevision { get; set; }
    }
}
