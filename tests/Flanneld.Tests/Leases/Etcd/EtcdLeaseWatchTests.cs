using System.Globalization;
using Etcdserverpb;
using Flannel.Core.Leases;
using Flannel.Core.Net;
using Flanneld.Leases.Etcd;
using Flanneld.Tests.Fixtures;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using static Flanneld.Tests.Leases.Etcd.EtcdTestKit;
using Lease = Flannel.Core.Leases.Lease;

namespace Flanneld.Tests.Leases.Etcd;

public sealed class EtcdLeaseWatchTests(EtcdFixture etcd) : IClassFixture<EtcdFixture>
{
    private readonly string _prefix = EtcdFixture.NewPrefix();

    private string Key(string subnetKey) => $"{_prefix}/subnets/{subnetKey}";

    [Fact]
    public async Task WatchLeasesAsync_AddsAndDeletes_SnapshotThenEventsInOrder()
    {
        await etcd.PutAsync(Key("198.18.1.0-24"), LeaseAttrsJson.EncodeToString(Node(1)));
        using EtcdLeaseStore store = Store(etcd, _prefix);
        await using var watch = new WatchReader(store);

        LeaseWatchBatch snapshot = await watch.NextAsync();
        Assert.True(snapshot.IsSnapshot);
        Lease only = Assert.Single(snapshot.Snapshot!);
        Assert.Equal(Ip4Net.Parse("198.18.1.0/24"), only.Subnet);
        Assert.Equal("192.0.2.1", only.Attrs.PublicIP.ToString());
        Assert.True(only.IsReservation);

        await etcd.PutAsync(Key("198.18.2.0-24"), LeaseAttrsJson.EncodeToString(Node(2)));
        await etcd.PutAsync(Key("198.18.3.0-24"), LeaseAttrsJson.EncodeToString(Node(3)));
        await etcd.DeleteAsync(Key("198.18.1.0-24"));
        await etcd.PutAsync(Key("198.18.2.0-24"), LeaseAttrsJson.EncodeToString(Node(2, "aa:bb:cc:00:00:22")));
        await etcd.DeleteAsync(Key("198.18.2.0-24"));

        List<LeaseEvent> events = await watch.EventsAsync(5);
        Assert.Equal(
            ["Added 198.18.2.0/24", "Added 198.18.3.0/24", "Removed 198.18.1.0/24", "Added 198.18.2.0/24", "Removed 198.18.2.0/24"],
            events.Select(e => $"{e.Type} {e.Lease.Subnet}"));
        Assert.Contains("aa:bb:cc:00:00:22", events[3].Lease.Attrs.BackendData, StringComparison.Ordinal);
        Assert.True(events.Zip(events.Skip(1)).All(p => p.First.Lease.Revision < p.Second.Lease.Revision));
    }

    [Fact]
    public async Task WatchLeasesAsync_AfterAcquire_StartsFromTheAcquisitionListingAndDeliversWhatChangedSince()
    {
        await etcd.PutAsync(Key("198.18.1.0-24"), LeaseAttrsJson.EncodeToString(Node(1)));
        await etcd.PutAsync(Key("198.18.2.0-24"), LeaseAttrsJson.EncodeToString(Node(2)));
        using EtcdLeaseStore store = Store(etcd, _prefix);
        Lease own = await store.AcquireLeaseAsync(new LeaseRequest(Config("198.18.0.0/16", 24), Node(9)), CancellationToken.None);

        // Written after the acquisition listed the leases and before the watch starts.
        await etcd.PutAsync(Key("198.18.3.0-24"), LeaseAttrsJson.EncodeToString(Node(3)));
        await etcd.DeleteAsync(Key("198.18.1.0-24"));
        await using var watch = new WatchReader(store);

        LeaseWatchBatch snapshot = await watch.NextAsync();
        Assert.True(snapshot.IsSnapshot);
        Assert.Equal(new[] { "198.18.1.0-24", "198.18.2.0-24", own.Key }.Order(StringComparer.Ordinal), snapshot.Snapshot!.Select(l => l.Key).Order(StringComparer.Ordinal));
        Assert.Equal(own.Attrs, snapshot.Snapshot!.Single(l => l.Key == own.Key).Attrs);

        // Nothing written since the listing is missed: this node's own creation, then the later writes, in order.
        List<LeaseEvent> events = await watch.EventsAsync(3);
        Assert.Equal([$"Added {own.Subnet}", "Added 198.18.3.0/24", "Removed 198.18.1.0/24"], events.Select(e => $"{e.Type} {e.Lease.Subnet}"));
    }

