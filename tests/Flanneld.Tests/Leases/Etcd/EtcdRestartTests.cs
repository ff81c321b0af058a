using Flannel.Core.Leases;
using Flannel.Core.Net;
using Flanneld.Leases.Etcd;
using Flanneld.Tests.Fixtures;
using Microsoft.Extensions.Logging;
using static Flanneld.Tests.Leases.Etcd.EtcdTestKit;

namespace Flanneld.Tests.Leases.Etcd;

/// <summary>
/// Tests that kill and restart etcd: their own fixture (and so their own etcd), and one at a time, since each
/// restart cuts off everything connected to it.
/// </summary>
public sealed class EtcdRestartTests(EtcdFixture etcd) : IClassFixture<EtcdFixture>
{
    private readonly string _prefix = EtcdFixture.NewPrefix();

    private string Key(string subnetKey) => $"{_prefix}/subnets/{subnetKey}";

    [Fact]
    public async Task WatchLeasesAsync_EtcdRestarted_ResumesFromLastRevisionWithoutSnapshot()
    {
        await etcd.PutAsync(Key("198.18.1.0-24"), LeaseAttrsJson.EncodeToString(Node(1)));
        var logger = new RecordingLogger<EtcdLeaseStore>();
        using EtcdLeaseStore store = Store(etcd, _prefix, logger: logger);
        await using var watch = new WatchReader(store);
        Assert.Single((await watch.NextAsync()).Snapshot!);
        await etcd.PutAsync(Key("198.18.2.0-24"), LeaseAttrsJson.EncodeToString(Node(2)));
        Assert.Single(await watch.EventsAsync(1));

        etcd.Kill();
        await Task.Delay(500);
        await etcd.StartAsync();
        await etcd.DeleteAsync(Key("198.18.1.0-24"));
        await etcd.PutAsync(Key("198.18.3.0-24"), LeaseAttrsJson.EncodeToString(Node(3)));

        // EventsAsync fails on a snapshot: the watch must resume, not start over.
        List<LeaseEvent> events = await watch.EventsAsync(2, TimeSpan.FromSeconds(20));
        Assert.Equal(["Removed 198.18.1.0/24", "Added 198.18.3.0/24"], events.Select(e => $"{e.Type} {e.Lease.Subnet}"));
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("Lease watch on", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WatchLeasesAsync_HistoryCompactedWhileDisconnected_SendsNewSnapshot()
    {
        await etcd.PutAsync(Key("198.18.1.0-24"), LeaseAttrsJson.EncodeToString(Node(1)));

        // A fixed 3 s reconnect delay leaves time to restart etcd, change leases and compact before the watch returns.
        var logger = new RecordingLogger<EtcdLeaseStore>();
        using EtcdLeaseStore store = Store(etcd, _prefix, logger: logger, backoff: TimeSpan.FromSeconds(3));
        await using var watch = new WatchReader(store);
        Assert.Single((await watch.NextAsync()).Snapshot!);

        etcd.Kill();
        await etcd.StartAsync();
        await etcd.DeleteAsync(Key("198.18.1.0-24"));
        await etcd.PutAsync(Key("198.18.4.0-24"), LeaseAttrsJson.EncodeToString(Node(4)));
        long revision = await etcd.PutAsync(Key("198.18.5.0-24"), LeaseAttrsJson.EncodeToString(Node(5)));
        await etcd.CompactAsync(revision);

        LeaseWatchBatch batch = await watch.NextAsync(TimeSpan.FromSeconds(20));
        Assert.True(batch.IsSnapshot, "after compaction the watch must list again");
        Assert.Contains(logger.Entries, e => e.Message.Contains("compacted its history", StringComparison.Ordinal));
        Assert.Equal(
            [Ip4Net.Parse("198.18.4.0/24"), Ip4Net.Parse("198.18.5.0/24")],
            batch.Snapshot!.Select(l => l.Subnet!.Value).OrderBy(s => s.Address));

        // And it goes on watching from the new snapshot.
        await etcd.PutAsync(Key("198.18.6.0-24"), LeaseAttrsJson.EncodeToString(Node(6)));
        Assert.Equal(Ip4Net.Parse("198.18.6.0/24"), Assert.Single(await watch.EventsAsync(1)).Lease.Subnet);
    }

    [Fact]
    public async Task RenewLeaseAsync_EtcdDownForAMoment_RetriesUntilItIsBack()
    {
        using EtcdLeaseStore store = Store(etcd, _prefix, TimeSpan.FromMinutes(5));
        Lease lease = await store.AcquireLeaseAsync(new LeaseRequest(Config("198.18.0.0/16", 24), Node(7)), CancellationToken.None);

        etcd.Kill();
        Task<Lease> renew = store.RenewLeaseAsync(lease, CancellationToken.None);
        await Task.Delay(1500);
        Assert.False(renew.IsCompleted, "renew returned while etcd was down");
        await etcd.StartAsync();

        Lease renewed = await renew.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(lease.Subnet, renewed.Subnet);
        Assert.NotNull(await etcd.GetAsync(Key(lease.Key)));
    }
}
