using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Flannel.Core.Leases;
using Flanneld.Health;
using Flanneld.Leases.Etcd;
using Flanneld.Tests.Fixtures;
using Microsoft.Extensions.Logging.Abstractions;
using static Flanneld.Tests.Leases.Etcd.EtcdTestKit;

namespace Flanneld.Tests.Leases.Etcd;

/// <summary>
/// Every request the store sends to etcd is counted by operation and served on /metrics as
/// <c>flannel_store_requests_total{operation=...}</c>: a real etcd, a real health server, the counts read from its text.
/// Run alone: every FlannelMetrics shares the Meter name, so another test's exporter would read this one's instruments.
/// </summary>
[Collection(nameof(MeterAlone))]
public sealed partial class EtcdRequestCountTests(EtcdFixture etcd) : IClassFixture<EtcdFixture>, IDisposable
{
    private static readonly string[] Operations = ["range", "txn", "put", "delete", "lease_grant", "lease_keepalive", "lease_revoke", "watch_create", "authenticate"];

    private readonly string _prefix = EtcdFixture.NewPrefix();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task StoreRequests_AcquireRenewWatch_EachRpcCountedByOperationOnMetrics()
    {
        using var metrics = new FlannelMetrics();
        await using HealthServer server = Flanneld.Tests.Health.HealthServerTests.StartOnFreePort(IPAddress.Loopback, () => true, metrics, out int port);
        using EtcdLeaseStore store = CountedStore(metrics);

        Lease lease = await store.AcquireLeaseAsync(new LeaseRequest(Config("198.18.0.0/16", 24), Node(70)), CancellationToken.None);
        Dictionary<string, long> afterAcquire = await ScrapeAsync(port);

        Lease renewed = await store.RenewLeaseAsync(lease, CancellationToken.None);
        Dictionary<string, long> afterRenew = await ScrapeAsync(port);

        Dictionary<string, long> afterWatch;
        await using (var watch = new WatchReader(store))
        {
            Assert.True((await watch.NextAsync()).IsSnapshot);
            await etcd.PutAsync($"{_prefix}/subnets/198.18.250.0-24", "{\"PublicIP\":\"192.0.2.71\",\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:00:00:71\"}}");
            // This node's own creation (after the listing the watch started from), then the new lease.
            Assert.Equal([lease.Key, "198.18.250.0-24"], (await watch.EventsAsync(2)).Select(e => e.Lease.Key));
            afterWatch = await ScrapeAsync(port);
        }

        // Acquire on an empty network: one list, one etcd lease, one compare-and-create.
        Assert.Equal(Counts(range: 1, txn: 1, grant: 1), afterAcquire);

        // A renewal reads its key and keeps its etcd lease alive: one range, one keep-alive, no write.
        Assert.Equal(Counts(range: 1, keepalive: 1), Delta(afterAcquire, afterRenew));
        Assert.Equal(lease.Subnet, renewed.Subnet);

        // The first watch starts from the acquisition's listing (no list of its own) and opens one watch stream; the
        // events arrive on it at no further request.
        Assert.Equal(Counts(watchCreate: 1), Delta(afterRenew, afterWatch));
    }

    [Fact]
    public async Task StoreRequests_StoredAttrsThenAcquireThenWatch_LeasesListedOnce()
    {
        using var metrics = new FlannelMetrics();
        await using HealthServer server = Flanneld.Tests.Health.HealthServerTests.StartOnFreePort(IPAddress.Loopback, () => true, metrics, out int port);
        using EtcdLeaseStore store = CountedStore(metrics);
        await etcd.PutAsync($"{_prefix}/subnets/198.18.7.0-24", "{\"PublicIP\":\"192.0.2.77\",\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:00:00:77\"}}");

        // The vxlan backend's start: the MAC stored for this node, then the lease, then the watch.
        Assert.Null(await store.GetStoredAttrsAsync(IPAddress.Parse("192.0.2.72"), CancellationToken.None));
        Lease lease = await store.AcquireLeaseAsync(new LeaseRequest(Config("198.18.0.0/16", 24), Node(72)), CancellationToken.None);
        await using (var watch = new WatchReader(store))
        {
            LeaseWatchBatch snapshot = await watch.NextAsync();
            Assert.True(snapshot.IsSnapshot);
            Assert.Equal(new[] { "198.18.7.0-24", lease.Key }.Order(StringComparer.Ordinal), snapshot.Snapshot!.Select(l => l.Key).Order(StringComparer.Ordinal));
        }

        Assert.Equal(Counts(range: 1, txn: 1, grant: 1, watchCreate: 1), await ScrapeAsync(port));
    }

    [Fact]
    public async Task StoreRequests_FirstEndpointUnreachable_FailedAttemptCountedToo()
    {
        using var metrics = new FlannelMetrics();
        await using HealthServer server = Flanneld.Tests.Health.HealthServerTests.StartOnFreePort(IPAddress.Loopback, () => true, metrics, out int port);
        string closed = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{FreePort()}");
        using EtcdLeaseStore store = new(
            new EtcdStoreOptions { Endpoints = [closed, etcd.Endpoint], Prefix = _prefix },
            new RecordingLogger<EtcdLeaseStore>(),
            metrics: metrics);

        await Assert.ThrowsAsync<NetworkConfigNotFoundException>(() => store.GetNetworkConfigAsync(CancellationToken.None));

        // The config read went to the closed port first, then to etcd: two range requests sent.
        Assert.Equal(Counts(range: 2), await ScrapeAsync(port));
    }

    private EtcdLeaseStore CountedStore(FlannelMetrics metrics) => new(
        new EtcdStoreOptions { Endpoints = [etcd.Endpoint], Prefix = _prefix, SubnetLeaseTtl = TimeSpan.FromMinutes(5) },
        new RecordingLogger<EtcdLeaseStore>(),
        metrics: metrics);

    private static Dictionary<string, long> Counts(long range = 0, long txn = 0, long grant = 0, long keepalive = 0, long watchCreate = 0) =>
        new Dictionary<string, long>
        {
            ["range"] = range,
            ["txn"] = txn,
            ["lease_grant"] = grant,
            ["lease_keepalive"] = keepalive,
            ["watch_create"] = watchCreate,
        }.Where(kv => kv.Value != 0).ToDictionary(StringComparer.Ordinal);

    private static Dictionary<string, long> Delta(Dictionary<string, long> before, Dictionary<string, long> after) =>
        Operations.Select(op => (op, n: after.GetValueOrDefault(op) - before.GetValueOrDefault(op)))
            .Where(d => d.n != 0)
            .ToDictionary(d => d.op, d => d.n, StringComparer.Ordinal);

    /// <summary>flannel_store_requests_total by operation, as /metrics serves it.</summary>
    private async Task<Dictionary<string, long>> ScrapeAsync(int port)
    {
        // The exporter serves a scrape from its cache for 300 ms; wait that out so the text is current.
        await Task.Delay(TimeSpan.FromMilliseconds(400));
        string text = await _http.GetStringAsync(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/metrics"));
        return RequestLine().Matches(text).ToDictionary(m => m.Groups[1].Value, m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), StringComparer.Ordinal);
    }

    [GeneratedRegex("""^flannel_store_requests_total\{operation="([a-z_]+)"\} (\d+)""", RegexOptions.Multiline)]
    private static partial Regex RequestLine();

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}

/// <summary>Tests that must not share the process's <c>Flannel.NET</c> meters with tests running at the same time.</summary>
[CollectionDefinition(nameof(MeterAlone), DisableParallelization = true)]
public sealed class MeterAlone;
