using Etcdserverpb;
using Flannel.Core.Config;
using Flannel.Core.Leases;
using Flannel.Core.Net;
using Flanneld.Health;
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
    private readonly EtcdStoreOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly EtcdConnection _connection;
    private readonly EtcdKeys _keys;
    private readonly EtcdLeaseReader _reader;
    private readonly EtcdLeaseWatch _watch;

    /// <summary>
    /// The listing the vxlan backend's stored-MAC lookup just read, for the acquisition that follows it: each listing
    /// of a large cluster costs tens of milliseconds and megabytes. Its age does not matter for correctness (the
    /// acquiring transaction compares revisions; a stale choice only loses a race and lists again), but an old one
    /// would lose races needlessly.
    /// </summary>
    private (LeaseListing Listing, long At)? _recentListing;

    private static readonly TimeSpan RecentListingMaxAge = TimeSpan.FromSeconds(5);

    /// <param name="options">How to reach etcd and how leases behave.</param>
    /// <param name="logger">Where the store logs.</param>
    /// <param name="timeProvider">The clock (tests); the system clock when null.</param>
    /// <param name="metrics">Where every request sent to etcd is counted by operation; null: not counted.</param>
    public EtcdLeaseStore(EtcdStoreOptions options, ILogger<EtcdLeaseStore> logger, TimeProvider? timeProvider = null, FlannelMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        options.Validate();
        _options = options;
        _logger = logger;
        _time = timeProvider ?? TimeProvider.System;
        _keys = new EtcdKeys(options.Prefix);
        _connection = new EtcdConnection(options, metrics is null ? null : metrics.StoreRequest);
        _reader = new EtcdLeaseReader(_connection, _keys, options, logger, _time);
        _watch = new EtcdLeaseWatch(_connection, _keys, _reader, options, logger, _time);
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

    public Task<LeaseAttrs?> GetStoredAttrsAsync(System.Net.IPAddress publicIP, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(publicIP);

        // Every IPv6-only node leases with PublicIP 0.0.0.0, so such a node is known by its PublicIPv6 instead.
        bool byIPv6 = publicIP.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        return RetryWhileUnreachableAsync(async () =>
        {
            LeaseListing listing = await _reader.ListAsync(cancellationToken).ConfigureAwait(false);
            _recentListing = (listing, _time.GetTimestamp());
            return listing.Leases.Select(l => l.Lease.Attrs).FirstOrDefault(a => byIPv6 ? publicIP.Equals(a.PublicIPv6) : a.PublicIP.Equals(publicIP));
        }, cancellationToken);
    }

    public Task<Lease> AcquireLeaseAsync(LeaseRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RetryWhileUnreachableAsync(async () =>
        {
            for (int attempt = 1; attempt <= _options.RaceRetries; attempt++)
            {
                LeaseListing listing = (attempt == 1 ? TakeRecentListing() : null)
                    ?? await _reader.ListAsync(cancellationToken).ConfigureAwait(false);
                (Lease? lease, string key) = await TryAcquireAsync(request, listing, cancellationToken).ConfigureAwait(false);
                if (lease is not null)
                {
                    // The watch starts from this listing instead of reading all leases a third time; the acquisition's
                    // own writes come after its revision, so the watch delivers them as events.
                    var seed = new List<Lease>(listing.Leases.Count + 1);
                    seed.AddRange(listing.Leases.Select(s => s.Lease).Where(l => !IsMine(l.Attrs, request.Attrs, request.Config)));
                    seed.Add(lease);
                    _watch.SeedSnapshot(seed, listing.Revision);
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
        return RetryWhileUnreachableAsync(() => RenewOnceAsync(lease, cancellationToken), cancellationToken, _options.RenewBackoffMax);
    }

    public IAsyncEnumerable<LeaseWatchBatch> WatchLeasesAsync(CancellationToken cancellationToken) => _watch.RunAsync(cancellationToken);

    public void Dispose() => _connection.Dispose();

    private async Task<(Lease? Lease, string Key)> TryAcquireAsync(LeaseRequest request, LeaseListing listing, CancellationToken cancellationToken)
    {
        NetConfig config = request.Config;
        var deleted = new HashSet<string>(StringComparer.Ordinal);
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
            TxnResponse delete = await TxnAsync(
                new TxnRequest
                {
                    Compare = { ModRevisionIs(key, stored.Lease.Revision) },
                    Success = { new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(key) } } },
                },
                cancellationToken).ConfigureAwait(false);
            if (!delete.Succeeded)
            {
                return (null, key);
            }

            deleted.Add(key);
        }

        var others = new List<Lease>(listing.Leases.Count);
        others.AddRange(listing.Leases.Select(s => s.Lease).Where(l => deleted.Count == 0 || !deleted.Contains(KeyOf(l))));

        Ip4Net? subnet = null;
        Ip6Net? ipv6Subnet = null;
        string how = "previous subnet from subnet.env";
        if (config.EnableIPv4)
        {
            var taken = new List<Ip4Net>(others.Count);
            taken.AddRange(others.Where(l => l.Subnet is not null).Select(l => l.Subnet!.Value));
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
            var taken = new List<Ip6Net>(others.Count);
            taken.AddRange(others.Where(l => l.IPv6Subnet is not null).Select(l => l.IPv6Subnet!.Value));
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

    private LeaseListing? TakeRecentListing()
    {
        (LeaseListing Listing, long At)? recent = _recentListing;
        _recentListing = null;
        return recent is { } r && _time.GetElapsedTime(r.At) <= RecentListingMaxAge ? r.Listing : null;
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

    private async Task<T> RetryWhileUnreachableAsync<T>(Func<Task<T>> operation, CancellationToken cancellationToken, TimeSpan? maxDelay = null)
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
            catch (Exception ex) when (EtcdConnection.IsTransient(ex, cancellationToken) && _time.GetUtcNow() + delay < giveUp)
            {
                EtcdLog.Retrying(_logger, endpoint, ex.Message, delay);
            }

            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            delay = _options.NextBackoff(delay, maxDelay);
        }
    }

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
}
