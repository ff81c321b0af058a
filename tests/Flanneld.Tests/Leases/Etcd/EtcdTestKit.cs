using System.Net;
using Flannel.Core.Config;
using Flannel.Core.Leases;
using Flannel.Core.Net;
using Flanneld.Leases.Etcd;
using Flanneld.Tests.Fixtures;

namespace Flanneld.Tests.Leases.Etcd;

/// <summary>Net configs, node attributes and stores for the etcd tests.</summary>
internal static class EtcdTestKit
{
    /// <summary>A config as the parser would produce it: SubnetMin is the second subnet, SubnetMax the last.</summary>
    public static NetConfig Config(string network, int subnetLen)
    {
        Ip4Net net = Ip4Net.Parse(network);
        uint step = 1u << (32 - subnetLen);
        return new NetConfig { Network = net, SubnetLen = subnetLen, SubnetMin = net.Address + step, SubnetMax = net.Last - step + 1 };
    }

    public static NetConfig DualStack(string network, int subnetLen, string ipv6Network, int ipv6SubnetLen)
    {
        Ip6Net net6 = Ip6Net.Parse(ipv6Network);
        UInt128 step6 = UInt128.One << (128 - ipv6SubnetLen);
        return Config(network, subnetLen) with
        {
            EnableIPv6 = true,
            IPv6Network = net6,
            IPv6SubnetLen = ipv6SubnetLen,
            IPv6SubnetMin = net6.Address + step6,
            IPv6SubnetMax = net6.Last - step6 + UInt128.One,
        };
    }

    /// <summary>A node on the test underlay 192.0.2.0/24 with vxlan backend data.</summary>
    public static LeaseAttrs Node(int host, string mac = "aa:bb:cc:00:00:01") =>
        new(IPAddress.Parse($"192.0.2.{host}"), null, "vxlan", $"{{\"VNI\":1,\"VtepMAC\":\"{mac}\"}}");

    public static EtcdLeaseStore Store(
        EtcdFixture etcd,
        string prefix,
        TimeSpan? ttl = null,
        RecordingLogger<EtcdLeaseStore>? logger = null,
        TimeSpan? backoff = null) =>
        new(
            new EtcdStoreOptions
            {
                Endpoints = [etcd.Endpoint],
                Prefix = prefix,
                SubnetLeaseTtl = ttl ?? TimeSpan.FromHours(24),
                ReconnectBackoffMin = backoff ?? TimeSpan.FromMilliseconds(100),
                ReconnectBackoffMax = backoff ?? TimeSpan.FromSeconds(5),
                RetryTimeout = TimeSpan.FromSeconds(20),
            },
            logger ?? new RecordingLogger<EtcdLeaseStore>());

    /// <summary>Reads a lease watch batch by batch, each within a timeout.</summary>
    public sealed class WatchReader : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly IAsyncEnumerator<LeaseWatchBatch> _batches;
        private Task<bool>? _pending;

        public WatchReader(ILeaseStore store)
        {
            _batches = store.WatchLeasesAsync(_stop.Token).GetAsyncEnumerator(_stop.Token);
        }

        public async Task<LeaseWatchBatch> NextAsync(TimeSpan? timeout = null)
        {
            Task<bool> next = _pending ??= _batches.MoveNextAsync().AsTask();
            if (await Task.WhenAny(next, Task.Delay(timeout ?? TimeSpan.FromSeconds(15))) != next)
            {
                throw new TimeoutException("no lease watch batch arrived in time");
            }

            _pending = null;
            Assert.True(await next, "the lease watch ended");
            return _batches.Current;
        }

        /// <summary>Collects event batches until <paramref name="count"/> events have arrived.</summary>
        public async Task<List<LeaseEvent>> EventsAsync(int count, TimeSpan? timeout = null)
        {
            var events = new List<LeaseEvent>();
            while (events.Count < count)
            {
                LeaseWatchBatch batch = await NextAsync(timeout);
                Assert.False(batch.IsSnapshot, "expected events, got a snapshot");
                events.AddRange(batch.Events);
            }

            return events;
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            try
            {
                if (_pending is not null)
                {
                    await _pending;
                }
            }
            catch (OperationCanceledException)
            {
                // The pending read ends with the cancellation we asked for.
            }

            try
            {
                await _batches.DisposeAsync();
            }
            catch (OperationCanceledException)
            {
                // Disposing a cancelled enumerator may report the cancellation; it is what we asked for.
            }

            _stop.Dispose();
        }
    }
}