    [Fact]
    public async Task WatchLeasesAsync_SecondWatch_ListsAgainInsteadOfReusingTheAcquisitionListing()
    {
        using EtcdLeaseStore store = Store(etcd, _prefix);
        await using (var first = new WatchReader(store))
        {
            Assert.Empty((await first.NextAsync()).Snapshot!);
        }

        // A lease acquired while (or after) a watch ran: its listing must not become a later watch's snapshot.
        Lease own = await store.AcquireLeaseAsync(new LeaseRequest(Config("198.18.0.0/16", 24), Node(9)), CancellationToken.None);
        await etcd.PutAsync(Key("198.18.3.0-24"), LeaseAttrsJson.EncodeToString(Node(3)));
        await using var second = new WatchReader(store);

        LeaseWatchBatch snapshot = await second.NextAsync();
        Assert.Equal(new[] { "198.18.3.0-24", own.Key }.Order(StringComparer.Ordinal), snapshot.Snapshot!.Select(l => l.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task WatchLeasesAsync_LeasesWrittenByUpstreamFlannel_ParsedAsWritten()
    {
        // Verbatim from /work/shared/upstream-captures (vxlan.txt, udp.txt, host-gw.txt).
        await etcd.PutAsync(Key("198.18.13.0-24"), "{\"PublicIP\":\"192.0.2.2\",\"PublicIPv6\":null,\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"f6:19:38:8e:a6:1f\"}}");
        await etcd.PutAsync(Key("198.18.17.0-24"), "{\"PublicIP\":\"192.0.2.1\",\"PublicIPv6\":null}");
        await etcd.PutAsync(Key("198.18.12.0-24"), "{\"PublicIP\":\"192.0.2.1\",\"PublicIPv6\":null,\"BackendType\":\"host-gw\"}");
        using EtcdLeaseStore store = Store(etcd, _prefix);
        await using var watch = new WatchReader(store);

        var leases = (await watch.NextAsync()).Snapshot!.ToDictionary(l => l.Key);

        Assert.Equal(3, leases.Count);
        Assert.Equal(new LeaseAttrs(System.Net.IPAddress.Parse("192.0.2.2"), null, "vxlan", "{\"VNI\":1,\"VtepMAC\":\"f6:19:38:8e:a6:1f\"}"), leases["198.18.13.0-24"].Attrs);
        Assert.Equal(new LeaseAttrs(System.Net.IPAddress.Parse("192.0.2.1")), leases["198.18.17.0-24"].Attrs);
        Assert.Equal("host-gw", leases["198.18.12.0-24"].Attrs.BackendType);
    }

    [Fact]
    public async Task WatchLeasesAsync_ThousandLeasesInOneTransaction_AllArrive()
    {
        using EtcdLeaseStore store = Store(etcd, _prefix);
        await using var watch = new WatchReader(store);
        Assert.True((await watch.NextAsync()).IsSnapshot);

        var txn = new TxnRequest();
        for (int i = 0; i < 1000; i++)
        {
            var subnet = new Ip4Net(Ip4.Parse("198.18.0.0") + ((uint)(i + 1) << 8), 24);
            txn.Success.Add(new RequestOp
            {
                RequestPut = new PutRequest
                {
                    Key = ByteString.CopyFromUtf8(Key(SubnetKey.Format(subnet, null))),
                    Value = ByteString.CopyFromUtf8(LeaseAttrsJson.EncodeToString(Node(1 + (i % 250)))),
                },
            });
        }

        TxnResponse response = await etcd.Kv.TxnAsync(txn);
        Assert.True(response.Succeeded);

        List<LeaseEvent> events = await watch.EventsAsync(1000);
        Assert.Equal(1000, events.Count);
        Assert.All(events, e => Assert.Equal(LeaseEventType.Added, e.Type));
        Assert.Equal(1000, events.Select(e => e.Lease.Subnet).Distinct().Count());
        Assert.All(events, e => Assert.Equal(response.Header.Revision, e.Lease.Revision));
    }

    [Fact]
    public async Task WatchLeasesAsync_MalformedKeysAndValues_SkippedWithOneWarningEach()
    {
        var logger = new RecordingLogger<EtcdLeaseStore>();
        using EtcdLeaseStore store = Store(etcd, _prefix, logger: logger);
        await etcd.PutAsync(Key("garbage"), LeaseAttrsJson.EncodeToString(Node(1)));
        await using var watch = new WatchReader(store);
        Assert.Empty((await watch.NextAsync()).Snapshot!);

        string[] bad =
        [
            Key("garbage"),
            Key("198.18.9.0-24"),
            Key("198.18.10.0-24"),
            Key("198.18.11.7-24"),
            Key("nested/198.18.12.0-24"),
        ];
        await etcd.PutAsync(bad[0], LeaseAttrsJson.EncodeToString(Node(1)));
        await etcd.PutAsync(bad[1], "{\"PublicIP\":");
        await etcd.PutAsync(bad[2], "{\"PublicIP\":\"192.0.2.300\"}");
        await etcd.PutAsync(bad[3], LeaseAttrsJson.EncodeToString(Node(3)));
        await etcd.PutAsync(bad[4], LeaseAttrsJson.EncodeToString(Node(4)));
        await etcd.PutAsync(bad[1], "still not json");
        await etcd.DeleteAsync(bad[3]);
        await etcd.PutAsync(Key("198.18.13.0-24"), LeaseAttrsJson.EncodeToString(Node(5)));

        // Only the good lease comes through; the watch goes on.
        LeaseEvent good = Assert.Single(await watch.EventsAsync(1));
        Assert.Equal(Ip4Net.Parse("198.18.13.0/24"), good.Lease.Subnet);

        var warnings = logger.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message).ToList();
        foreach (string key in bad)
        {
            Assert.Single(warnings, w => w.Contains(key + ":", StringComparison.Ordinal));
        }

        Assert.Equal(bad.Length, warnings.Count);
    }

    [Fact]
    public async Task WatchLeasesAsync_OwnLeaseDeletedOrExpired_DeliversRemoved()
    {
        using EtcdLeaseStore store = Store(etcd, _prefix, TimeSpan.FromSeconds(2));
        var config = Config("198.18.0.0/16", 24);
        Lease own = await store.AcquireLeaseAsync(new LeaseRequest(config, Node(1)), CancellationToken.None);
        Lease other = await store.AcquireLeaseAsync(new LeaseRequest(config, Node(2)), CancellationToken.None);
        await using var watch = new WatchReader(store);
        LeaseWatchBatch snapshot = await watch.NextAsync();
        Assert.Equal(new[] { own.Key, other.Key }.Order(), snapshot.Snapshot!.Select(l => l.Key).Order());

        // An operator deletes this node's lease: the daemon must hear of it. (The watch started from the second
        // acquisition's listing, so that acquisition's own write comes first, as an event.)
        await etcd.DeleteAsync(Key(own.Key));
        List<LeaseEvent> events = await watch.EventsAsync(2);
        Assert.Equal([$"Added {other.Key}", $"Removed {own.Key}"], events.Select(e => $"{e.Type} {e.Lease.Key}"));

        // The other lease is not renewed: etcd expires it, and that is a Removed event too.
        LeaseEvent expired = Assert.Single(await watch.EventsAsync(1, TimeSpan.FromSeconds(10)));
        Assert.Equal(LeaseEventType.Removed, expired.Type);
        Assert.Equal(other.Key, expired.Lease.Key);
    }

    [Fact]
    public async Task WatchLeasesAsync_ManyLeases_SnapshotSpansPagesAtOneRevision()
    {
        var txn = new TxnRequest();
        for (int i = 0; i < 2500; i++)
        {
            txn.Success.Add(new RequestOp
            {
                RequestPut = new PutRequest
                {
                    Key = ByteString.CopyFromUtf8(Key(string.Create(CultureInfo.InvariantCulture, $"198.{18 + (i / 256)}.{i % 256}.0-24"))),
                    Value = ByteString.CopyFromUtf8(LeaseAttrsJson.EncodeToString(Node(1 + (i % 250)))),
                },
            });
        }

        await etcd.Kv.TxnAsync(txn);
        using var store = new EtcdLeaseStore(
            new EtcdStoreOptions { Endpoints = [etcd.Endpoint], Prefix = _prefix, ListPageSize = 1000 },
            new RecordingLogger<EtcdLeaseStore>());
        await using var watch = new WatchReader(store);

        LeaseWatchBatch snapshot = await watch.NextAsync();

        Assert.Equal(2500, snapshot.Snapshot!.Count);
        Assert.Equal(2500, snapshot.Snapshot.Select(l => l.Key).Distinct().Count());
    }
}
