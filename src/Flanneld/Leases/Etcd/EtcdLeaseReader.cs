using System.Diagnostics.CodeAnalysis;
using Etcdserverpb;
using Flannel.Core.Leases;
using Flannel.Core.Net;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Mvccpb;
using Lease = Flannel.Core.Leases.Lease;

namespace Flanneld.Leases.Etcd;

/// <summary>
/// Reads leases out of etcd: lists the lease directory, and turns keys and values into <see cref="Lease"/>s.
/// What someone else wrote badly (a key that names no subnet, a value that is no lease) is skipped with one
/// warning per key, never an error: one bad key must not stop a node.
/// </summary>
internal sealed class EtcdLeaseReader(EtcdConnection connection, EtcdKeys keys, EtcdStoreOptions options, ILogger logger, TimeProvider time)
{
    private readonly HashSet<string> _warnedKeys = new(StringComparer.Ordinal);

    /// <summary>Every lease under the lease directory, read page by page at one revision.</summary>
    public async Task<LeaseListing> ListAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var leases = new List<StoredLease>();
            long revision = 0;
            ByteString from = keys.SubnetsStart;
            try
            {
                while (true)
                {
                    var request = new RangeRequest { Key = from, RangeEnd = keys.SubnetsEnd, Limit = options.ListPageSize, Revision = revision };
                    RangeResponse response = await connection.CallAsync(
                        (invoker, options) => new KV.KVClient(invoker).RangeAsync(request, options).ResponseAsync,
                        cancellationToken).ConfigureAwait(false);
                    if (revision == 0)
                    {
                        // The first page counts every key in the range: the list is sized once, not grown page by page.
                        revision = response.Header.Revision;
                        leases.EnsureCapacity((int)Math.Min(response.Count, 1 << 20));
                    }

                    DateTimeOffset now = time.GetUtcNow();
                    foreach (KeyValue kv in response.Kvs)
                    {
                        if (TryParse(kv, now, out StoredLease? stored))
                        {
                            leases.Add(stored);
                        }
                    }

                    if (!response.More || response.Kvs.Count == 0)
                    {
                        return new LeaseListing(leases, revision);
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

    /// <summary>A lease from a key and value; false (after one warning per key) when either does not parse.</summary>
    public bool TryParse(KeyValue kv, DateTimeOffset now, [NotNullWhen(true)] out StoredLease? stored)
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
        DateTimeOffset? expiration = kv.Lease == 0 ? null : now + options.SubnetLeaseTtl;
        stored = new StoredLease(new Lease(subnet, ipv6Subnet, attrs, expiration) { Revision = kv.ModRevision }, kv.Lease, kv.Value.Memory);
        Forget(key);
        return true;
    }

    /// <summary>The subnets a lease key names; false (after one warning per key) when it names none.</summary>
    public bool TryParseKey(string key, out Ip4Net? subnet, out Ip6Net? ipv6Subnet)
    {
        subnet = null;
        ipv6Subnet = null;
        string? part = keys.SubnetPart(key);
        if (part is null)
        {
            WarnOnce(key, $"not a lease key directly under {keys.Subnets}");
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
            EtcdLog.SkippedKey(logger, key, reason);
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
}
