using System.Net;
using Flannel.Core.Config;
using Flannel.Core.Leases;
using Flannel.Core.Net;
using Flanneld.Leases.Etcd;
using Flanneld.Tests.Fixtures;
using Microsoft.Extensions.Logging;
using static Flanneld.Tests.Leases.Etcd.EtcdTestKit;

namespace Flanneld.Tests.Leases.Etcd;

public sealed class EtcdLeaseStoreTests(EtcdFixture etcd) : IClassFixture<EtcdFixture>
{
    private readonly string _prefix = EtcdFixture.NewPrefix();

    [Fact]
    public async Task AcquireLeaseAsync_EmptyNetwork_WritesUpstreamKeyAndValueWithTtl()
    {
        using EtcdLeaseStore store = Store(etcd, _prefix, TimeSpan.FromMinutes(10));
        NetConfig config = Config("198.18.0.0/16", 24);

        Lease lease = await store.AcquireLeaseAsync(new LeaseRequest(config, Node(1)), CancellationToken.None);

        Assert.NotNull(lease.Subnet);
        Assert.True(SubnetAllocator.IsCompatible(config, lease.Subnet.Value));
        Assert.Null(lease.IPv6Subnet);
        string key = $"{_prefix}/subnets/{Ip4.Format(lease.Subnet.Value.Address)}-24";
        Mvccpb.KeyValue? kv = await etcd.GetAsync(key);
        Assert.NotNull(kv);
        Assert.Equal("{\"PublicIP\":\"192.0.2.1\",\"PublicIPv6\":null,\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:00:00:01\"}}", kv.Value.ToStringUtf8());
        Assert.NotEqual(0, kv.Lease);
        long ttl = await etcd.TtlAsync(kv.Lease);
        Assert.InRange(ttl, 590, 600);
        Assert.NotNull(lease.Expiration);
        Assert.InRange(lease.Expiration.Value - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(590), TimeSpan.FromSeconds(601));
        Assert.Equal(kv.ModRevision, lease.Revision);
    }

    [Fact]
    public async Task AcquireLeaseAsync_DualStack_WritesCombinedKey()
    {
        using EtcdLeaseStore store = Store(etcd, _prefix);
        NetConfig config = DualStack("198.18.0.0/16", 24, "2001:db8::/48", 64);
        LeaseAttrs attrs = Node(2) with { PublicIPv6 = IPAddress.Parse("2001:db8:ffff::2") };

        Lease lease = await store.AcquireLeaseAsync(new LeaseRequest(config, attrs), CancellationToken.None);

        Assert.NotNull(lease.Subnet);
        Assert.NotNull(lease.IPv6Subnet);
        Assert.True(SubnetAllocator.IsCompatible(config, lease));
        Mvccpb.KeyValue? kv = await etcd.GetAsync($"{_prefix}/subnets/{SubnetKey.Format(lease.Subnet, lease.IPv6Subnet)}");
        Assert.NotNull(kv);
        Assert.Contains("&2001:db8:0:", kv.Key.ToStringUtf8(), StringComparison.Ordinal);
        Assert.Contains("\"PublicIPv6\":\"2001:db8:ffff::2\"", kv.Value.ToStringUtf8(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AcquireLeaseAsync_RestartWithSamePublicIp_KeepsSubnetAndUpdatesAttrs()
    {
        NetConfig config = Config("198.18.0.0/16", 24);
        Lease first;
        using (EtcdLeaseStore before = Store(etcd, _prefix))
        {
            first = await before.AcquireLeaseAsync(new LeaseRequest(config, Node(3)), CancellationToken.None);
        }

        Mvccpb.KeyValue? old = await etcd.GetAsync($"{_prefix}/subnets/{first.Key}");
        using EtcdLeaseStore after = Store(etcd, _prefix);
        Lease second = await after.AcquireLeaseAsync(new LeaseRequest(config, Node(3, "aa:bb:cc:00:00:99")), CancellationToken.None);

        Assert.Equal(first.Subnet, second.Subnet);
        Mvccpb.KeyValue? kv = await etcd.GetAsync($"{_prefix}/subnets/{second.Key}");
        Assert.NotNull(kv);
        Assert.Contains("aa:bb:cc:00:00:99", kv.Value.ToStringUtf8(), StringComparison.Ordinal);
        Assert.NotEqual(0, kv.Lease);
        Assert.NotEqual(old!.Lease, kv.Lease);
        Assert.Single(await etcd.GetPrefixAsync($"{_prefix}/subnets/"));
    }

    [Fact]
    public async Task AcquireLeaseAsync_OwnLeaseOutsideSubnetRange_DeletesItAndTakesAnother()
    {
        NetConfig config = Config("198.18.0.0/22", 24);

        // 198.18.0.0/24 is below SubnetMin: left over from a config with another SubnetMin.
        long grant = (await etcd.Leases.LeaseGrantAsync(new Etcdserverpb.LeaseGrantRequest { TTL = 60 })).ID;
        string stale = $"{_prefix}/subnets/198.18.0.0-24";
        await etcd.PutAsync(stale, LeaseAttrsJson.EncodeToString(Node(4)), grant);
        using EtcdLeaseStore store = Store(etcd, _prefix);

        Lease lease = await store.AcquireLeaseAsync(new LeaseRequest(config, Node(4)), CancellationToken.None);

        Assert.NotEqual(Ip4Net.Parse("198.18.0.0/24"), lease.Subnet);
        Assert.True(SubnetAllocator.IsCompatible(config, lease));
        Assert.Null(await etcd.GetAsync(stale));
    }

    [Fact]
    public async Task AcquireLeaseAsync_PreviousSubnetFree_ReusesIt()
    {
        using EtcdLeaseStore store = Store(etcd, _prefix);
        NetConfig config = Config("198.18.0.0/16", 24);

        // subnet.env writes the gateway address: 198.18.77.1/24.
        var request = new LeaseRequest(config, Node(5), PreviousSubnet: new Ip4Net(Ip4.Parse("198.18.77.1"), 24));
        Lease lease = await store.AcquireLeaseAsync(request, CancellationToken.None);

        Assert.Equal(Ip4Net.Parse("198.18.77.0/24"), lease.Subnet);
    }

    [Fact]
    public async Task AcquireLeaseAsync_PreviousSubnetTakenByAnother_PicksAFreeOne()
    {
        using EtcdLeaseStore store = Store(etcd, _prefix);
        NetConfig config = Config("198.18.0.0/16", 24);
        Lease other = await store.AcquireLeaseAsync(new LeaseRequest(config, Node(6), Ip4Net.Parse("198.18.78.0/24")), CancellationToken.None);
        Assert.Equal(Ip4Net.Parse("198.18.78.0/24"), other.Subnet);

        Lease mine = await store.AcquireLeaseAsync(new LeaseRequest(config, Node(7), Ip4Net.Parse("198.18.78.0/24")), CancellationToken.None);

        Assert.NotEqual(other.Subnet, mine.Subnet);
        Assert.True(SubnetAllocator.IsCompatible(config, mine));
    }

    [Fact]
    public async Task AcquireLeaseAsync_NetworkFull_ThrowsOutOfSubnetsNamingNetwork()
    {
        using EtcdLeaseStore store = Store(etcd, _prefix);
        NetConfig config = Config("198.18.0.0/22", 24);
        var subnets = new HashSet<Ip4Net>();
        for (int host = 10; host < 13; host++)
        {
            Lease lease = await store.AcquireLeaseAsync(new LeaseRequest(config, Node(host)), CancellationToken.None);
            Assert.True(subnets.Add(lease.Subnet!.Value));
        }

        var error = await Assert.ThrowsAsync<OutOfSubnetsException>(() => store.AcquireLeaseAsync(new LeaseRequest(config, Node(13)), CancellationToken.None));
        Assert.Contains("out of subnets: all 3 subnets of 198.18.0.0/22 with SubnetLen 24", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RenewLeaseAsync_TtlLease_KeepsEtcdLeaseAliveWithoutRewritingKey()
    {
        using EtcdLeaseStore store = Store(etcd, _prefix, TimeSpan.FromSeconds(6));
        NetConfig config = Config("198.18.0.0/16", 24);
        Lease lease = await store.AcquireLeaseAsync(new LeaseRequest(config, Node(20)), CancellationToken.None);
        Mvccpb.KeyValue before = (await etcd.GetAsync($"{_prefix}/subnets/{lease.Key}"))!;
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.InRange(await etcd.TtlAsync(before.Lease), 1, 4);

        Lease renewed = await store.RenewLeaseAsync(lease, CancellationToken.None);

        Mvccpb.KeyValue after = (await etcd.GetAsync($"{_prefix}/subnets/{lease.Key}"))!;
        Assert.Equal(before.ModRevision, after.ModRevision);
        Assert.Equal(before.Lease, after.Lease);
        Assert.InRange(await etcd.TtlAsync(after.Lease), 5, 6);
        Assert.True(renewed.Expiration > lease.Expiration);
        Assert.Equal(lease.Subnet, renewed.Subnet);

        // Renewing again and again keeps the key past its original TTL.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        await store.RenewLeaseAsync(renewed, CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.NotNull(await etcd.GetAsync($"{_prefix}/subnets/{lease.Key}"));
    }

    [Fact]
    public async Task AcquireLeaseAsync_LeaseExpired_AnotherNodeReclaimsSubnet()
    {
        using EtcdLeaseStore store = Store(etcd, _prefix, TimeSpan.FromSeconds(2));
        using EtcdLeaseStore longLived = Store(etcd, _prefix);
        NetConfig config = Config("198.18.0.0/22", 24);
        Lease shortLived = await store.AcquireLeaseAsync(new LeaseRequest(config, Node(30)), CancellationToken.None);
        await longLived.AcquireLeaseAsync(new LeaseRequest(config, Node(31)), CancellationToken.None);
        await longLived.AcquireLeaseAsync(new LeaseRequest(config, Node(32)), CancellationToken.None);
        await Assert.ThrowsAsync<OutOfSubnetsException>(() => longLived.AcquireLeaseAsync(new LeaseRequest(config, Node(33)), CancellationToken.None));

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await etcd.GetAsync($"{_prefix}/subnets/{shortLived.Key}") is not null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the 2 s lease did not expire within 10 s");
            await Task.Delay(200);
        }

        Lease reclaimed = await longLived.AcquireLeaseAsync(new LeaseRequest(config, Node(33)), CancellationToken.None);
        Assert.Equal(shortLived.Subnet, reclaimed.Subnet);
    }

    [Fact]
    public async Task RenewLeaseAsync_KeyDeleted_CreatesItAgainWhileFree()
    {
        using EtcdLeaseStore store = Store(etcd, _prefix, TimeSpan.FromMinutes(5));
        Lease lease = await store.AcquireLeaseAsync(new LeaseRequest(Config("198.18.0.0/16", 24), Node(40)), CancellationToken.None);
        await etcd.DeleteAsync($"{_prefix}/subnets/{lease.Key}");

        Lease renewed = await store.RenewLeaseAsync(lease, CancellationToken.None);

        Assert.Equal(lease.Subnet, renewed.Subnet);
        Mvccpb.KeyValue? kv = await etcd.GetAsync($"{_prefix}/subnets/{lease.Key}");
        Assert.NotNull(kv);
        Assert.NotEqual(0, kv.Lease);
    }

    [Fact]
    public async Task RenewLeaseAsync_KeyTakenByAnotherNode_Throws()
    {
        using EtcdLeaseStore store = Store(etcd, _prefix, TimeSpan.FromMinutes(5));
        Lease lease = await store.AcquireLeaseAsync(new LeaseRequest(Config("198.18.0.0/16", 24), Node(41)), CancellationToken.None);
        await etcd.PutAsync($"{_prefix}/subnets/{lease.Key}", LeaseAttrsJson.EncodeToString(Node(42)));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => store.RenewLeaseAsync(lease, CancellationToken.None));
        Assert.Contains("192.0.2.42", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AcquireLeaseAsync_Reservation_HonouredForItsNodeAndNeverGivenToOthers()
    {
        NetConfig config = Config("198.18.0.0/22", 24);
        string reservedKey = $"{_prefix}/subnets/198.18.2.0-24";
        await etcd.PutAsync(reservedKey, LeaseAttrsJson.EncodeToString(Node(50)));
        using EtcdLeaseStore store = Store(etcd, _prefix, TimeSpan.FromMinutes(5));

        // Other nodes fill the rest of the network; none of them gets the reserved subnet.
        Lease a = await store.AcquireLeaseAsync(new LeaseRequest(config, Node(51), Ip4Net.Parse("198.18.2.0/24")), CancellationToken.None);
        Lease b = await store.AcquireLeaseAsync(new LeaseRequest(config, Node(52)), CancellationToken.None);
        Assert.DoesNotContain(Ip4Net.Parse("198.18.2.0/24"), new[] { a.Subnet, b.Subnet });
        await Assert.ThrowsAsync<OutOfSubnetsException>(() => store.AcquireLeaseAsync(new LeaseRequest(config, Node(53)), CancellationToken.None));

        // The reserved node gets it, with its new attributes, and still without a TTL.
        Lease reserved = await store.AcquireLeaseAsync(new LeaseRequest(config, Node(50, "aa:bb:cc:00:00:50")), CancellationToken.None);
        Assert.Equal(Ip4Net.Parse("198.18.2.0/24"), reserved.Subnet);
        Assert.True(reserved.IsReservation);
        Mvccpb.KeyValue kv = (await etcd.GetAsync(reservedKey))!;
        Assert.Equal(0, kv.Lease);
        Assert.Contains("aa:bb:cc:00:00:50", kv.Value.ToStringUtf8(), StringComparison.Ordinal);

        // Renewing a reservation leaves it as it is.
        Lease renewed = await store.RenewLeaseAsync(reserved, CancellationToken.None);
        Assert.True(renewed.IsReservation);
        Mvccpb.KeyValue afterRenew = (await etcd.GetAsync(reservedKey))!;
        Assert.Equal(0, afterRenew.Lease);
        Assert.Equal(kv.ModRevision, afterRenew.ModRevision);
    }

    [Fact]
    public async Task AcquireLeaseAsync_ReservationOutsideSubnetRange_ThrowsConfigErrorAndKeepsIt()
    {
        string reservedKey = $"{_prefix}/subnets/198.18.0.0-24";
        await etcd.PutAsync(reservedKey, LeaseAttrsJson.EncodeToString(Node(55)));
        using EtcdLeaseStore store = Store(etcd, _prefix);

        var error = await Assert.ThrowsAsync<ConfigException>(() => store.AcquireLeaseAsync(new LeaseRequest(Config("198.18.0.0/22", 24), Node(55)), CancellationToken.None));

        Assert.Contains(reservedKey, error.Message, StringComparison.Ordinal);
        Assert.NotNull(await etcd.GetAsync(reservedKey));
    }

    [Fact]
    public async Task AcquireLeaseAsync_TwoHundredConcurrentNodes_GetDistinctSubnets()
    {
        NetConfig config = Config("198.18.0.0/16", 24);
        var logger = new RecordingLogger<EtcdLeaseStore>();
        EtcdLeaseStore[] stores = [.. Enumerable.Range(0, 10).Select(_ => Store(etcd, _prefix, logger: logger))];
        try
        {
            Lease[] leases = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
                stores[i % stores.Length].AcquireLeaseAsync(
                    new LeaseRequest(config, new LeaseAttrs(IPAddress.Parse($"192.0.{2 + (i / 250)}.{1 + (i % 250)}"), null, "vxlan")),
                    CancellationToken.None)));

            Assert.Equal(200, leases.Select(l => l.Subnet).Distinct().Count());
            Assert.All(leases, l => Assert.True(SubnetAllocator.IsCompatible(config, l)));
            Assert.Equal(200, (await etcd.GetPrefixAsync($"{_prefix}/subnets/")).Count);

            // 200 random picks among 255 subnets collide for sure: the losers must have started over, and won.
            Assert.Contains(logger.Entries, e => e.Message.Contains("starting over with a fresh list", StringComparison.Ordinal));
        }
        finally
        {
            foreach (EtcdLeaseStore store in stores)
            {
                store.Dispose();
            }
        }
    }

    [Fact]
    public async Task AcquireLeaseAsync_ConcurrentDualStackNodes_GetDistinctIpv4AndIpv6Subnets()
    {
        // 15 IPv6 subnets for 15 nodes while IPv4 has plenty: IPv6 collisions under different IPv4 keys are likely.
        NetConfig config = DualStack("198.18.0.0/16", 24, "2001:db8::/60", 64);
        using EtcdLeaseStore store = Store(etcd, _prefix);

        Lease[] leases = await Task.WhenAll(Enumerable.Range(1, 15).Select(i =>
            store.AcquireLeaseAsync(new LeaseRequest(config, Node(i) with { PublicIPv6 = IPAddress.Parse($"2001:db8:ffff::{i}") }), CancellationToken.None)));

        Assert.Equal(15, leases.Select(l => l.Subnet).Distinct().Count());
        Assert.Equal(15, leases.Select(l => l.IPv6Subnet).Distinct().Count());
        await Assert.ThrowsAsync<OutOfSubnetsException>(() =>
            store.AcquireLeaseAsync(new LeaseRequest(config, Node(16) with { PublicIPv6 = IPAddress.Parse("2001:db8:ffff::16") }), CancellationToken.None));
    }

    [Fact]
    public async Task GetStoredAttrsAsync_IPv4PublicIP_FindsThatNodesLease()
    {
        using EtcdLeaseStore store = Store(etcd, _prefix);
        NetConfig config = DualStack("198.18.0.0/16", 24, "2001:db8::/48", 64);
        for (int host = 71; host <= 73; host++)
        {
            LeaseAttrs attrs = Node(host, $"aa:bb:cc:00:00:{host}") with { PublicIPv6 = IPAddress.Parse($"2001:db8:ffff::{host}"), BackendV6Data = $"{{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:00:06:{host}\"}}" };
            await store.AcquireLeaseAsync(new LeaseRequest(config, attrs), CancellationToken.None);
        }

        LeaseAttrs? stored = await store.GetStoredAttrsAsync(IPAddress.Parse("192.0.2.72"), CancellationToken.None);

        Assert.NotNull(stored);
        Assert.Equal("{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:00:00:72\"}", stored.BackendData);
        Assert.Equal("{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:00:06:72\"}", stored.BackendV6Data);
        Assert.Null(await store.GetStoredAttrsAsync(IPAddress.Parse("192.0.2.79"), CancellationToken.None));
    }

    [Fact]
    public async Task GetStoredAttrsAsync_IPv6OnlyNodes_FindsEachByItsPublicIPv6()
    {
        // Every IPv6-only lease has PublicIP 0.0.0.0: only the PublicIPv6 tells this node's lease from the others'.
        using EtcdLeaseStore store = Store(etcd, _prefix);
        NetConfig config = NetConfigParser.Parse("""{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"2001:db8:100::/56","IPv6SubnetLen":64,"Backend":{"Type":"vxlan"}}""");
        for (int host = 1; host <= 3; host++)
        {
            var attrs = new LeaseAttrs(IPAddress.Any, IPAddress.Parse($"2001:db8:0:1::{host}"), "vxlan", null, $"{{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:00:06:0{host}\"}}");
            Lease lease = await store.AcquireLeaseAsync(new LeaseRequest(config, attrs), CancellationToken.None);
            Assert.Null(lease.Subnet);
        }

        Assert.Equal(3, (await etcd.GetPrefixAsync($"{_prefix}/subnets/0.0.0.0-0&")).Count);
        for (int host = 3; host >= 1; host--)
        {
            LeaseAttrs? stored = await store.GetStoredAttrsAsync(IPAddress.Parse($"2001:db8:0:1::{host}"), CancellationToken.None);
            Assert.NotNull(stored);
            Assert.Equal(IPAddress.Parse($"2001:db8:0:1::{host}"), stored.PublicIPv6);
            Assert.Equal($"{{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:00:06:0{host}\"}}", stored.BackendV6Data);
            Assert.Null(stored.BackendData);
        }

        Assert.Null(await store.GetStoredAttrsAsync(IPAddress.Parse("2001:db8:0:1::9"), CancellationToken.None));
    }

    [Fact]
    public async Task AcquireLeaseAsync_MalformedKeysPresent_SkipsThemWithOneWarningEach()
    {
        var logger = new RecordingLogger<EtcdLeaseStore>();
        using EtcdLeaseStore store = Store(etcd, _prefix, logger: logger);
        await etcd.PutAsync($"{_prefix}/subnets/not-a-subnet", "{}");
        await etcd.PutAsync($"{_prefix}/subnets/198.18.5.0-24", "not json");
        NetConfig config = Config("198.18.0.0/16", 24);

        await store.AcquireLeaseAsync(new LeaseRequest(config, Node(60)), CancellationToken.None);
        await store.AcquireLeaseAsync(new LeaseRequest(config, Node(61)), CancellationToken.None);

        var warnings = logger.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message).ToList();
        Assert.Single(warnings, w => w.Contains($"{_prefix}/subnets/not-a-subnet", StringComparison.Ordinal));
        Assert.Single(warnings, w => w.Contains($"{_prefix}/subnets/198.18.5.0-24", StringComparison.Ordinal));
    }

    [Fact]
    public void ConfigKey_DefaultPrefix_IsUpstreamKey()
    {
        using var store = new EtcdLeaseStore(new EtcdStoreOptions(), new RecordingLogger<EtcdLeaseStore>());
        Assert.Equal("/coreos.com/network/config", store.ConfigKey);
        Assert.Equal("/coreos.com/network/subnets/198.18.13.0-24", store.KeyOf(new Lease(Ip4Net.Parse("198.18.13.0/24"), null, Node(1))));
    }

    [Theory]
    [InlineData("127.0.0.1:2379", "--etcd-endpoints")]
    [InlineData("ftp://127.0.0.1:2379", "--etcd-endpoints")]
    public void Constructor_BadEndpoint_ThrowsNamingFlagAndValue(string endpoint, string flag)
    {
        var error = Assert.Throws<ArgumentException>(() => new EtcdLeaseStore(new EtcdStoreOptions { Endpoints = [endpoint] }, new RecordingLogger<EtcdLeaseStore>()));
        Assert.Contains(flag, error.Message, StringComparison.Ordinal);
        Assert.Contains(endpoint, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetNetworkConfigAsync_KeyMissing_ThrowsNamingKey()
    {
        using EtcdLeaseStore store = Store(etcd, _prefix);

        var error = await Assert.ThrowsAsync<NetworkConfigNotFoundException>(() => store.GetNetworkConfigAsync(CancellationToken.None));

        Assert.Equal($"{_prefix}/config", error.Key);
        Assert.StartsWith($"flannel config not found in etcd store at {_prefix}/config", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AcquireLeaseAsync_NoEtcdListening_FailsOverToNextEndpoint()
    {
        // The default endpoint list starts with a port that is usually closed (4001): the store must move on.
        using var store = new EtcdLeaseStore(
            new EtcdStoreOptions { Endpoints = ["http://127.0.0.1:1", etcd.Endpoint], Prefix = _prefix },
            new RecordingLogger<EtcdLeaseStore>());

        Lease lease = await store.AcquireLeaseAsync(new LeaseRequest(Config("198.18.0.0/16", 24), Node(70)), CancellationToken.None);

        Assert.NotNull(await etcd.GetAsync($"{_prefix}/subnets/{lease.Key}"));
    }
}
